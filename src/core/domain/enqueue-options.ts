import { MAX_TIMER_MS } from '../defaults.js'
import type { NewJob, TransactionHandle } from '../ports/store.js'
import { type BackoffFunction, DEFAULT_BACKOFF, resolveBackoff } from './backoff.js'
import { ConveyorError, InvalidArgumentError, InvalidOptionsError } from './errors.js'
import type { BackoffSpec, GroupMode } from './job.js'
import { PRIORITY_MAX, PRIORITY_MIN } from './job.js'
import type { JobDefinition } from './job-definition.js'
import { assertJsonValue, isStorableString, type JsonValue } from './json.js'
import {
  describe,
  describeBadItem,
  didYouMean,
  validateBackoffInput,
  validateGroupLockTimeout,
  validateGroupMode,
  validateName,
  validateOptionalInt,
  validateOptionalString,
  validateOptionalTime,
} from './validation.js'

/** Options for one enqueued job; each overrides the definition's default. */
export interface EnqueueOptions {
  /** Queue to put the job in. */
  readonly queue?: string
  /** Lower runs first; an integer from -32768 to 32767. */
  readonly priority?: number
  /** Run no earlier than this time (Date or epoch ms). Exclusive with `delayMs`. */
  readonly runAt?: Date | number
  /** Run no earlier than this many ms from now. Exclusive with `runAt`. */
  readonly delayMs?: number
  readonly maxAttempts?: number
  /** Per-attempt timeout in ms; 0 = none. */
  readonly timeoutMs?: number
  /** Capacity the job takes while running. */
  readonly weight?: number
  /** Skip this job if a waiting or running job of the same kind has this key. */
  readonly uniqueKey?: string
  /** Jobs with the same group key run one at a time, in enqueue order. */
  readonly groupKey?: string
  /** How the job waits for its group: `fifo` (default) or `release` (see `GroupMode`); needs `groupKey`. */
  readonly groupMode?: GroupMode
  /** Running this long (ms), the job no longer holds its group (default: as long as it runs); needs `groupKey`. */
  readonly groupLockTimeoutMs?: number
  /** Ids of jobs that must succeed before this one runs. */
  readonly dependsOn?: string | readonly string[]
  /** Free-form JSON metadata kept with the job. */
  readonly metadata?: Record<string, JsonValue>
  /** Labels for filtering. */
  readonly tags?: readonly string[]
  /** Initial workflow state handed to the first attempt. */
  readonly state?: JsonValue
  /** Retry policy for this job. */
  readonly backoff?: Partial<BackoffSpec>
  /** Enqueue inside the caller's open transaction: the job exists only if it commits. */
  readonly tx?: TransactionHandle
}

/** The options `enqueue` takes. */
export const ENQUEUE_OPTION_KEYS: ReadonlySet<string> = new Set([
  'queue',
  'priority',
  'runAt',
  'delayMs',
  'maxAttempts',
  'timeoutMs',
  'weight',
  'uniqueKey',
  'groupKey',
  'groupMode',
  'groupLockTimeoutMs',
  'dependsOn',
  'metadata',
  'tags',
  'state',
  'backoff',
  'tx',
])

const ID = /^[1-9][0-9]{0,18}$/

/** Longest `delayMs`: 1000 years, so that the due time stays within what both adapters store. */
const MAX_DELAY_MS = 31_557_600_000_000

