/** The JSON API's job routes: search, detail, update, single-job actions and bulk actions by filter. */
import type { FastifyInstance } from 'fastify'
import type { JsonValue } from '../../core/domain/json.js'
import type { AdminContext } from '../context.js'
import { AdminHttpError } from '../errors.js'
import { type ApiFilterFields, toApiJobFilter } from '../filter.js'
import { actOnFilter, actOnJobOrExplain, JOB_ACTIONS, type JobAction } from '../operations/job-actions.js'
import { enqueueJob, findJob, searchJobs, updateJob } from '../operations/jobs.js'
import { jobDto } from './dto.js'
import {
  filterBodySchema,
  idParams,
  jobEnqueueSchema,
  jobPatchSchema,
  searchQuerySchema,
} from './request-schemas.js'
import { countSchema, documented, errorResponses, jobSchema } from './schemas.js'

interface SearchQuery extends Omit<ApiFilterFields, 'payload' | 'states' | 'ids'> {
  readonly payload?: string
  readonly cursor?: string
  readonly limit: number
}

interface JobEnqueueBody {
  readonly kind: string
  readonly payload: JsonValue
  readonly options?: Record<string, unknown> & { readonly runAt?: string }
}

interface JobPatchBody {
  readonly runAt?: string
  readonly priority?: number
  readonly payload?: JsonValue
  readonly workflowState?: JsonValue | null
  readonly expression?: string
}

const jobResponse = { type: 'object', required: ['job'], properties: { job: jobSchema } } as const

const enqueuedResponse = {
  type: 'object',
  required: ['job', 'duplicate'],
  properties: {
    job: jobSchema,
    duplicate: { type: 'boolean', description: 'true: the unique key matched this existing job' },
  },
} as const

const SINGLE_ACTIONS: readonly Exclude<JobAction, 'delete'>[] = ['retry', 'cancel', 'run', 'pause', 'resume']

const SUMMARY: Readonly<Record<JobAction, string>> = {
  retry: 'Retry: make a finished or waiting job available now',
  run: 'Run now: make a waiting job available now',
  cancel: 'Cancel a waiting or running job',
  delete: 'Delete a job that is not running',
  pause: 'Pause a waiting job: it is not run until resumed (it keeps its run time and unique key)',
  resume: 'Resume a paused job: scheduled or available again by its run time',
}

