/**
 * JSON schemas of the JSON API: what each route answers, and the pieces its requests are built of
 * (the request schemas are in `request-schemas.ts`). The routes declare them (Fastify
 * validates requests with them) and the OpenAPI document is built from the same objects. Request
 * objects list their fields in `propertyNames`, so a misspelt field is an error instead of being
 * dropped silently.
 */
import type { FastifySchema } from 'fastify'
import { JOB_STATES, PRIORITY_MAX, PRIORITY_MIN } from '../../core/domain/job.js'

/** A queue, kind or schedule name as the core accepts it. */
export const NAME = {
  type: 'string',
  minLength: 1,
  maxLength: 128,
  pattern: '^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$',
} as const

/** A job id: a decimal string. */
export const JOB_ID = { type: 'string', pattern: '^[1-9][0-9]{0,18}$', description: 'job id' } as const

export const TIME = { type: 'string', format: 'date-time', description: 'UTC time, ISO 8601' } as const
export const NULLABLE_TIME = { type: ['string', 'null'], format: 'date-time' } as const
export const STATE = { type: 'string', enum: JOB_STATES } as const
export const ANY_JSON = { description: 'any JSON value' } as const
const STRINGS = { type: 'array', items: { type: 'string' } } as const

/** An object schema that refuses fields it does not list. */
export function strictObject<P extends Record<string, unknown>>(
  properties: P,
  required: readonly (keyof P & string)[] = [],
) {
  return {
    type: 'object',
    properties,
    required,
    propertyNames: { enum: Object.keys(properties) },
  } as const
}

/** The one shape of every error the API answers. */
export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'stable machine-readable code, e.g. JOB_NOT_FOUND' },
        message: { type: 'string', description: 'what is wrong and how to fix it' },
        details: ANY_JSON,
      },
    },
  },
} as const

const attemptError = {
  type: 'object',
  required: ['attempt', 'at', 'name', 'message'],
  properties: {
    attempt: { type: 'integer' },
    at: TIME,
    name: { type: 'string' },
    message: { type: 'string' },
    stack: { type: 'string' },
  },
} as const

const runLog = {
  type: 'object',
  required: ['attempt', 'lines'],
  properties: {
    attempt: { type: 'integer' },
    lines: {
      type: 'array',
      items: {
        type: 'object',
        required: ['at', 'level', 'message'],
        properties: {
          at: TIME,
          level: { type: 'string' },
          message: { type: 'string' },
          fields: { type: 'object', additionalProperties: true },
        },
      },
    },
    dropped: { type: 'integer' },
  },
} as const

/** A job as the API shows it (times as ISO strings). */
export const jobSchema = {
  type: 'object',
  required: [
    'id',
    'kind',
    'queue',
    'state',
    'payload',
    'priority',
    'runAt',
    'createdAt',
    'attempt',
    'runs',
    'maxAttempts',
    'errors',
  ],
  properties: {
    id: JOB_ID,
    kind: { type: 'string' },
    queue: { type: 'string' },
    state: STATE,
    payload: ANY_JSON,
    priority: { type: 'integer' },
    runAt: TIME,
    createdAt: TIME,
    attempt: { type: 'integer' },
    runs: { type: 'integer', description: 'runs started, snoozed ones included' },
    maxAttempts: { type: 'integer' },
    timeoutMs: { type: 'integer' },
    weight: { type: 'integer' },
    uniqueKey: { type: ['string', 'null'] },
    groupKey: { type: ['string', 'null'] },
    groupMode: { type: 'string', enum: ['fifo', 'release'] },
    groupLockTimeoutMs: { type: ['integer', 'null'] },
    dependsOn: STRINGS,
    metadata: { type: 'object', additionalProperties: true },
    tags: STRINGS,
    workflowState: ANY_JSON,
    errors: { type: 'array', items: attemptError },
    attemptedAt: NULLABLE_TIME,
    attemptedBy: { type: ['string', 'null'] },
    finishedAt: NULLABLE_TIME,
    scheduleName: { type: ['string', 'null'] },
    scheduleTick: NULLABLE_TIME,
    traceContext: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
    logs: { type: 'array', items: runLog, description: 'what the last runs logged (job detail only)' },
  },
} as const