/** Checks enqueue options and throws `InvalidOptionsError` naming the bad field and how to fix it. */
export function validateEnqueueOptions(options: unknown): EnqueueOptions {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidOptionsError(`Enqueue options must be an object; got ${describe(options)}.`)
  }
  for (const key of Object.keys(options)) {
    if (!ENQUEUE_OPTION_KEYS.has(key)) {
      throw new InvalidOptionsError(
        `Unknown enqueue option ${JSON.stringify(key)}${didYouMean(key, [...ENQUEUE_OPTION_KEYS])}. Known options: ${[...ENQUEUE_OPTION_KEYS].join(', ')}.`,
      )
    }
  }
  const o = options as Record<string, unknown>
  try {
    if (o.queue !== undefined) validateName(o.queue, 'queue')
    validateOptionalInt(o.priority, 'priority', PRIORITY_MIN, PRIORITY_MAX)
    validateOptionalInt(o.maxAttempts, 'maxAttempts', 1, 10_000)
    validateOptionalInt(o.timeoutMs, 'timeoutMs', 0, MAX_TIMER_MS)
    validateOptionalInt(o.weight, 'weight', 1, 10_000)
    validateOptionalString(o.uniqueKey, 'uniqueKey', 512)
    validateOptionalString(o.groupKey, 'groupKey', 512)
    validateGroupMode(o.groupMode, 'groupMode')
    validateOptionalInt(o.groupLockTimeoutMs, 'groupLockTimeoutMs', 1, MAX_TIMER_MS)
    for (const key of ['groupMode', 'groupLockTimeoutMs'] as const) {
      if (o[key] !== undefined && o.groupKey === undefined)
        throw new InvalidArgumentError(
          `${key} applies to jobs of a group: give groupKey too, or leave ${key} out.`,
        )
    }
    if (o.runAt !== undefined && o.delayMs !== undefined) {
      throw new InvalidArgumentError('Give either runAt or delayMs, not both.')
    }
    validateOptionalTime(o.runAt, 'runAt')
    if (
      o.delayMs !== undefined &&
      (typeof o.delayMs !== 'number' ||
        !Number.isFinite(o.delayMs) ||
        o.delayMs < 0 ||
        o.delayMs > MAX_DELAY_MS)
    ) {
      throw new InvalidArgumentError(
        `delayMs must be a number from 0 to ${MAX_DELAY_MS} (1000 years); got ${describe(o.delayMs)}.`,
      )
    }
    if (o.dependsOn !== undefined) {
      const ids = typeof o.dependsOn === 'string' ? [o.dependsOn] : o.dependsOn
      const isId = (id: unknown) => typeof id === 'string' && ID.test(id)
      if (!Array.isArray(ids) || !ids.every(isId)) {
        throw new InvalidArgumentError(
          `dependsOn must be a job id or an array of job ids (strings, as returned by enqueue); ${describeBadItem(o.dependsOn, 'dependsOn', isId)}.`,
        )
      }
    }
    if (o.metadata !== undefined) {
      if (typeof o.metadata !== 'object' || o.metadata === null || Array.isArray(o.metadata)) {
        throw new InvalidArgumentError(
          `metadata must be a plain object of JSON values; got ${describe(o.metadata)}.`,
        )
      }
      assertJsonValue(o.metadata, 'metadata')
    }
    if (o.tags !== undefined) {
      const isTag = (t: unknown) =>
        typeof t === 'string' && t.length > 0 && t.length <= 128 && isStorableString(t)
      if (!Array.isArray(o.tags) || !o.tags.every(isTag)) {
        throw new InvalidArgumentError(
          `tags must be an array of non-empty strings (at most 128 characters each, without \\u0000 or lone surrogates); ${describeBadItem(o.tags, 'tags', isTag)}.`,
        )
      }
    }
    if (o.state !== undefined) assertJsonValue(o.state, 'state')
    if (o.backoff !== undefined && typeof o.backoff === 'function') {
      throw new InvalidArgumentError(
        'backoff as a function can only be set on the job definition (functions are not stored with jobs).',
      )
    }
    validateBackoffInput(o.backoff)
    if (looksLikeConnectionPool(o.tx)) throw new InvalidArgumentError(poolAsTransactionMessage('tx'))
    if (
      o.tx !== undefined &&
      (typeof o.tx !== 'object' || o.tx === null || typeof (o.tx as TransactionHandle).query !== 'function')
    ) {
      throw new InvalidArgumentError(
        `tx must be a client inside an open transaction, with a query(text, values) method; got ${describe(o.tx)}. With Knex, Kysely, Drizzle, Prisma or postgres.js, pass the transaction through adaptKnexTransaction(trx), adaptKyselyTransaction(trx), adaptDrizzleTransaction(tx), adaptPrismaTransaction(tx) or adaptPostgresJsTransaction(sql) from conveyor-jobs/postgres.`,
      )
    }
  } catch (error) {
    if (error instanceof InvalidArgumentError || (error as { code?: string }).code === 'INVALID_PAYLOAD') {
      throw new InvalidOptionsError((error as Error).message, { cause: error })
    }
    if (!(error instanceof ConveyorError))
      throw new InvalidOptionsError(`Enqueue options could not be read: ${String(error)}.`, { cause: error })
    throw error
  }
  return options as EnqueueOptions
}

