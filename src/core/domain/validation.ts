import { type BackoffFunction, DEFAULT_BACKOFF, resolveBackoff } from './backoff.js'
import { editDistance } from './edit-distance.js'
import { InvalidArgumentError } from './errors.js'
import type { BackoffSpec, GroupMode } from './job.js'
import { isStorableString } from './json.js'

/** Kind, queue and schedule names: 1-128 letters, digits and `_ - . :`, not starting with a symbol. */
export const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/

/** Checks a kind or queue name: 1-128 chars of letters, digits and `_ - . :`, not starting with a symbol. */
export function validateName(value: unknown, field: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new InvalidArgumentError(
      `${field} must be a string of 1-128 letters, digits, '_', '-', '.' or ':' starting with a letter, digit or '_'; got ${describe(value)}.`,
    )
  }
  return value
}

/** Checks an optional integer within [min, max]; returns undefined when absent. */
export function validateOptionalInt(
  value: unknown,
  field: string,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(
      `${field} must be an integer from ${min} to ${max}; got ${describe(value)}.`,
    )
  }
  return value
}

/**
 * Checks an options object: undefined gives `{}`; anything but a plain object, or a key not in
 * `known` (null: any key), throws.
 */
export function validateOptionsObject(
  value: unknown,
  what: string,
  known: readonly string[] | null,
): Record<string, unknown> {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${what} must be an object; got ${describe(value)}.`)
  }
  if (known !== null) {
    for (const key of Object.keys(value)) {
      if (!known.includes(key))
        throw new InvalidArgumentError(
          `${what}: unknown option ${JSON.stringify(key)}${didYouMean(key, known)}. Known options: ${known.join(', ')}.`,
        )
    }
  }
  return value as Record<string, unknown>
}

/**
 * ` (did you mean "x"?)` for the known name closest to a mistyped `key`, or '' when none is clearly
 * closest: the same name in another case, else the one name at most one edit away (two for keys of
 * six characters or more); two names equally close suggest neither.
 */
export function didYouMean(key: string, known: readonly string[]): string {
  let best: { name: string; distance: number; tied: boolean } | null = null
  for (const name of known) {
    const distance = name.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, name)
    if (best === null || distance < best.distance) best = { name, distance, tied: false }
    else if (distance === best.distance) best.tied = true
  }
  if (best === null || best.tied || best.distance > (key.length < 6 ? 1 : 2)) return ''
  return ` (did you mean ${JSON.stringify(best.name)}?)`
}

/** Checks an optional boolean. */
export function validateOptionalBoolean(value: unknown, field: string): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean')
    throw new InvalidArgumentError(`${field} must be true or false; got ${describe(value)}.`)
  return value
}

/** Checks an optional string of bounded length; returns null when absent. */
export function validateOptionalString(value: unknown, field: string, maxLength: number): string | null {
  if (value === undefined || value === null) return null
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > maxLength ||
    !isStorableString(value)
  ) {
    throw new InvalidArgumentError(
      `${field} must be a non-empty string of at most ${maxLength} characters, without \\u0000 or lone surrogates; got ${describe(value)}.`,
    )
  }
  return value
}

/** Earliest time a job may be due: 0001-01-01T00:00:00Z (PostgreSQL and Date both hold it). */
export const MIN_TIME = -62_135_596_800_000

/** Latest time a job may be due: 9999-12-31T23:59:59.999Z. */
export const MAX_TIME = 253_402_300_799_999

/** Checks an optional time (a Date or epoch ms) between years 1 and 9999; returns epoch ms or undefined. */
export function validateOptionalTime(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined
  const t = value instanceof Date ? value.getTime() : value
  if (typeof t !== 'number' || !Number.isFinite(t) || t < MIN_TIME || t > MAX_TIME) {
    throw new InvalidArgumentError(
      `${field} must be a valid Date or epoch milliseconds between years 1 and 9999; got ${describe(value)}.`,
    )
  }
  return t
}

/** Checks a backoff option: a partial exponential policy or a function. */
export function validateBackoffInput(value: unknown): Partial<BackoffSpec> | BackoffFunction | undefined {
  if (value === undefined) return undefined
  if (typeof value === 'function') return value as BackoffFunction
  if (typeof value !== 'object' || value === null) {
    throw new InvalidArgumentError(
      `backoff must be { baseMs, factor, maxMs, jitter } (all optional) or a function (attempt, error) => delayMs; got ${describe(value)}.`,
    )
  }
  const allowed = new Set(['baseMs', 'factor', 'maxMs', 'jitter'])
  for (const key of Object.keys(value)) {
    if (!allowed.has(key))
      throw new InvalidArgumentError(
        `backoff has unknown field ${JSON.stringify(key)}; known: baseMs, factor, maxMs, jitter.`,
      )
  }
  resolveBackoff(value as Partial<BackoffSpec>, DEFAULT_BACKOFF)
  return value as Partial<BackoffSpec>
}

/**
 * The end of an error message about a value that must be an array of valid items: names the first
 * bad item and its position (`dependsOn[1] is number 7`), or describes the value itself when it is
 * no array (`got a Map`). `isValid` is the check every item must pass.
 */
export function describeBadItem(value: unknown, field: string, isValid: (item: unknown) => boolean): string {
  if (!Array.isArray(value)) return `got ${describe(value)}`
  const i = value.findIndex((item) => !isValid(item))
  return i < 0 ? `got ${describe(value)}` : `${field}[${i}] is ${describe(value[i])}`
}

/** Short description of a value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return `${typeof value} ${String(value)}`
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  if (value instanceof Date)
    return `Date ${Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()}`
  return `a ${(value as object).constructor?.name ?? 'object'}`
}

/** Checks a group mode (`'fifo'` or `'release'`); returns it, or undefined when absent. */
export function validateGroupMode(value: unknown, field: string): GroupMode | undefined {
  if (value === undefined) return undefined
  if (value !== 'fifo' && value !== 'release')
    throw new InvalidArgumentError(
      `${field} must be 'fifo' (strict order: a job waiting out a retry holds its group) or 'release' (the group is released after each run); got ${describe(value)}.`,
    )
  return value
}

/**
 * Checks that a group lock timeout is not shorter than the job's own timeout: a job still within its
 * timeout may be alive, and must not be overtaken by the next job of its group.
 */
export function validateGroupLockTimeout(groupLockTimeoutMs: number, timeoutMs: number, field: string): void {
  if (timeoutMs > 0 && groupLockTimeoutMs < timeoutMs)
    throw new InvalidArgumentError(
      `${field} (${groupLockTimeoutMs} ms) is shorter than the job's timeoutMs (${timeoutMs} ms): a job still within its timeout may be alive and would be overtaken by the next job of its group. Give a groupLockTimeoutMs of at least ${timeoutMs}, or a shorter timeoutMs.`,
    )
}
