/**
 * What the JSON API's routes accept: query strings, bodies and path parameters. Each object lists
 * its fields in `propertyNames`, so a misspelt field is an error instead of being dropped silently.
 */
import { JOB_STATES, PRIORITY_MAX, PRIORITY_MIN } from '../../core/domain/job.js'
import { ANY_JSON, JOB_ID, MISSED, NAME, STATE, scheduleJobOptions, strictObject, TIME } from './schemas.js'

/** A unique key, a job's name. */
const UNIQUE_KEY = { type: 'string', minLength: 1, maxLength: 512 } as const

/** The filter fields shared by the search's query string and the bulk actions' body. */
const filterFields = {
  queue: NAME,
  kind: NAME,
  schedule: NAME,
  key: {
    ...UNIQUE_KEY,
    description: 'the job of this name: the one holding this unique key, else its newest finished one',
  },
  uniqueKey: { ...UNIQUE_KEY, description: 'every job enqueued with this unique key' },
  q: { type: 'string', minLength: 1, maxLength: 200, description: 'text in the payload (case-insensitive)' },
  from: { type: 'string', maxLength: 40, description: 'created at or after this UTC time' },
  to: { type: 'string', maxLength: 40, description: 'created before this UTC time' },
} as const

/** Query string of `GET /jobs`. */
export const searchQuerySchema = strictObject({
  ...filterFields,
  state: { type: 'string', maxLength: 100, description: 'job states, comma-separated' },
  payload: {
    type: 'string',
    maxLength: 2000,
    description: 'JSON the payload must contain (jsonb containment), e.g. {"to":"a@b.c"}',
  },
  cursor: { ...JOB_ID, description: 'nextCursor of the previous page' },
  limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
})

/** Body of the bulk actions: the filter. */
export const filterBodySchema = strictObject({
  ...filterFields,
  states: { type: 'array', minItems: 1, maxItems: JOB_STATES.length, items: STATE },
  payload: { ...ANY_JSON, description: 'JSON the payload must contain (jsonb containment)' },
  ids: { type: 'array', minItems: 1, maxItems: 1000, items: JOB_ID },
})

/** Body of `PATCH /jobs/:id`. */
export const jobPatchSchema = {
  ...strictObject({
    runAt: TIME,
    priority: { type: 'integer', minimum: PRIORITY_MIN, maximum: PRIORITY_MAX },
    payload: { ...ANY_JSON, description: 'validated with the kind’s schema' },
    workflowState: {
      ...ANY_JSON,
      description: 'the workflow state the next run reads as ctx.state (null clears it)',
    },
    expression: {
      type: 'string',
      minLength: 1,
      maxLength: 1000,
      description:
        'new expression of the schedule that enqueued this job (later ticks follow it; the job keeps its run time)',
    },
  }),
  minProperties: 1,
} as const

/** Body of `POST /jobs`: a job to enqueue, its payload validated with the kind's definition. */
export const jobEnqueueSchema = strictObject(
  {
    kind: NAME,
    payload: { ...ANY_JSON, description: 'validated with the kind’s schema' },
    options: strictObject({
      ...scheduleJobOptions,
      runAt: TIME,
      delayMs: { type: 'integer', minimum: 0, description: 'run no earlier than this many ms from now' },
      uniqueKey: {
        type: 'string',
        minLength: 1,
        maxLength: 512,
        description:
          'skip (answer the existing job, 200) while a job of this kind with this key waits or runs',
      },
      dependsOn: { type: 'array', maxItems: 1000, items: JOB_ID },
      state: { ...ANY_JSON, description: 'initial workflow state' },
    }),
  },
  ['kind', 'payload'],
)

/** Body of `PUT /schedules/:name`. */
export const schedulePutSchema = strictObject(
  {
    expression: { type: 'string', minLength: 1, maxLength: 200, description: 'cron or @every/@after/@at' },
    kind: NAME,
    payload: ANY_JSON,
    timezone: { type: 'string', minLength: 1, maxLength: 64 },
    missed: MISSED,
    startAt: { ...TIME, description: 'first run at or after this time (not with @at)' },
    after: {
      ...NAME,
      description:
        'run after each successful run of this schedule (the expression must be @after <interval>)',
    },
    options: strictObject(scheduleJobOptions),
  },
  ['expression', 'kind'],
)

/** Path parameters of the job routes. */
export const idParams = strictObject({ id: JOB_ID }, ['id'])
/**
 * Query string of the job routes by name (in the query, not the path: a unique key may be 512
 * characters, and Fastify refuses path parameters over 100 by default).
 */
export const keyQuerySchema = strictObject(
  {
    key: { ...UNIQUE_KEY, description: 'the unique key the job was enqueued with (URL-encoded)' },
    kind: { ...NAME, description: 'the job’s kind; needed when jobs of several kinds hold the key' },
  },
  ['key'],
)
/** Path parameters of the queue routes. */
export const queueParams = strictObject({ queue: NAME }, ['queue'])
/** Path parameters of the schedule routes. */
export const nameParams = strictObject({ name: NAME }, ['name'])
