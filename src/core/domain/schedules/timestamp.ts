/**
 * Timestamps of `@at`: ISO 8601 with `Z` or an explicit offset.
 */
import { InvalidScheduleError } from '../errors.js'
import { MAX_DATE_MS, MINUTE_MS } from './time-units.js'

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))?$/i

/** Parses an ISO 8601 timestamp that carries an explicit offset; fractions below 1 ms are truncated. */
export function parseTimestamp(text: string, expression: string): number {
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
