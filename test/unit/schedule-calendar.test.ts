import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { addCalendarInterval } from '../../src/core/domain/schedules/calendar.js'
import { parseScheduleExpression } from '../../src/core/domain/schedules/expression.js'
import { parseIntervalParts } from '../../src/core/domain/schedules/interval.js'

const iso = (text: string): number => Date.parse(text)
const show = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())
const HOUR = 3_600_000
const DAY = 24 * HOUR

/** Wall-clock fields of an instant in a zone (the test's own reading, through Intl). */
function wall(ms: number, timeZone: string): { y: number; mo: number; d: number; h: number; mi: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
  }).formatToParts(new Date(ms))
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value)
  return { y: get('year'), mo: get('month'), d: get('day'), h: get('hour'), mi: get('minute') }
}

describe('calendar intervals (months and years)', () => {
  it('parses qron\'s "1 month 1 week 3 days" into months, days and time', () => {
    expect(parseIntervalParts('1 month 1 week 3 days', 'x')).toEqual({ months: 1, days: 10, ms: 0 })
    expect(parseIntervalParts('1 year 2 mons 1h', 'x')).toEqual({ months: 14, days: 0, ms: HOUR })
    expect(parseIntervalParts('1 hour 20 minutes', 'x')).toEqual({ months: 0, days: 0, ms: 80 * 60_000 })
  })

  it('@after 1 month 1 week 3 days: months first, then days (Postgres interval semantics)', () => {
    const anchor = iso('2023-02-18T17:53:00.000Z')
    const schedule = parseScheduleExpression('@after 1 month 1 week 3 days')
    expect(schedule.type).toBe('after')
    expect(schedule.timezone).toBe('UTC')
    // 18 Feb + 1 month = 18 Mar, + 10 days = 28 Mar.
    expect(show(schedule.nextTick(anchor, anchor))).toBe('2023-03-28T17:53:00.000Z')
  })

  it('31 January + 1 month is the end of February (leap and common years)', () => {
    const utc = { months: 1, days: 0, ms: 0 }
    expect(show(addCalendarInterval(iso('2024-01-31T09:00:00Z'), utc, 1, 'UTC'))).toBe(
      '2024-02-29T09:00:00.000Z',
    )
    expect(show(addCalendarInterval(iso('2023-01-31T09:00:00Z'), utc, 1, 'UTC'))).toBe(
      '2023-02-28T09:00:00.000Z',
    )
    expect(show(addCalendarInterval(iso('2024-01-31T09:00:00Z'), utc, 2, 'UTC'))).toBe(
      '2024-03-31T09:00:00.000Z',
    )
    expect(
      show(addCalendarInterval(iso('2024-02-29T09:00:00Z'), { months: 12, days: 0, ms: 0 }, 1, 'UTC')),
    ).toBe('2025-02-28T09:00:00.000Z')
  })

  it('@every 1 month steps from the previous tick, as Postgres "previous + interval" does', () => {
    const schedule = parseScheduleExpression('@every 1 month')
    const first = iso('2024-01-31T00:00:00Z')
    const second = schedule.nextTick(first, first)
    expect(show(second)).toBe('2024-02-29T00:00:00.000Z')
    expect(show(schedule.nextTick(second!, second!))).toBe('2024-03-29T00:00:00.000Z')
    // From a fixed anchor, the k-th tick is anchor + k months.
    expect(show(schedule.nextTick(iso('2024-03-01T00:00:00Z'), first))).toBe('2024-03-31T00:00:00.000Z')
  })

  it('finds the k-th tick from an anchor years back, each part multiplied by k', () => {
    const anchor = iso('2024-01-31T00:00:00Z')
    const monthly = parseScheduleExpression('@every 1 month')
    // 77 months after 31 January 2024: 30 June 2030 (clamped to the month end).
    expect(show(monthly.nextTick(iso('2030-06-15T00:00:00Z'), anchor))).toBe('2030-06-30T00:00:00.000Z')
    expect(show(monthly.nextTick(iso('2030-06-30T00:00:00Z'), anchor))).toBe('2030-07-31T00:00:00.000Z')
    const mixed = parseScheduleExpression('@every 1 month 2 days 1h')
    const start = iso('2024-01-01T00:00:00Z')
    // k = 3: 1 April + 6 days + 3 hours.
    expect(show(mixed.nextTick(iso('2024-04-01T00:00:00Z'), start))).toBe('2024-04-07T03:00:00.000Z')
    expect(show(addCalendarInterval(start, { months: 1, days: 2, ms: HOUR }, 3, 'UTC'))).toBe(
      '2024-04-07T03:00:00.000Z',
    )
  })

  it('@every 1 year in a zone keeps the wall-clock time across daylight saving', () => {
    const schedule = parseScheduleExpression('@every 1 year', { timezone: 'Europe/Paris' })
    expect(schedule.timezone).toBe('Europe/Paris')
    const winter = iso('2024-01-15T08:00:00Z') // 09:00 in Paris (CET)
    expect(show(schedule.nextTick(winter, winter))).toBe('2025-01-15T08:00:00.000Z')
    const monthly = parseScheduleExpression('@every 1 month', { timezone: 'Europe/Paris' })
    // 15 March 09:00 CET + 1 month = 15 April 09:00 CEST = 07:00Z.
    expect(show(monthly.nextTick(iso('2024-03-15T08:00:00Z'), iso('2024-03-15T08:00:00Z')))).toBe(
      '2024-04-15T07:00:00.000Z',
    )
  })

  it('a wall-clock time skipped by the spring-forward gap moves forward; an ambiguous one takes the later instant', () => {
    const month = { months: 1, days: 0, ms: 0 }
    // 2024-02-29 02:30 Paris (01:30Z) + 1 month = 2024-03-29 02:30 (exists) ...
    // Gap: 2024-03-31 02:30 does not exist in Paris; Postgres reads it with the offset before (+01:00) = 03:30 CEST.
    expect(
      show(
        addCalendarInterval(iso('2024-02-29T01:30:00Z'), { months: 1, days: 2, ms: 0 }, 1, 'Europe/Paris'),
      ),
    ).toBe('2024-03-31T01:30:00.000Z')
    // Overlap: 2024-10-27 02:30 happens twice in Paris; the later one (CET, 01:30Z) is taken.
    expect(show(addCalendarInterval(iso('2024-09-27T00:30:00Z'), month, 1, 'Europe/Paris'))).toBe(
      '2024-10-27T01:30:00.000Z',
    )
  })

  it('the time part is added after months and days, as elapsed time', () => {
    // 2024-03-30 12:00 Paris (11:00Z) + 1 day = 2024-03-31 12:00 CEST (10:00Z), + 1 hour = 11:00Z.
    const start = iso('2024-03-30T11:00:00Z')
    expect(show(addCalendarInterval(start, { months: 0, days: 1, ms: HOUR }, 1, 'Europe/Paris'))).toBe(
      '2024-03-31T11:00:00.000Z',
    )
  })

  const zones = ['UTC', 'Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata']
  const instant = fc.integer({ min: iso('1990-01-01T00:00:00Z'), max: iso('2060-01-01T00:00:00Z') })

  it('property: adding months keeps the day of month, clamped to the month end, and the wall-clock time', () => {
    fc.assert(
      fc.property(
        instant,
        fc.integer({ min: 1, max: 36 }),
        fc.constantFrom(...zones),
        (start, months, zone) => {
          const result = addCalendarInterval(start, { months, days: 0, ms: 0 }, 1, zone)
          const a = wall(start, zone)
          const b = wall(result, zone)
          const totalMonths = a.y * 12 + (a.mo - 1) + months
          expect(b.y * 12 + (b.mo - 1)).toBe(totalMonths)
          const lastDay = new Date(
            Date.UTC(Math.floor(totalMonths / 12), (totalMonths % 12) + 1, 0),
          ).getUTCDate()
          expect(b.d).toBe(Math.min(a.d, lastDay))
          // The wall-clock time is kept unless it falls in a gap (then it is moved forward by the gap).
          const sameTime = b.h === a.h && b.mi === a.mi
          const movedForward = (b.h * 60 + b.mi - (a.h * 60 + a.mi) + 1440) % 1440 <= 60
          expect(sameTime || movedForward).toBe(true)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('property: k-th tick of @every is strictly after the previous and nextTick finds the first after any instant', () => {
    fc.assert(
      fc.property(
        instant,
        fc.integer({ min: 1, max: 14 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 0, max: 400 * DAY }),
        fc.constantFrom(...zones),
        (anchor, months, days, offset, zone) => {
          const interval = { months, days, ms: 0 }
          const schedule = parseScheduleExpression(`@every ${months} months ${days} days`, { timezone: zone })
          const after = anchor + offset
          const next = schedule.nextTick(after, anchor)!
          expect(next).toBeGreaterThan(after)
          // It is one of the anchor + k intervals, and the one before it is not after `after`.
          let k = 1
          while (addCalendarInterval(anchor, interval, k, zone) < next) k++
          expect(addCalendarInterval(anchor, interval, k, zone)).toBe(next)
          if (k > 1) expect(addCalendarInterval(anchor, interval, k - 1, zone)).toBeLessThanOrEqual(after)
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('@minutely', () => {
  it('is the cron "* * * * *"', () => {
    const schedule = parseScheduleExpression('@minutely')
    expect(schedule.type).toBe('cron')
    expect(show(schedule.nextTick(iso('2024-03-15T10:30:45Z'), 0))).toBe('2024-03-15T10:31:00.000Z')
  })
})