/** The options each tick's job gets. */
export const scheduleJobOptions = {
  queue: NAME,
  priority: { type: 'integer', minimum: PRIORITY_MIN, maximum: PRIORITY_MAX },
  maxAttempts: { type: 'integer', minimum: 1, maximum: 10_000 },
  timeoutMs: { type: 'integer', minimum: 0, maximum: 2_147_483_647 },
  weight: { type: 'integer', minimum: 1, maximum: 10_000 },
  groupKey: { type: 'string', minLength: 1, maxLength: 512 },
  groupMode: {
    type: 'string',
    enum: ['fifo', 'release'],
    description: 'fifo: the group runs one job at a time in order; release: see GroupMode (needs groupKey)',
  },
  groupLockTimeoutMs: {
    type: 'integer',
    minimum: 1,
    maximum: 2_147_483_647,
    description: 'running this long, the job no longer holds its group (needs groupKey)',
  },
  metadata: { type: 'object', additionalProperties: true },
  tags: { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 128 } },
} as const

export const MISSED = { type: 'string', enum: ['runOnce', 'skip'] } as const

/** A schedule as the API shows it. */
export const scheduleSchema = {
  type: 'object',
  required: ['name', 'expression', 'timezone', 'kind', 'payload', 'options', 'missed', 'nextRunAt'],
  properties: {
    name: { type: 'string' },
    expression: { type: 'string' },
    timezone: { type: ['string', 'null'] },
    kind: { type: 'string' },
    payload: ANY_JSON,
    options: {
      type: 'object',
      properties: {
        queue: { type: 'string' },
        priority: { type: 'integer' },
        maxAttempts: { type: 'integer' },
        timeoutMs: { type: 'integer' },
        weight: { type: 'integer' },
        groupKey: { type: ['string', 'null'] },
        groupMode: { type: 'string', enum: ['fifo', 'release'] },
        groupLockTimeoutMs: { type: ['integer', 'null'] },
        metadata: { type: 'object', additionalProperties: true },
        tags: STRINGS,
      },
    },
    missed: MISSED,
    startAt: NULLABLE_TIME,
    after: { type: ['string', 'null'], description: 'the schedule this one runs after' },
    nextRunAt: NULLABLE_TIME,
    lastTickAt: NULLABLE_TIME,
    lastSuccessAt: NULLABLE_TIME,
    createdAt: TIME,
    updatedAt: TIME,
  },
} as const

const estimate = {
  type: ['object', 'null'],
  required: ['value', 'atLeast'],
  properties: { value: { type: 'number' }, atLeast: { type: 'boolean' } },
} as const

/** One queue's numbers. */
export const queueSchema = {
  type: 'object',
  required: ['queue', 'paused', 'counts', 'total'],
  properties: {
    queue: { type: 'string' },
    paused: { type: 'boolean' },
    counts: {
      type: 'object',
      properties: Object.fromEntries(JOB_STATES.map((s) => [s, { type: 'integer' }])),
    },
    total: { type: 'integer' },
    finishedPerMinute: { ...estimate, description: 'jobs finished in the last minute (null: sampling off)' },
    failedPerMinute: estimate,
    lagMs: { ...estimate, description: 'how long the oldest due job has waited (null: none waiting)' },
  },
} as const

/** `{ count }` of a bulk action. */
export const countSchema = {
  type: 'object',
  required: ['count'],
  properties: { count: { type: 'integer', minimum: 0 } },
} as const

/** The error statuses a route may answer, each with the error shape. */
export function errorResponses(...statuses: readonly number[]): Record<number, typeof errorSchema> {
  return Object.fromEntries(
    [...new Set([400, 401, 414, 500, 503, ...statuses])].sort().map((s) => [s, errorSchema]),
  )
}

/** A route's schema with its OpenAPI summary and tags (Fastify ignores these keys; the document reads them). */
export function documented(
  schema: FastifySchema & { summary: string; tags: readonly string[] },
): FastifySchema {
  return schema
}
