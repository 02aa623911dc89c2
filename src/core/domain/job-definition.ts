import type { StandardSchemaV1 } from '@standard-schema/spec'
import { DEFAULTS, MAX_TIMER_MS } from '../defaults.js'
import type { BackoffFunction } from './backoff.js'
import { InvalidJobDefinitionError, InvalidPayloadError } from './errors.js'
import type { BackoffSpec, GroupMode } from './job.js'
import { PRIORITY_MAX, PRIORITY_MIN } from './job.js'
import { assertJsonValue, type JsonValue } from './json.js'
import {
  describe,
  NAME,
  validateBackoffInput,
  validateGroupLockTimeout,
  validateGroupMode,
  validateName,
  validateOptionalInt,
} from './validation.js'

/** Defaults a job definition sets for each of its jobs; enqueue options override them. */
export interface JobDefaults {
  /** Queue name (default `default`). */
  readonly queue: string
  /** Lower runs first (default 0). */
  readonly priority: number
  /** Attempts before the job is failed for good (default 25). */
  readonly maxAttempts: number
  /** Per-attempt timeout in ms, 0 = none (default 0). */
  readonly timeoutMs: number
  /** Capacity a running job takes from its worker (default 1). */
  readonly weight: number
  /** Retry delays: a partial exponential policy, or a function of the attempt (not stored). */
  readonly backoff: Partial<BackoffSpec> | BackoffFunction | undefined
  /** How its jobs enqueued with a `groupKey` wait for their group (default `fifo`, see `GroupMode`). */
  readonly groupMode?: GroupMode
  /**
   * Its grouped jobs stop holding their group after running this long, ms (default: while they
   * run). At least `timeoutMs` when that is set, so a live job is never overtaken within its timeout.
   */
  readonly groupLockTimeoutMs?: number
}

/** What `defineJob` takes. */
export interface DefineJobInput<P> extends Partial<JobDefaults> {
  /** The job's name; unique per application, letters, digits and `_ - . :` only. */
  readonly kind: string
  /** A Standard Schema validator (zod, valibot, arktype, ...); payloads are validated at enqueue. */
  readonly schema?: StandardSchemaV1<unknown, P>
}

/** A typed job definition: pass it to enqueue, register and the test helpers. */
export interface JobDefinition<P = unknown> {
  readonly kind: string
  readonly schema: StandardSchemaV1<unknown, P> | undefined
  readonly defaults: JobDefaults
  /** Phantom field carrying the payload type; never set at runtime. */
  readonly __payload?: P
}

/** The payload type of a job definition. */
export type PayloadOf<D> = D extends JobDefinition<infer P> ? P : never

const DEFINITION_KEYS = new Set([
  'kind',
  'schema',
  'queue',
  'priority',
  'maxAttempts',
  'timeoutMs',
  'weight',
  'backoff',
  'groupMode',
  'groupLockTimeoutMs',
])

/**
 * Defines a job kind with its payload type (by generic or schema) and per-job defaults.
 * Throws `InvalidJobDefinitionError` for a bad kind, unknown key or out-of-range default.
 */
