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
 * The anchor is the instant the schedule was created; cron ignores it. Time is always passed in as
 * epoch milliseconds: nothing here reads the clock.
 */
import { createRequire } from 'node:module'
import type { CronExpressionParser } from 'cron-parser'
import { InvalidArgumentError, InvalidScheduleError } from '../errors.js'
import { describe } from '../validation.js'

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

const SECOND_MS = 1000
const MINUTE_MS = 60 * SECOND_MS
const HOUR_MS = 60 * MINUTE_MS
const DAY_MS = 24 * HOUR_MS
const WEEK_MS = 7 * DAY_MS

/** Largest magnitude a JavaScript Date can hold, ms. */
const MAX_DATE_MS = 8.64e15

/** The smallest interval `@every` accepts; shorter ones would only load the scheduler. */
const MIN_EVERY_MS = SECOND_MS

/** Cron aliases mapped to the five-field expressions they stand for. */
const CRON_ALIASES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
}

const requireFromHere = createRequire(import.meta.url)

/**
 * cron-parser, loaded on the first cron expression instead of at import: it and luxon cost a worker
 * ~3 MB of RSS, and most processes never parse a cron. `require` (its CommonJS entry) keeps parsing
 * synchronous; Node caches the module, so later calls only look it up.
 */
function cronParser(): typeof CronExpressionParser {
  return (requireFromHere('cron-parser') as { CronExpressionParser: typeof CronExpressionParser })
    .CronExpressionParser
}

const FIVE_FIELD_NAMES = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const
const SIX_FIELD_NAMES = ['second', ...FIVE_FIELD_NAMES] as const

/** Interval units (lower case) and their length in ms. */
const INTERVAL_UNITS: Readonly<Record<string, { readonly ms: number; readonly name: string }>> = {
  ms: { ms: 1, name: 'millisecond' },
  msec: { ms: 1, name: 'millisecond' },
  msecs: { ms: 1, name: 'millisecond' },
  millisecond: { ms: 1, name: 'millisecond' },
  milliseconds: { ms: 1, name: 'millisecond' },
  s: { ms: SECOND_MS, name: 'second' },
  sec: { ms: SECOND_MS, name: 'second' },
  secs: { ms: SECOND_MS, name: 'second' },
  second: { ms: SECOND_MS, name: 'second' },
  seconds: { ms: SECOND_MS, name: 'second' },
  m: { ms: MINUTE_MS, name: 'minute' },
  min: { ms: MINUTE_MS, name: 'minute' },
  mins: { ms: MINUTE_MS, name: 'minute' },
  minute: { ms: MINUTE_MS, name: 'minute' },
  minutes: { ms: MINUTE_MS, name: 'minute' },
  h: { ms: HOUR_MS, name: 'hour' },
  hr: { ms: HOUR_MS, name: 'hour' },
  hrs: { ms: HOUR_MS, name: 'hour' },
  hour: { ms: HOUR_MS, name: 'hour' },
  hours: { ms: HOUR_MS, name: 'hour' },
  d: { ms: DAY_MS, name: 'day' },
  day: { ms: DAY_MS, name: 'day' },
  days: { ms: DAY_MS, name: 'day' },
  w: { ms: WEEK_MS, name: 'week' },
  wk: { ms: WEEK_MS, name: 'week' },
  wks: { ms: WEEK_MS, name: 'week' },
  week: { ms: WEEK_MS, name: 'week' },
  weeks: { ms: WEEK_MS, name: 'week' },
}

/** Units with no fixed length; rejected with a pointer to cron. */
const CALENDAR_UNITS = new Set([
  'mo',
  'mos',
  'mon',
  'mons',
  'month',
  'months',
  'y',
  'yr',
  'yrs',
  'year',
  'years',
])

const INTERVAL_PART = /(\d+(?:\.\d+)?|\.\d+)\s*([a-zµ]+)/y
const INTERVAL_SEPARATOR = /\s*(?:,\s*)?(?:and\s+)?/y

/**
 * Parses an interval such as `1 hour 20 minutes`, `1h30m`, `90s` or `1.5 hours` into milliseconds.
 */
export function parseInterval(text: string): number {
  return parseIntervalOf(text, text)
}

