/**
 * Intervals of `@every` and `@after`: `1 hour 20 minutes`, `1h30m`, `90s`, `1.5 hours`.
 */
import { InvalidScheduleError } from '../errors.js'
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
export function parseIntervalOf(text: string, expression: string): number {
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
