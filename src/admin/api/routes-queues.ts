/** The JSON API's queue and schedule routes. */
import type { FastifyInstance } from 'fastify'
import { JOB_STATES } from '../../core/domain/job.js'
import type { JsonValue } from '../../core/domain/json.js'
import type { MissedTickPolicy } from '../../core/ports/store.js'
import type { AdminContext } from '../context.js'
import { listOrphans, listQueues, setQueuePaused } from '../operations/queues.js'
import {
  deleteSchedule,
  findSchedule,
  listSchedules,
  putSchedule,
  type ScheduleInput,
} from '../operations/schedules.js'
import { orphansDto, scheduleDto } from './dto.js'
import { nameParams, queueParams, schedulePutSchema } from './request-schemas.js'
import { documented, errorResponses, queueSchema, scheduleSchema } from './schemas.js'

interface SchedulePutBody {
  readonly expression: string
  readonly kind: string
  readonly payload?: JsonValue
  readonly timezone?: string
  readonly missed?: MissedTickPolicy
  readonly startAt?: string
  readonly after?: string
  readonly options?: ScheduleInput['options']
}

const queueResponse = { type: 'object', required: ['queue'], properties: { queue: queueSchema } } as const
const scheduleResponse = {
  type: 'object',
  required: ['schedule'],
  properties: { schedule: scheduleSchema },
} as const

/** Registers the queue routes on the API scope. */
export function registerQueueRoutes(api: FastifyInstance, ctx: AdminContext): void {
  api.get(
    '/queues',
    {
      schema: documented({
        summary: 'Every queue: counts by state, paused flag, jobs per minute and lag',
        tags: ['queues'],
        response: {
          200: {
            type: 'object',
            required: ['queues'],
            properties: { queues: { type: 'array', items: queueSchema } },
          },
          ...errorResponses(),
        },
      }),
    },
    async () => ({ queues: await listQueues(ctx.queue, ctx.queue.clock.now(), ctx.sampleSize) }),
  )

  api.get(
    '/orphans',
    {
      schema: documented({
        summary:
          'Orphans: due waiting jobs (by queue and kind) and schedules whose queue and kind no live process serves (registered the kind with a worker for the queue)',
        tags: ['queues'],
        response: {
          200: {
            type: 'object',
            required: ['jobs', 'schedules'],
            properties: {
              jobs: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['queue', 'kind', 'count', 'oldestRunAt'],
                  properties: {
                    queue: { type: 'string' },
                    kind: { type: 'string' },
                    count: { type: 'integer' },
                    oldestRunAt: { type: 'string', format: 'date-time' },
                  },
                },
              },
              schedules: { type: 'array', items: scheduleSchema },
            },
          },
          ...errorResponses(),
        },
      }),
    },
    async () => {
      return orphansDto(await listOrphans(ctx.queue))
    },
  )

  for (const action of ['pause', 'resume'] as const) {
    api.post<{ Params: { queue: string } }>(
      `/queues/:queue/${action}`,
      {
        schema: documented({
          summary:
            action === 'pause'
              ? 'Pause a queue: workers in every process stop claiming its jobs'
              : 'Resume a paused queue',
          tags: ['queues'],
          params: queueParams,
          response: { 200: queueResponse, ...errorResponses(403) },
        }),
      },
      async (request) => {
        const name = request.params.queue
        await setQueuePaused(ctx.queue, name, action === 'pause')
        // The queue as it is now (without the sampled rates, which would read every queue's jobs).
        const queues = await listQueues(ctx.queue, ctx.queue.clock.now(), 0)
        const found = queues.find((q) => q.queue === name)
        const counts = Object.fromEntries(JOB_STATES.map((state) => [state, 0]))
        const empty = { queue: name, paused: action === 'pause', counts, total: 0 }
        return { queue: found ?? { ...empty, finishedPerMinute: null, failedPerMinute: null, lagMs: null } }
      },
    )
  }
}

/** Registers the schedule routes on the API scope. */
export function registerScheduleRoutes(api: FastifyInstance, ctx: AdminContext): void {
  api.get(
    '/schedules',
    {
      schema: documented({
        summary: 'Every schedule with its next and previous runs',
        tags: ['schedules'],
        response: {
          200: {
            type: 'object',
            required: ['schedules'],
            properties: { schedules: { type: 'array', items: scheduleSchema } },
          },
          ...errorResponses(),
        },
      }),
    },
    async () => ({ schedules: (await listSchedules(ctx)).map(scheduleDto) }),
  )

  api.get<{ Params: { name: string } }>(
    '/schedules/:name',
    {
      schema: documented({
        summary: 'One schedule',
        tags: ['schedules'],
        params: nameParams,
        response: { 200: scheduleResponse, ...errorResponses(404) },
      }),
    },
    async (request) => ({ schedule: scheduleDto(await findSchedule(ctx, request.params.name)) }),
  )

  api.put<{ Params: { name: string }; Body: SchedulePutBody }>(
    '/schedules/:name',
    {
      schema: documented({
        summary: 'Create or replace a schedule (the payload is validated with the kind’s schema)',
        tags: ['schedules'],
        params: nameParams,
        body: schedulePutSchema,
        response: {
          200: { ...scheduleResponse, description: 'replaced' },
          201: { ...scheduleResponse, description: 'created' },
          ...errorResponses(403, 413, 415, 422),
        },
      }),
    },
    async (request, reply) => {
      const { schedule, created } = await putSchedule(ctx, request.params.name, request.body)
      return reply.code(created ? 201 : 200).send({ schedule: scheduleDto(schedule) })
    },
  )

  api.delete<{ Params: { name: string } }>(
    '/schedules/:name',
    {
      schema: documented({
        summary: 'Delete a schedule (jobs it already enqueued stay)',
        tags: ['schedules'],
        params: nameParams,
        response: {
          200: { type: 'object', required: ['deleted'], properties: { deleted: { type: 'string' } } },
          ...errorResponses(403, 404),
        },
      }),
    },
    async (request) => {
      await deleteSchedule(ctx, request.params.name)
      return { deleted: request.params.name }
    },
  )
}