/** Parses `text` as an interval; errors quote `expression`, the full expression the caller was given. */
function parseIntervalOf(text: string, expression: string): number {
  const fail: (problem: string) => never = (problem) => {
    throw new InvalidScheduleError(expression, problem)
  }
  if (typeof text !== 'string') fail(`an interval must be a string, got ${typeof text}`)
  const input = text.trim().toLowerCase()
  if (input === '') fail('the interval is empty; write one such as "1 hour 20 minutes" or "90s"')
  if (/^[-−]/.test(input) || /[\s,][-−]\s*\d/.test(input)) fail('an interval must be positive')

  const seen = new Map<string, string>()
  let total = 0
  let position = 0
  while (position < input.length) {
    if (position > 0) {
      INTERVAL_SEPARATOR.lastIndex = position
      INTERVAL_SEPARATOR.exec(input)
      position = INTERVAL_SEPARATOR.lastIndex
      if (position === input.length) fail(`the interval ends with a dangling separator`)
    }
    INTERVAL_PART.lastIndex = position
    const match = INTERVAL_PART.exec(input)
    if (match === null) {
      const rest = input.slice(position)
      if (/^\d+(?:\.\d+)?\s*$/.test(rest)) {
        fail(
          `${JSON.stringify(rest.trim())} has no unit; add one of ms, s, m, h, d, w (e.g. "${rest.trim()}s")`,
        )
      }
      fail(
        `cannot read ${JSON.stringify(rest)}; expected a number followed by a unit (ms, s, m, h, d, w), e.g. "1h 30m"`,
      )
    }
    const [, amountText = '', unitText = ''] = match
    const unit = INTERVAL_UNITS[unitText]
    if (unit === undefined) {
      if (CALENDAR_UNITS.has(unitText)) {
        fail(
          'months and years have no fixed length; use a cron expression instead (e.g. "0 0 1 * *" monthly, "0 0 1 1 *" yearly)',
        )
      }
      fail(
        `unknown unit ${JSON.stringify(unitText)}; use ms, s/sec/second, m/min/minute, h/hr/hour, d/day or w/wk/week`,
      )
    }
    const previous = seen.get(unit.name)
    if (previous !== undefined) {
      fail(`the ${unit.name}s are given twice (${JSON.stringify(previous)} and ${JSON.stringify(match[0])})`)
    }
    seen.set(unit.name, match[0])
    total += Number(amountText) * unit.ms
    position = INTERVAL_PART.lastIndex
  }

  const ms = Math.round(total)
  if (Math.abs(total - ms) > 1e-6) fail('an interval must be a whole number of milliseconds')
  if (ms <= 0) fail('an interval must be greater than zero')
  if (!Number.isSafeInteger(ms) || ms > MAX_DATE_MS) fail('the interval is too long')
  return ms
}

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
    const intervalMs = parseIntervalOf(argument, expression)
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

/** Throws unless `ms` is an epoch-ms value a Date can hold. */
function checkInstant(name: string, ms: number): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) {
    throw new InvalidArgumentError(`${name} must be a finite epoch time in milliseconds, got ${String(ms)}`)
  }
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

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))?$/i

