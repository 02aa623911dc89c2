import { type BackoffFunction, DEFAULT_BACKOFF, resolveBackoff } from './backoff.js'
import { InvalidArgumentError } from './errors.js'
import type { BackoffSpec } from './job.js'

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/

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

/** Checks an optional string of bounded length; returns null when absent. */
export function validateOptionalString(value: unknown, field: string, maxLength: number): string | null {
  if (value === undefined || value === null) return null
  if (typeof value !== 'string' || value.length === 0 || value.length > maxLength) {
    throw new InvalidArgumentError(
      `${field} must be a non-empty string of at most ${maxLength} characters; got ${describe(value)}.`,
    )
  }
  return value
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
