/**
 * Retry backoff: exponential growth from `baseMs` by `factor` per attempt, capped at `maxMs`, with a
 * symmetric random jitter so that jobs failing together do not retry together.
 */

import { DEFAULTS } from '../defaults.js'
import { InvalidArgumentError } from './errors.js'
import type { BackoffSpec } from './job.js'

/** The backoff used when neither the job nor its definition sets one: 1 s doubling up to 1 h, ±10%. */
export const DEFAULT_BACKOFF: BackoffSpec = DEFAULTS.job.backoff

/** A custom backoff: returns the delay in ms before retrying after failed attempt `attempt` (1-based). */
export type BackoffFunction = (attempt: number, error: unknown) => number

const BACKOFF_KEYS = ['baseMs', 'factor', 'maxMs', 'jitter'] as const

/** Fills the fields `input` leaves out from `fallback` and validates the result. */
export function resolveBackoff(input: Partial<BackoffSpec> | undefined, fallback: BackoffSpec): BackoffSpec {
  if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) {
    throw new InvalidArgumentError(
      `backoff must be an object with ${BACKOFF_KEYS.join(', ')}, got ${describe(input)}.`,
    )
  }
  for (const key of Object.keys(input ?? {})) {
    if (!(BACKOFF_KEYS as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(
        `backoff has unknown field "${key}"; accepted fields: ${BACKOFF_KEYS.join(', ')}.`,
      )
    }
  }
  const spec: BackoffSpec = {
    baseMs: input?.baseMs ?? fallback.baseMs,
    factor: input?.factor ?? fallback.factor,
    maxMs: input?.maxMs ?? fallback.maxMs,
    jitter: input?.jitter ?? fallback.jitter,
  }
  if (!isFiniteNumber(spec.baseMs) || spec.baseMs < 0) {
    throw new InvalidArgumentError(
      `backoff.baseMs must be a finite number >= 0 (ms), got ${describe(spec.baseMs)}.`,
    )
  }
  if (!isFiniteNumber(spec.factor) || spec.factor < 1) {
    throw new InvalidArgumentError(
      `backoff.factor must be a finite number >= 1, got ${describe(spec.factor)}.`,
    )
  }
  if (!isFiniteNumber(spec.maxMs) || spec.maxMs < spec.baseMs) {
    throw new InvalidArgumentError(
      `backoff.maxMs must be a finite number >= baseMs (${spec.baseMs}), got ${describe(spec.maxMs)}.`,
    )
  }
  if (!isFiniteNumber(spec.jitter) || spec.jitter < 0 || spec.jitter > 1) {
    throw new InvalidArgumentError(
      `backoff.jitter must be a number from 0 to 1 (0.1 = ±10%), got ${describe(spec.jitter)}.`,
    )
  }
  return Object.freeze(spec)
}

/**
 * The delay in whole ms before retrying after failed attempt `attempt` (1-based): `min(maxMs, baseMs *
 * factor^(attempt-1))` scaled by `1 + jitter * (2 * random() - 1)`, so `random() = 0.5` gives the
 * un-jittered delay; the result lies in [0, maxMs * (1 + jitter)].
 */
export function backoffDelay(spec: BackoffSpec, attempt: number, random: () => number): number {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new InvalidArgumentError(`attempt must be an integer >= 1, got ${describe(attempt)}.`)
  }
  // factor^(attempt-1) overflows to Infinity for large attempts; the cap (and a zero base) stay exact.
  const growth = spec.factor ** (attempt - 1)
  const raw = spec.baseMs === 0 ? 0 : spec.baseMs * growth
  const delay = Number.isNaN(raw) ? spec.maxMs : Math.min(spec.maxMs, raw)
  const drawn = random()
  const r = Number.isFinite(drawn) ? Math.min(1, Math.max(0, drawn)) : 0.5
  const jittered = Math.round(delay * (1 + spec.jitter * (2 * r - 1)))
  const ceiling = Math.floor(spec.maxMs * (1 + spec.jitter))
  return Math.max(0, Math.min(ceiling, jittered))
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  return String(value)
}