export function defineJob<P extends JsonValue | object = JsonValue>(
  input: DefineJobInput<P>,
): JobDefinition<P> {
  if (typeof input !== 'object' || input === null) {
    throw new InvalidJobDefinitionError('defineJob(input) needs an object such as { kind: "send-email" }.')
  }
  for (const key of Object.keys(input)) {
    if (!DEFINITION_KEYS.has(key)) {
      throw new InvalidJobDefinitionError(
        `defineJob: unknown option ${JSON.stringify(key)}. Known options: ${[...DEFINITION_KEYS].join(', ')}.`,
      )
    }
  }
  const wrap = <T>(fn: () => T): T => {
    try {
      return fn()
    } catch (error) {
      if (error instanceof InvalidJobDefinitionError) throw error
      throw new InvalidJobDefinitionError(`defineJob(${describe(input.kind)}): ${(error as Error).message}`, {
        cause: error,
      })
    }
  }
  const kind = wrap(() => validateName(input.kind, 'kind'))
  const schema = input.schema
  if (
    schema !== undefined &&
    (typeof schema !== 'object' ||
      schema === null ||
      typeof (schema as { '~standard'?: { validate?: unknown } })['~standard']?.validate !== 'function')
  ) {
    throw new InvalidJobDefinitionError(
      `defineJob(${JSON.stringify(kind)}): schema must be a Standard Schema validator (zod, valibot, arktype, ...).`,
    )
  }
  const defaults: JobDefaults = wrap(() => {
    const timeoutMs =
      validateOptionalInt(input.timeoutMs, 'timeoutMs', 0, MAX_TIMER_MS) ?? DEFAULTS.job.timeoutMs
    const groupLockTimeoutMs = validateOptionalInt(
      input.groupLockTimeoutMs,
      'groupLockTimeoutMs',
      1,
      MAX_TIMER_MS,
    )
    if (groupLockTimeoutMs !== undefined)
      validateGroupLockTimeout(groupLockTimeoutMs, timeoutMs, 'groupLockTimeoutMs')
    return {
      queue: input.queue === undefined ? DEFAULTS.job.queue : validateName(input.queue, 'queue'),
      priority:
        validateOptionalInt(input.priority, 'priority', PRIORITY_MIN, PRIORITY_MAX) ?? DEFAULTS.job.priority,
      maxAttempts:
        validateOptionalInt(input.maxAttempts, 'maxAttempts', 1, 10_000) ?? DEFAULTS.job.maxAttempts,
      timeoutMs,
      weight: validateOptionalInt(input.weight, 'weight', 1, 10_000) ?? DEFAULTS.job.weight,
      backoff: validateBackoffInput(input.backoff),
      ...(input.groupMode === undefined
        ? {}
        : { groupMode: validateGroupMode(input.groupMode, 'groupMode') }),
      ...(groupLockTimeoutMs === undefined ? {} : { groupLockTimeoutMs }),
    }
  })
  return Object.freeze({ kind, schema, defaults: Object.freeze(defaults) })
}

/**
 * Validates a payload against the definition's schema (if any) and checks it is plain JSON.
 * Returns the schema's output value (schemas may transform), or the payload itself.
 */
export async function validatePayload<P>(definition: JobDefinition<P>, payload: unknown): Promise<JsonValue> {
  let value: unknown = payload
  if (definition.schema) {
    let result = definition.schema['~standard'].validate(payload)
    if (result instanceof Promise) result = await result
    if (result.issues) {
      const detail = result.issues
        .map((issue) => {
          const path = issue.path?.map((p) => (typeof p === 'object' ? p.key : p)).join('.')
          return path ? `${path}: ${issue.message}` : issue.message
        })
        .join('; ')
      throw new InvalidPayloadError(
        `Invalid payload for job ${JSON.stringify(definition.kind)}: ${detail}`,
        result.issues.map((issue) => ({
          message: issue.message,
          path: issue.path?.map((p) => (typeof p === 'object' ? p.key : p)),
        })),
      )
    }
    value = result.value
  }
  assertJsonValue(value, `payload of ${JSON.stringify(definition.kind)}`)
  return value
}

/** True when `value` looks like a job definition made by `defineJob`. */
export function isJobDefinition(value: unknown): value is JobDefinition {
  if (typeof value !== 'object' || value === null) return false
  const { kind, defaults } = value as Partial<JobDefinition>
  return (
    typeof kind === 'string' &&
    NAME.test(kind) &&
    typeof defaults === 'object' &&
    defaults !== null &&
    typeof defaults.queue === 'string' &&
    NAME.test(defaults.queue) &&
    [defaults.priority, defaults.maxAttempts, defaults.timeoutMs, defaults.weight].every(Number.isInteger)
  )
}