/**
 * True for a connection pool (a `pg.Pool`, or anything shaped like one: `connect()`, `end()` and a
 * `totalCount`): each query runs on whichever connection is free and commits on its own, so it can
 * never be the transaction a job must join.
 */
export function looksLikeConnectionPool(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return typeof v.connect === 'function' && typeof v.end === 'function' && typeof v.totalCount === 'number'
}

/** The error message for a pool passed where a transaction is expected (`field` names the argument). */
export function poolAsTransactionMessage(field: string): string {
  return `${field} is a connection pool (such as a pg.Pool), not a client inside an open transaction: the job would be committed on its own, whatever happens to your transaction. Pass the client of your open transaction (const client = await pool.connect(), then client.query('BEGIN'), and COMMIT or ROLLBACK and client.release() after), or an adapted ORM transaction; to enqueue outside any transaction, leave tx out.`
}

/** Builds the row to insert from a definition, a validated payload and validated options. */
export function resolveNewJob(
  definition: JobDefinition<unknown>,
  payload: JsonValue,
  options: EnqueueOptions,
  now: number,
  extra: {
    scheduleName?: string | null
    scheduleTick?: number | null
    traceContext?: Record<string, string> | null
  } = {},
): NewJob {
  const d = definition.defaults
  const runAt =
    options.runAt !== undefined
      ? options.runAt instanceof Date
        ? options.runAt.getTime()
        : options.runAt
      : now + Math.ceil(options.delayMs ?? 0)
  const storedBackoff = options.backoff ?? (typeof d.backoff === 'object' ? d.backoff : undefined)
  const timeoutMs = options.timeoutMs ?? d.timeoutMs
  const groupLockTimeoutMs =
    options.groupKey === undefined ? null : (options.groupLockTimeoutMs ?? d.groupLockTimeoutMs ?? null)
  if (groupLockTimeoutMs !== null) {
    try {
      validateGroupLockTimeout(groupLockTimeoutMs, timeoutMs, 'groupLockTimeoutMs')
    } catch (error) {
      throw new InvalidOptionsError((error as Error).message, { cause: error })
    }
  }
  return {
    kind: definition.kind,
    queue: options.queue ?? d.queue,
    payload,
    priority: options.priority ?? d.priority,
    runAt,
    maxAttempts: options.maxAttempts ?? d.maxAttempts,
    timeoutMs,
    weight: options.weight ?? d.weight,
    uniqueKey: options.uniqueKey ?? null,
    groupKey: options.groupKey ?? null,
    groupMode: options.groupKey === undefined ? 'fifo' : (options.groupMode ?? d.groupMode ?? 'fifo'),
    groupLockTimeoutMs,
    dependsOn:
      options.dependsOn === undefined
        ? []
        : typeof options.dependsOn === 'string'
          ? [options.dependsOn]
          : [...options.dependsOn],
    metadata: options.metadata ?? {},
    tags: options.tags ? [...options.tags] : [],
    workflowState: options.state ?? null,
    backoff: storedBackoff ? fullBackoff(storedBackoff) : null,
    scheduleName: extra.scheduleName ?? null,
    scheduleTick: extra.scheduleTick ?? null,
    traceContext: extra.traceContext ?? null,
  }
}

function fullBackoff(partial: Partial<BackoffSpec>): BackoffSpec {
  return resolveBackoff(partial, DEFAULT_BACKOFF)
}

/** The custom backoff function of a definition, if it has one. */
export function backoffFunctionOf(
  definition: JobDefinition<unknown> | undefined,
): BackoffFunction | undefined {
  const b = definition?.defaults.backoff
  return typeof b === 'function' ? b : undefined
}
