/**
 * Lengths of time and the instant range shared by the schedule-expression parsers.
 */
import { InvalidArgumentError } from '../errors.js'

/** One second, ms. */
export const SECOND_MS = 1000
/** One minute, ms. */
export const MINUTE_MS = 60 * SECOND_MS
/** One hour, ms. */
export const HOUR_MS = 60 * MINUTE_MS
/** One day, ms. */
export const DAY_MS = 24 * HOUR_MS
/** One week, ms. */
export const WEEK_MS = 7 * DAY_MS

/** Largest magnitude a JavaScript Date can hold, ms. */
export const MAX_DATE_MS = 8.64e15

/** Throws unless `ms` is an epoch-ms value a Date can hold. */
export function checkInstant(name: string, ms: number): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) {
    throw new InvalidArgumentError(`${name} must be a finite epoch time in milliseconds, got ${String(ms)}`)
  }
}
