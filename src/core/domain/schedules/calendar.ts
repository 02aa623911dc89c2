/**
 * Calendar arithmetic for intervals with months or years, in a time zone, with PostgreSQL's
 * `timestamptz + interval` semantics: the months are added to the local date (the day of month is
 * clamped to the month's last day: 31 January + 1 month = 29 February), then the days (the
 * wall-clock time is kept), then the time part as elapsed time. A local time that falls in a
 * daylight-saving gap is read with the offset before the gap (moved forward); an ambiguous one
 * takes the later instant. Only `Intl` is used: no date library.
 */
import { DAY_MS, MAX_DATE_MS } from './time-units.js'

/** An interval split as PostgreSQL stores one: whole months, whole days, and elapsed milliseconds. */
export interface CalendarInterval {
  readonly months: number
  readonly days: number
  readonly ms: number
}

const formatters = new Map<string, Intl.DateTimeFormat>()

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone)
  if (formatter === undefined) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    })
    formatters.set(timeZone, formatter)
  }
  return formatter
}

/** The zone's offset from UTC at `epochMs`, ms (local = UTC + offset). */
function offsetAt(epochMs: number, timeZone: string): number {
  const fields: Record<string, string> = {}
  for (const part of formatterFor(timeZone).formatToParts(new Date(epochMs))) fields[part.type] = part.value
  const year = fields.era === 'BC' ? 1 - Number(fields.year) : Number(fields.year)
  const date = new Date(0)
  date.setUTCFullYear(year, Number(fields.month) - 1, Number(fields.day))
  date.setUTCHours(Number(fields.hour), Number(fields.minute), Number(fields.second), 0)
  const seconds = Math.floor(epochMs / 1000) * 1000
  return date.getTime() - seconds
}

/** The instant of a local wall-clock time (given as if it were UTC) in `timeZone`, PostgreSQL's way. */
function instantOfLocal(localMs: number, timeZone: string): number {
  const before = offsetAt(localMs - DAY_MS, timeZone)
  const after = offsetAt(localMs + DAY_MS, timeZone)
  const candidates = [localMs - before, localMs - after].filter(
    (instant) => localMs - instant === offsetAt(instant, timeZone),
  )
  // Both valid: an ambiguous (fall-back) time, or no transition nearby; take the later instant.
  if (candidates.length > 0) return Math.max(...candidates)
  // None valid: the time falls in a gap; read it with the offset before the gap (moves it forward).
  return localMs - before
}

/**
 * `start + k * interval` in `timeZone`: months first, then days, then the time part (see the module
 * comment). `k` multiplies each part, as PostgreSQL's `interval * k` does for whole numbers.
 */
export function addCalendarInterval(
  start: number,
  interval: CalendarInterval,
  k: number,
  timeZone: string,
): number {
  const local = new Date(start + offsetAt(start, timeZone))
  const monthIndex = local.getUTCFullYear() * 12 + local.getUTCMonth() + interval.months * k
  const year = Math.floor(monthIndex / 12)
  const month = monthIndex - year * 12
  const lastDay = daysInMonth(year, month)
  const shifted = new Date(0)
  shifted.setUTCFullYear(year, month, Math.min(local.getUTCDate(), lastDay))
  shifted.setUTCHours(
    local.getUTCHours(),
    local.getUTCMinutes(),
    local.getUTCSeconds(),
    local.getUTCMilliseconds(),
  )
  const localMs = shifted.getTime() + interval.days * k * DAY_MS
  const result = instantOfLocal(localMs, timeZone) + interval.ms * k
  return Math.abs(result) > MAX_DATE_MS ? Number.NaN : result
}

/** The first `anchor + k * interval` (k >= 1) strictly after `afterMs`, or null past the Date range. */
export function nextCalendarTick(
  afterMs: number,
  anchorMs: number,
  interval: CalendarInterval,
  timeZone: string,
): number | null {
  const at = (k: number) => addCalendarInterval(anchorMs, interval, k, timeZone)
  // An estimate from the average month (Gregorian: 365.2425 / 12 days), then corrected both ways.
  const average = interval.months * 30.436875 * DAY_MS + interval.days * DAY_MS + interval.ms
  let k = Math.max(1, Math.floor((afterMs - anchorMs) / average))
  while (k > 1 && at(k - 1) > afterMs) k--
  for (let guard = 0; guard < 1000; guard++) {
    const tick = at(k)
    if (Number.isNaN(tick)) return null
    if (tick > afterMs) return tick
    k++
  }
  return null
}

function daysInMonth(year: number, month: number): number {
  const date = new Date(0)
  date.setUTCFullYear(year, month + 1, 0)
  return date.getUTCDate()
}
