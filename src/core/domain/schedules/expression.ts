/**
 * Schedule expressions: when a scheduled job is due.
 *
 * Four forms are accepted:
 * - cron: five fields (`minute hour day-of-month month day-of-week`), six with leading seconds, or an
 *   alias (`@yearly @annually @monthly @weekly @daily @midnight @hourly`), evaluated in a time zone
 *   (UTC unless one is given);
 * - `@every <interval>`: recurring, at anchor + k * interval for k >= 1;
 * - `@after <interval>`: once, at anchor + interval;
 * - `@at <ISO 8601 timestamp with Z or an offset>`: once, at that instant.
 *
 * An interval with months or years (`@every 1 month`, `@after 1 month 1 week 3 days`) is calendar
 * arithmetic in the time zone (UTC unless one is given), as PostgreSQL adds an interval to a
 * timestamptz: months, then days, then time (see `calendar.ts`). Without months, an interval is a
 * fixed length (a day is 24 hours) and the time zone plays no part.
 *
 * The anchor is the instant the schedule was created; cron ignores it. Time is always passed in as
 * epoch milliseconds: nothing here reads the clock.
 */
import { InvalidScheduleError } from '../errors.js'
import { describe } from '../validation.js'
import { type CalendarInterval, nextCalendarTick } from './calendar.js'
import { cronExpression } from './cron.js'
import { parseIntervalParts } from './interval.js'
import { checkInstant, SECOND_MS } from './time-units.js'
import { parseTimestamp } from './timestamp.js'

/** A parsed schedule expression that can compute its next tick. */
export interface ScheduleExpression {
  /** The expression as given, with surrounding whitespace removed. */
  readonly source: string
  /** Which form the expression takes. */
  readonly type: 'cron' | 'every' | 'after' | 'at'
  /** Whether the expression ticks more than once (`cron` and `every`). */
  readonly recurring: boolean
  /** IANA time zone a cron expression is evaluated in; null for the other forms (they name instants). */
  readonly timezone: string | null
  /**
   * The first tick strictly after `afterMs` (epoch ms), or null when there is none (a one-off that
   * has passed). `anchorMs` is when the schedule was created; `@every` and `@after` count from it.
   */
  nextTick(afterMs: number, anchorMs: number): number | null
}

/** Options for {@link parseScheduleExpression}. */
export interface ParseScheduleOptions {
  /** IANA time zone for cron expressions, e.g. `Europe/Paris`; UTC when omitted. */
  readonly timezone?: string
}
/** The smallest interval `@every` accepts; shorter ones would only load the scheduler. */
const MIN_EVERY_MS = SECOND_MS

/**
 * Parses a cron, `@every`, `@after` or `@at` expression, throwing InvalidScheduleError that says what
 * is wrong.
 */
export function parseScheduleExpression(
  expression: string,
  options: ParseScheduleOptions = {},
): ScheduleExpression {
  if (typeof expression !== 'string') {
    throw new InvalidScheduleError(
      String(expression),
      `a schedule expression must be a string, got ${typeof expression}`,
    )
  }
  const source = expression.trim()
  const timezone = options.timezone === undefined ? null : resolveTimezone(source, options.timezone)
  if (source === '') {
    throw new InvalidScheduleError(
      expression,
      'the expression is empty; write a cron expression ("0 9 * * *"), "@every 1h", "@after 3 days" or "@at 2027-01-01T09:00:00Z"',
    )
  }

  const directive = /^@(every|after|at)(?:\s+(.*))?$/is.exec(source)
  if (directive !== null) {
    const keyword = (directive[1] ?? '').toLowerCase() as 'every' | 'after' | 'at'
    const argument = (directive[2] ?? '').trim()
    if (argument === '') {
      const example = keyword === 'at' ? '@at 2027-01-01T09:00:00Z' : `@${keyword} 1 hour 30 minutes`
      throw new InvalidScheduleError(expression, `@${keyword} needs an argument, e.g. "${example}"`)
    }
    if (keyword === 'at') return atExpression(source, parseTimestamp(argument, expression))
    const parts = parseIntervalParts(argument, expression)
    if (parts.months > 0) return calendarExpression(source, keyword, parts, timezone ?? 'UTC')
    const intervalMs = parts.ms
    if (keyword === 'after') return afterExpression(source, intervalMs)
    if (intervalMs < MIN_EVERY_MS) {
      throw new InvalidScheduleError(
        expression,
        `@every needs an interval of at least 1 second, got ${intervalMs} ms`,
      )
    }
    return everyExpression(source, intervalMs)
  }

  return cronExpression(source, expression, timezone ?? 'UTC')
}

/** Checks that `zone` is a time zone the runtime knows, returning its canonical spelling. */
function resolveTimezone(expression: string, zone: string): string {
  const problem = `unknown time zone ${typeof zone === 'string' ? JSON.stringify(zone) : describe(zone)}; use an IANA name such as "Europe/Paris" or "UTC"`
  if (typeof zone !== 'string' || zone.trim() === '') throw new InvalidScheduleError(expression, problem)
  let resolved: string
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone
  } catch (cause) {
    throw new InvalidScheduleError(expression, problem, { cause })
  }
  // Keep the caller's zone unless Intl only fixed its case (it maps some names, e.g. EST, to others).
  return resolved.toLowerCase() === zone.toLowerCase() ? resolved : zone
}

function everyExpression(source: string, intervalMs: number): ScheduleExpression {
  return Object.freeze({
    source,
    type: 'every' as const,
    recurring: true,
    timezone: null,
    nextTick(afterMs: number, anchorMs: number): number | null {
      checkInstant('afterMs', afterMs)
      checkInstant('anchorMs', anchorMs)
      if (afterMs < anchorMs + intervalMs) return anchorMs + intervalMs
      return anchorMs + (Math.floor((afterMs - anchorMs) / intervalMs) + 1) * intervalMs
    },
  })
}

function calendarExpression(
  source: string,
  keyword: 'every' | 'after',
  interval: CalendarInterval,
  timezone: string,
): ScheduleExpression {
  return Object.freeze({
    source,
    type: keyword,
    recurring: keyword === 'every',
    timezone,
    nextTick(afterMs: number, anchorMs: number): number | null {
      checkInstant('afterMs', afterMs)
      checkInstant('anchorMs', anchorMs)
      if (keyword === 'every') return nextCalendarTick(afterMs, anchorMs, interval, timezone)
      const tick = nextCalendarTick(anchorMs, anchorMs, interval, timezone)
      return tick !== null && tick > afterMs ? tick : null
    },
  })
}

function afterExpression(source: string, intervalMs: number): ScheduleExpression {
  return Object.freeze({
    source,
    type: 'after' as const,
    recurring: false,
    timezone: null,
    nextTick(afterMs: number, anchorMs: number): number | null {
      checkInstant('afterMs', afterMs)
      checkInstant('anchorMs', anchorMs)
      const tick = anchorMs + intervalMs
      return tick > afterMs ? tick : null
    },
  })
}

function atExpression(source: string, atMs: number): ScheduleExpression {
  return Object.freeze({
    source,
    type: 'at' as const,
    recurring: false,
    timezone: null,
    nextTick(afterMs: number, _anchorMs: number): number | null {
      checkInstant('afterMs', afterMs)
      return atMs > afterMs ? atMs : null
    },
  })
}