/** Registers the job routes on the API scope. */
export function registerJobRoutes(api: FastifyInstance, ctx: AdminContext): void {
  api.get<{ Querystring: SearchQuery }>(
    '/jobs',
    {
      schema: documented({
        summary: 'Search jobs, newest first, one keyset page at a time',
        tags: ['jobs'],
        querystring: searchQuerySchema,
        response: {
          200: {
            type: 'object',
            required: ['jobs', 'nextCursor'],
            properties: {
              jobs: { type: 'array', items: jobSchema },
              nextCursor: {
                type: ['string', 'null'],
                description: 'cursor of the next page; null on the last',
              },
            },
          },
          ...errorResponses(),
        },
      }),
    },
    async (request) => {
      const { cursor, limit, payload, ...fields } = request.query
      const filter = toApiJobFilter({
        ...fields,
        ...(payload !== undefined ? { payload: parseJson(payload) } : {}),
      })
      const page = await searchJobs(ctx.queue, filter, { limit, before: cursor })
      return { jobs: page.jobs.map(jobDto), nextCursor: page.nextCursor }
    },
  )

  api.post<{ Body: JobEnqueueBody }>(
    '/jobs',
    {
      schema: documented({
        summary:
          'Enqueue a job: payload validated with its kind’s schema; idempotent through `options.uniqueKey`',
        tags: ['jobs'],
        body: jobEnqueueSchema,
        response: {
          201: { ...enqueuedResponse, description: 'the job was stored' },
          200: { ...enqueuedResponse, description: 'a job with this unique key waits or runs: that job' },
          ...errorResponses(403, 413, 415, 422),
        },
      }),
    },
    async (request, reply) => {
      const { kind, payload, options } = request.body
      const { runAt, ...rest } = options ?? {}
      const result = await enqueueJob(ctx, {
        kind,
        payload,
        options: { ...rest, ...(runAt !== undefined ? { runAt: Date.parse(runAt) } : {}) },
      })
      reply.code(result.duplicate ? 200 : 201)
      return { job: jobDto(result.job), duplicate: result.duplicate }
    },
  )

  api.get<{ Params: { id: string } }>(
    '/jobs/:id',
    {
      schema: documented({
        summary: 'One job with its attempts, errors and logs',
        tags: ['jobs'],
        params: idParams,
        response: { 200: jobResponse, ...errorResponses(404) },
      }),
    },
    async (request) => ({ job: jobDto(await findJob(ctx.queue, request.params.id)) }),
  )

  api.patch<{ Params: { id: string }; Body: JobPatchBody }>(
    '/jobs/:id',
    {
      schema: documented({
        summary:
          'Change a waiting or paused job: run time, priority, payload (validated with its schema), workflow state, its schedule’s expression',
        tags: ['jobs'],
        params: idParams,
        body: jobPatchSchema,
        response: { 200: jobResponse, ...errorResponses(403, 404, 409, 413, 415, 422) },
      }),
    },
    async (request) => {
      const { runAt, priority, payload, workflowState, expression } = request.body
      const job = await updateJob(ctx, request.params.id, {
        ...(runAt !== undefined ? { runAt: Date.parse(runAt) } : {}),
        ...(priority !== undefined ? { priority } : {}),
        ...(payload !== undefined ? { payload } : {}),
        ...(workflowState !== undefined ? { state: workflowState } : {}),
        ...(expression !== undefined ? { expression } : {}),
      })
      return { job: jobDto(job) }
    },
  )

  for (const action of SINGLE_ACTIONS) {
    api.post<{ Params: { id: string } }>(
      `/jobs/:id/${action}`,
      {
        schema: documented({
          summary: SUMMARY[action],
          tags: ['jobs'],
          params: idParams,
          response: { 200: jobResponse, ...errorResponses(403, 404, 409) },
        }),
      },
      async (request) => {
        await actOnJobOrExplain(ctx.queue, action, request.params.id)
        return { job: jobDto(await findJob(ctx.queue, request.params.id)) }
      },
    )
  }

  api.delete<{ Params: { id: string } }>(
    '/jobs/:id',
    {
      schema: documented({
        summary: SUMMARY.delete,
        tags: ['jobs'],
        params: idParams,
        response: { 200: countSchema, ...errorResponses(403, 404, 409) },
      }),
    },
    async (request) => {
      await actOnJobOrExplain(ctx.queue, 'delete', request.params.id)
      return { count: 1 }
    },
  )

  for (const action of JOB_ACTIONS) {
    api.post<{ Body: Omit<ApiFilterFields, 'state'> }>(
      `/jobs/actions/${action}`,
      {
        // No body is an empty filter, refused below with FILTER_REQUIRED rather than as malformed.
        preValidation: async (request) => {
          request.body ??= {}
        },
        schema: documented({
          summary: `${SUMMARY[action]}, for every job a filter selects (a filter is required)`,
          tags: ['jobs'],
          body: filterBodySchema,
          response: { 200: countSchema, ...errorResponses(403, 413, 415) },
        }),
      },
      async (request) => ({
        count: await actOnFilter(ctx.queue, action, toApiJobFilter(request.body ?? {})),
      }),
    )
  }
}

/** Parses the `payload` query parameter (JSON text), or answers 400 `INVALID_FILTER`. */
function parseJson(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue
  } catch {
    throw new AdminHttpError(
      400,
      'The query parameter "payload" is not valid JSON: give the JSON the payload must contain, e.g. {"to":"a@b.c"} (URL-encoded).',
      'INVALID_FILTER',
    )
  }
}
