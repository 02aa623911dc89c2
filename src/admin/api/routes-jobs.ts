/** The JSON API's job routes: search, detail, update, single-job actions and bulk actions by filter. */
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { JsonValue } from '../../core/domain/json.js'
import type { AdminContext } from '../context.js'
import { AdminHttpError } from '../errors.js'
import { type ApiFilterFields, toApiJobFilter } from '../filter.js'
import { actOnFilter, actOnJobOrExplain, JOB_ACTIONS, type JobAction } from '../operations/job-actions.js'
import { enqueueJob, findJob, findNamedJob, searchJobs, updateJob } from '../operations/jobs.js'
import { jobDto } from './dto.js'
import {
  filterBodySchema,
  idParams,
  jobEnqueueSchema,
  jobPatchSchema,
  keyQuerySchema,
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

  registerSingleJobRoutes(api, ctx, {
    path: '/jobs/:id',
    params: idParams,
    what: '',
    resolve: async (request) => (request.params as { id: string }).id,
  })
  registerSingleJobRoutes(api, ctx, {
    path: '/jobs/by-key',
    querystring: keyQuerySchema,
    what: ' by name: the job holding the unique key, else its newest finished one',
    resolve: async (request) => {
      const { key, kind } = request.query as { key: string; kind?: string }
      return (await findNamedJob(ctx.queue, key, kind)).id
    },
  })

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

/** How single-job routes find their job: by id, or by name. */
interface SingleJobRoutes {
  readonly path: string
  readonly params?: object
  readonly querystring?: object
  /** Added to each summary. */
  readonly what: string
  /** The id of the job the request means (throws the 404 or 409 when there is none). */
  readonly resolve: (request: FastifyRequest) => Promise<string>
}

/** Registers detail, update, single actions and delete at `routes.path`. */
function registerSingleJobRoutes(api: FastifyInstance, ctx: AdminContext, routes: SingleJobRoutes): void {
  const { path, params, querystring, what } = routes
  const conflict = what === '' ? [] : [409]
  api.get(
    path,
    {
      schema: documented({
        summary: `One job with its attempts, errors and logs${what}`,
        tags: ['jobs'],
        ...(params ? { params } : {}),
        ...(querystring ? { querystring } : {}),
        response: { 200: jobResponse, ...errorResponses(404, ...conflict) },
      }),
    },
    async (request) => ({ job: jobDto(await findJob(ctx.queue, await routes.resolve(request))) }),
  )

  api.patch<{ Body: JobPatchBody }>(
    path,
    {
      schema: documented({
        summary: `Change a waiting or paused job: run time, priority, payload (validated with its schema), workflow state, its schedule’s expression${what}`,
        tags: ['jobs'],
        ...(params ? { params } : {}),
        ...(querystring ? { querystring } : {}),
        body: jobPatchSchema,
        response: { 200: jobResponse, ...errorResponses(403, 404, 409, 413, 415, 422) },
      }),
    },
    async (request) => {
      const { runAt, priority, payload, workflowState, expression } = request.body
      const job = await updateJob(ctx, await routes.resolve(request), {
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
    api.post(
      `${path}/${action}`,
      {
        schema: documented({
          summary: `${SUMMARY[action]}${what}`,
          tags: ['jobs'],
          ...(params ? { params } : {}),
          ...(querystring ? { querystring } : {}),
          response: { 200: jobResponse, ...errorResponses(403, 404, 409) },
        }),
      },
      async (request) => {
        const id = await routes.resolve(request)
        await actOnJobOrExplain(ctx.queue, action, id)
        return { job: jobDto(await findJob(ctx.queue, id)) }
      },
    )
  }

  api.delete(
    path,
    {
      schema: documented({
        summary: `${SUMMARY.delete}${what}`,
        tags: ['jobs'],
        ...(params ? { params } : {}),
        ...(querystring ? { querystring } : {}),
        response: { 200: countSchema, ...errorResponses(403, 404, 409) },
      }),
    },
    async (request) => {
      await actOnJobOrExplain(ctx.queue, 'delete', await routes.resolve(request))
      return { count: 1 }
    },
  )
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
