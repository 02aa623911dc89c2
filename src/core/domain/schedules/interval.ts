/**
 * Intervals of `@every` and `@after`: `1 hour 20 minutes`, `1h30m`, `90s`, `1.5 hours`, and with
 * calendar units `1 month 1 week 3 days`, `1 year`.
 */
import { InvalidScheduleError } from '../errors.js'
import type { CalendarInterval } from './calendar.js'
import { DAY_MS, HOUR_MS, MAX_DATE_MS, MINUTE_MS, SECOND_MS, WEEK_MS } from './time-units.js'

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

/** Units with no fixed length, in months. */
const CALENDAR_UNITS: Readonly<Record<string, { readonly months: number; readonly name: string }>> = {
  mo: { months: 1, name: 'month' },
  mos: { months: 1, name: 'month' },
  mon: { months: 1, name: 'month' },
  mons: { months: 1, name: 'month' },
  month: { months: 1, name: 'month' },
  months: { months: 1, name: 'month' },
  y: { months: 12, name: 'year' },
  yr: { months: 12, name: 'year' },
  yrs: { months: 12, name: 'year' },
  year: { months: 12, name: 'year' },
  years: { months: 12, name: 'year' },
}

/** The units as error messages list them, shortest names first (every unit, calendar ones included). */
const SHORT_UNITS = 'ms, s, m, h, d, w, mo, y'
const UNIT_NAMES = 'ms, s/sec/second, m/min/minute, h/hr/hour, d/day, w/wk/week, mo/month or y/yr/year'

const INTERVAL_PART = /(\d+(?:\.\d+)?|\.\d+)\s*([a-zµ]+)/y
const INTERVAL_SEPARATOR = /\s*(?:,\s*)?(?:and\s+)?/y

/**
 * Parses an interval such as `1 hour 20 minutes`, `1h30m`, `90s` or `1.5 hours` into milliseconds.
 */
export function parseInterval(text: string): number {
  return parseIntervalOf(text, text)
}

/**
 * Parses `text` as an interval with no calendar units into milliseconds; errors quote `expression`,
 * the full expression the caller was given.
 */
export function parseIntervalOf(text: string, expression: string): number {
  const parts = parseIntervalParts(text, expression)
  if (parts.months > 0) {
    throw new InvalidScheduleError(
      expression,
      'months and years have no fixed length here; use them in @every or @after, or a cron expression',
    )
  }
  return parts.days * DAY_MS + parts.ms
}

/**
 * Parses `text` as an interval: whole months (years are 12 months), and, when there are months,
 * whole calendar days (weeks are 7 days) and elapsed milliseconds; without months, days and weeks
 * are fixed 24-hour lengths folded into `ms`. Errors quote `expression`.
 */
export function parseIntervalParts(text: string, expression: string): CalendarInterval {
  const fail: (problem: string) => never = (problem) => {
    throw new InvalidScheduleError(expression, problem)
  }
  if (typeof text !== 'string') fail(`an interval must be a string, got ${typeof text}`)
  const input = text.trim().toLowerCase()
  if (input === '') fail('the interval is empty; write one such as "1 hour 20 minutes" or "90s"')
  if (/^[-−]/.test(input) || /[\s,][-−]\s*\d/.test(input)) fail('an interval must be positive')

  const seen = new Map<string, string>()
  let total = 0
  let months = 0
  let days = 0
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
        fail(`${JSON.stringify(rest.trim())} has no unit; add one of ${SHORT_UNITS} (e.g. "${rest.trim()}s")`)
      }
      fail(
        `cannot read ${JSON.stringify(rest)}; expected a number followed by a unit (${SHORT_UNITS}), e.g. "1h 30m"`,
      )
    }
    const [, amountText = '', unitText = ''] = match
    const calendar = CALENDAR_UNITS[unitText]
    if (calendar !== undefined) {
      const previous = seen.get(calendar.name)
      if (previous !== undefined) {
        fail(
          `the ${calendar.name}s are given twice (${JSON.stringify(previous)} and ${JSON.stringify(match[0])})`,
        )
      }
      seen.set(calendar.name, match[0])
      if (!/^\d+$/.test(amountText)) {
        fail(`${JSON.stringify(match[0])}: use a whole number of months and years`)
      }
      months += Number(amountText) * calendar.months
      position = INTERVAL_PART.lastIndex
      continue
    }
    const unit = INTERVAL_UNITS[unitText]
    if (unit === undefined) {
      fail(`unknown unit ${JSON.stringify(unitText)}; use ${UNIT_NAMES}`)
    }
    const previous = seen.get(unit.name)
    if (previous !== undefined) {
      fail(`the ${unit.name}s are given twice (${JSON.stringify(previous)} and ${JSON.stringify(match[0])})`)
    }
    seen.set(unit.name, match[0])
    if ((unit.name === 'day' || unit.name === 'week') && /^\d+$/.test(amountText)) {
      days += (Number(amountText) * unit.ms) / DAY_MS
    } else {
      total += Number(amountText) * unit.ms
    }
    position = INTERVAL_PART.lastIndex
  }
  if (months > 0) {
    if (months > MAX_MONTHS) fail('the interval is too long')
    const ms = checkedMs(total, fail, true)
    if (days * DAY_MS > MAX_DATE_MS) fail('the interval is too long')
    return { months, days, ms }
  }
  return { months: 0, days: 0, ms: checkedMs(total + days * DAY_MS, fail, false) }
}

/** Largest month count accepted (beyond the Date range anyway). */
const MAX_MONTHS = 300_000 * 12

function checkedMs(total: number, fail: (problem: string) => never, zeroAllowed: boolean): number {
  const ms = Math.round(total)
  if (Math.abs(total - ms) > 1e-6) fail('an interval must be a whole number of milliseconds')
  if (ms < 0 || (ms === 0 && !zeroAllowed)) fail('an interval must be greater than zero')
  if (!Number.isSafeInteger(ms) || ms > MAX_DATE_MS) fail('the interval is too long')
  return ms
}