/** Parses an ISO 8601 timestamp that carries an explicit offset; fractions below 1 ms are truncated. */
function parseTimestamp(text: string, expression: string): number {
  const fail: (problem: string) => never = (problem) => {
    throw new InvalidScheduleError(expression, problem)
  }
  const match = TIMESTAMP.exec(text)
  if (match === null) {
    if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
      fail(`${JSON.stringify(text)} has no time and no offset; write e.g. "${text}T09:00:00Z"`)
    }
    fail(
      `${JSON.stringify(text)} is not an ISO 8601 timestamp; write e.g. "2027-01-01T09:00:00Z" or "2027-01-01T09:00:00+02:00"`,
    )
  }
  const [, y, mo, d, h, mi, s = '0', fraction = '', zulu, sign, offH, offM] = match
  if (zulu === undefined && sign === undefined) {
    fail(`${JSON.stringify(text)} has no time-zone offset; add "Z" for UTC or an offset such as "+02:00"`)
  }
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h)
  const minute = Number(mi)
  const second = Number(s)
  const ms = Number(fraction.slice(0, 3).padEnd(3, '0'))
  if (month < 1 || month > 12) fail(`${JSON.stringify(text)} has month ${mo}; months run 01 to 12`)
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  if (day < 1 || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    fail(`${JSON.stringify(text)} names a day that does not exist (${y}-${mo} has no day ${d})`)
  }
  if (hour > 23 || minute > 59 || second > 59) fail(`${JSON.stringify(text)} has an invalid time of day`)
  let offsetMinutes = 0
  if (sign !== undefined) {
    const oh = Number(offH)
    const om = Number(offM)
    if (oh > 23 || om > 59) fail(`${JSON.stringify(text)} has an invalid offset ${sign}${offH}:${offM}`)
    offsetMinutes = (sign === '-' ? -1 : 1) * (oh * 60 + om)
  }
  date.setUTCHours(hour, minute, second, ms)
  const epochMs = date.getTime() - offsetMinutes * MINUTE_MS
  if (!Number.isFinite(epochMs) || Math.abs(epochMs) > MAX_DATE_MS)
    fail(`${JSON.stringify(text)} is out of range`)
  return epochMs
}

function cronExpression(source: string, expression: string, timezone: string): ScheduleExpression {
  let cron = source
  if (source.startsWith('@')) {
    const alias = CRON_ALIASES[source.toLowerCase()]
    if (alias === undefined) {
      throw new InvalidScheduleError(
        expression,
        `unknown directive ${JSON.stringify(source.split(/\s+/)[0])}; use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every <interval>, @after <interval> or @at <timestamp>`,
      )
    }
    cron = alias
  }
  const fields = cron.split(/\s+/)
  if (fields.length !== 5 && fields.length !== 6) {
    throw new InvalidScheduleError(
      expression,
      `expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds, got ${fields.length}`,
    )
  }
  cron = fields.join(' ')
  // cron-parser draws `H` values from a random seed unless given one; seed with the expression so
  // every process (and every call) computes the same ticks.
  const parser = cronParser()
  const parse = (currentDate: Date) => parser.parse(cron, { currentDate, tz: timezone, hashSeed: cron })

  try {
    // Parsing and finding one tick rejects field errors and expressions that can never fire.
    parse(new Date(0)).next()
  } catch (cause) {
    throw new InvalidScheduleError(expression, describeCronError(fields, timezone, cause), { cause })
  }

  return Object.freeze({
    source,
    type: 'cron' as const,
    recurring: true,
    timezone,
    nextTick(afterMs: number, _anchorMs: number): number | null {
      checkInstant('afterMs', afterMs)
      try {
        return parse(new Date(afterMs)).next().getTime()
      } catch (cause) {
        // cron-parser gives up after a bounded search; near the end of the Date range there is no tick.
        if (cause instanceof Error && /loop limit/i.test(cause.message)) return null
        throw cause
      }
    },
  })
}

/** Names the field cron-parser rejected by parsing each field on its own. */
function describeCronError(fields: readonly string[], timezone: string, cause: unknown): string {
  const detail = cause instanceof Error ? cause.message : String(cause)
  const names = fields.length === 6 ? SIX_FIELD_NAMES : FIVE_FIELD_NAMES
  const parser = cronParser()
  for (let i = 0; i < fields.length; i++) {
    const alone = fields.map((field, j) => (j === i ? field : '*')).join(' ')
    try {
      parser.parse(alone, { currentDate: new Date(0), tz: timezone, hashSeed: alone })
    } catch (fieldCause) {
      const raw = fieldCause instanceof Error ? fieldCause.message : String(fieldCause)
      // cron-parser reports unknown words by their first three letters ("cannot resolve alias \"ext\"").
      const fieldDetail = /cannot resolve alias/i.test(raw) ? 'not a number, range, step or known name' : raw
      return `invalid ${names[i]} field ${JSON.stringify(fields[i])} (${fieldDetail})`
    }
  }
  if (/explicit day of month/i.test(detail)) {
    return 'the day-of-month never occurs in the given month(s), e.g. 30 February'
  }
  if (/loop limit/i.test(detail)) return 'the expression never matches a date'
  return `invalid cron expression (${detail})`
}
