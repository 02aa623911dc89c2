import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, InvalidScheduleError } from '../../src/core/domain/errors.js'
import {
  parseScheduleExpression,
  type ScheduleExpression,
} from '../../src/core/domain/schedules/expression.js'
import { parseInterval } from '../../src/core/domain/schedules/interval.js'

const iso = (text: string): number => {
  const ms = Date.parse(text)
  if (Number.isNaN(ms)) throw new Error(`bad test date ${text}`)
  return ms
}
const show = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString())

/** The next `count` ticks strictly after `fromMs`, each computed from the previous one. */
function ticks(schedule: ScheduleExpression, fromMs: number, count: number, anchorMs = fromMs): string[] {
  const out: string[] = []
  let after = fromMs
  for (let i = 0; i < count; i++) {
    const next = schedule.nextTick(after, anchorMs)
    if (next === null) break
    out.push(new Date(next).toISOString())
    after = next
  }
  return out
}

function expectScheduleError(run: () => unknown, quoted: string, fragment: string | RegExp): void {
  let caught: unknown
  try {
    run()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(InvalidScheduleError)
  const error = caught as InvalidScheduleError
  expect(error.code).toBe('INVALID_SCHEDULE')
  expect(error.expression).toBe(quoted)
  expect(error.message).toContain(JSON.stringify(quoted))
  if (typeof fragment === 'string') expect(error.message).toContain(fragment)
  else expect(error.message).toMatch(fragment)
}

// Friday 15 March 2024, mid-second so that second-level crons are exercised.
const NOW = iso('2024-03-15T10:30:45.500Z')

describe('cron aliases', () => {
  it.each([
    ['@yearly', '2025-01-01T00:00:00.000Z'],
    ['@annually', '2025-01-01T00:00:00.000Z'],
    ['@monthly', '2024-04-01T00:00:00.000Z'],
    ['@weekly', '2024-03-17T00:00:00.000Z'],
    ['@daily', '2024-03-16T00:00:00.000Z'],
    ['@midnight', '2024-03-16T00:00:00.000Z'],
    ['@hourly', '2024-03-15T11:00:00.000Z'],
    ['@DAILY', '2024-03-16T00:00:00.000Z'],
    ['  @Hourly  ', '2024-03-15T11:00:00.000Z'],
  ])('%s ticks next at %s', (expression, expected) => {
    const schedule = parseScheduleExpression(expression)
    expect(schedule.type).toBe('cron')
    expect(schedule.recurring).toBe(true)
    expect(schedule.timezone).toBe('UTC')
    expect(schedule.source).toBe(expression.trim())
    expect(show(schedule.nextTick(NOW, 0))).toBe(expected)
  })

  it('evaluates aliases in the given time zone', () => {
    const schedule = parseScheduleExpression('@daily', { timezone: 'Europe/Paris' })
    expect(show(schedule.nextTick(NOW, 0))).toBe('2024-03-15T23:00:00.000Z')
  })

  it('keeps hourly ticks an hour apart', () => {
    expect(ticks(parseScheduleExpression('@hourly'), NOW, 3)).toEqual([
      '2024-03-15T11:00:00.000Z',
      '2024-03-15T12:00:00.000Z',
      '2024-03-15T13:00:00.000Z',
    ])
  })
})

describe('cron fields', () => {
  it.each([
    ['* * * * *', '2024-03-15T10:31:00.000Z'],
    ['0 9 * * *', '2024-03-16T09:00:00.000Z'],
    ['*/20 * * * *', '2024-03-15T10:40:00.000Z'],
    ['0 9 * * MON', '2024-03-18T09:00:00.000Z'],
    ['0 9 * * 1-5', '2024-03-18T09:00:00.000Z'],
    ['0 0 L * *', '2024-03-31T00:00:00.000Z'],
    ['0 0 * * 5#2', '2024-04-12T00:00:00.000Z'],
    ['0 0 9 * * *', '2024-03-16T09:00:00.000Z'],
    ['*/15 * * * * *', '2024-03-15T10:31:00.000Z'],
    ['30 * * * * *', '2024-03-15T10:31:30.000Z'],
    ['50 30 10 * * *', '2024-03-15T10:30:50.000Z'],
    ['0   9\t* * *', '2024-03-16T09:00:00.000Z'],
  ])('%j ticks next at %s', (expression, expected) => {
    expect(show(parseScheduleExpression(expression).nextTick(NOW, 0))).toBe(expected)
  })

  it('treats a five-field expression as having second 0', () => {
    const five = parseScheduleExpression('15 10 * * *')
    const six = parseScheduleExpression('0 15 10 * * *')
    const from = iso('2024-03-15T00:00:00Z')
    expect(ticks(five, from, 3)).toEqual(ticks(six, from, 3))
  })

  it('ticks every second with a six-field wildcard', () => {
    expect(ticks(parseScheduleExpression('* * * * * *'), NOW, 3)).toEqual([
      '2024-03-15T10:30:46.000Z',
      '2024-03-15T10:30:47.000Z',
      '2024-03-15T10:30:48.000Z',
    ])
  })

  it('returns a tick strictly after the given instant', () => {
    const schedule = parseScheduleExpression('0 9 * * *')
    expect(show(schedule.nextTick(iso('2024-03-15T09:00:00.000Z'), 0))).toBe('2024-03-16T09:00:00.000Z')
    expect(show(schedule.nextTick(iso('2024-03-15T08:59:59.999Z'), 0))).toBe('2024-03-15T09:00:00.000Z')
    expect(show(schedule.nextTick(iso('2024-03-15T09:00:00.001Z'), 0))).toBe('2024-03-16T09:00:00.000Z')
    const seconds = parseScheduleExpression('*/10 * * * * *')
    expect(show(seconds.nextTick(iso('2024-03-15T09:00:10.000Z'), 0))).toBe('2024-03-15T09:00:20.000Z')
  })

  it('ignores the anchor', () => {
    const schedule = parseScheduleExpression('0 9 * * *')
    expect(schedule.nextTick(NOW, 0)).toBe(schedule.nextTick(NOW, NOW))
  })

  it('ORs day-of-month and day-of-week when both are restricted, as cron does', () => {
    expect(ticks(parseScheduleExpression('0 0 13 * 5'), iso('2024-09-01T00:00:00Z'), 3)).toEqual([
      '2024-09-06T00:00:00.000Z',
      '2024-09-13T00:00:00.000Z',
      '2024-09-20T00:00:00.000Z',
    ])
  })

  it('finds rare ticks such as 29 February', () => {
    expect(show(parseScheduleExpression('0 0 29 2 *').nextTick(iso('2097-01-01T00:00:00Z'), 0))).toBe(
      '2104-02-29T00:00:00.000Z',
    )
  })

  it('gives hashed (H) fields the same value every time', () => {
    const a = parseScheduleExpression('H * * * *')
    const b = parseScheduleExpression('H * * * *')
    const first = a.nextTick(NOW, 0)
    expect(a.nextTick(NOW, 0)).toBe(first)
    expect(b.nextTick(NOW, 0)).toBe(first)
  })

  it('returns null at the end of the Date range instead of throwing', () => {
    expect(parseScheduleExpression('0 0 * * *').nextTick(8.64e15 - 1000, 0)).toBeNull()
  })

  it('rejects a non-finite instant', () => {
    expect(() => parseScheduleExpression('0 9 * * *').nextTick(Number.NaN, 0)).toThrow(InvalidArgumentError)
    expect(() => parseScheduleExpression('@every 1h').nextTick(0, Number.POSITIVE_INFINITY)).toThrow(
      InvalidArgumentError,
    )
  })
})

describe('cron time zones', () => {
  it('fires at 09:00 New York time: 14:00 UTC in winter, 13:00 UTC in summer', () => {
    const schedule = parseScheduleExpression('0 9 * * *', { timezone: 'America/New_York' })
    expect(schedule.timezone).toBe('America/New_York')
    // Daylight saving time starts on Sunday 10 March 2024 at 02:00 local time.
    expect(ticks(schedule, iso('2024-03-08T00:00:00Z'), 4)).toEqual([
      '2024-03-08T14:00:00.000Z',
      '2024-03-09T14:00:00.000Z',
      '2024-03-10T13:00:00.000Z',
      '2024-03-11T13:00:00.000Z',
    ])
    // ... and ends on Sunday 3 November 2024.
    expect(ticks(schedule, iso('2024-11-02T00:00:00Z'), 3)).toEqual([
      '2024-11-02T13:00:00.000Z',
      '2024-11-03T14:00:00.000Z',
      '2024-11-04T14:00:00.000Z',
    ])
  })

  it('runs a job in the skipped hour once, an hour late, when Paris springs forward', () => {
    // 31 March 2024: 02:00 CET jumps to 03:00 CEST, so 02:30 does not exist that day.
    const schedule = parseScheduleExpression('30 2 * * *', { timezone: 'Europe/Paris' })
    expect(ticks(schedule, iso('2024-03-29T12:00:00Z'), 3)).toEqual([
      '2024-03-30T01:30:00.000Z', // 02:30 CET
      '2024-03-31T01:30:00.000Z', // 03:30 CEST
      '2024-04-01T00:30:00.000Z', // 02:30 CEST
    ])
  })

  it('runs a job in the repeated hour once when Paris falls back', () => {
    // 27 October 2024: 03:00 CEST goes back to 02:00 CET, so 02:30 happens twice.
    const schedule = parseScheduleExpression('30 2 * * *', { timezone: 'Europe/Paris' })
    expect(ticks(schedule, iso('2024-10-25T12:00:00Z'), 3)).toEqual([
      '2024-10-26T00:30:00.000Z', // 02:30 CEST
      '2024-10-27T00:30:00.000Z', // first 02:30 (CEST) only
      '2024-10-28T01:30:00.000Z', // 02:30 CET
    ])
  })

  it('keeps hourly ticks one real hour apart across the fall-back hour', () => {
    const schedule = parseScheduleExpression('0 * * * *', { timezone: 'Europe/Paris' })
    expect(ticks(schedule, iso('2024-10-26T23:30:00Z'), 4)).toEqual([
      '2024-10-27T00:00:00.000Z', // 02:00 CEST
      '2024-10-27T01:00:00.000Z', // 02:00 CET
      '2024-10-27T02:00:00.000Z', // 03:00 CET
      '2024-10-27T03:00:00.000Z',
    ])
  })

  it('accepts zone names in any case and reports the canonical spelling', () => {
    expect(parseScheduleExpression('0 9 * * *', { timezone: 'europe/paris' }).timezone).toBe('Europe/Paris')
    expect(parseScheduleExpression('0 9 * * *', { timezone: 'utc' }).timezone).toBe('UTC')
  })

  it('accepts fixed-offset Etc zones', () => {
    const schedule = parseScheduleExpression('0 9 * * *', { timezone: 'Etc/GMT+5' })
    expect(show(schedule.nextTick(iso('2024-03-15T00:00:00Z'), 0))).toBe('2024-03-15T14:00:00.000Z')
  })

  it.each(['Mars/Olympus_Mons', 'Local', '+01:00', ''])('rejects the time zone %j and names it', (zone) => {
    expectScheduleError(
      () => parseScheduleExpression('0 9 * * *', { timezone: zone }),
      '0 9 * * *',
      `unknown time zone ${JSON.stringify(zone)}`,
    )
  })

  it('has no time zone for interval and instant schedules', () => {
    expect(parseScheduleExpression('@every 1h', { timezone: 'Europe/Paris' }).timezone).toBeNull()
    expect(parseScheduleExpression('@at 2027-01-01T09:00:00Z').timezone).toBeNull()
  })
})

describe('@every', () => {
  const anchor = iso('2024-01-01T00:00:00Z')
  const hour = 3_600_000

  it('ticks at anchor + k * interval, k >= 1', () => {
    const schedule = parseScheduleExpression('@every 1h')
    expect(schedule.type).toBe('every')
    expect(schedule.recurring).toBe(true)
    expect(schedule.nextTick(anchor, anchor)).toBe(anchor + hour)
    expect(schedule.nextTick(anchor + hour - 1, anchor)).toBe(anchor + hour)
    expect(schedule.nextTick(anchor + hour, anchor)).toBe(anchor + 2 * hour)
    expect(schedule.nextTick(anchor + 10.5 * hour, anchor)).toBe(anchor + 11 * hour)
    expect(schedule.nextTick(anchor - 5 * hour, anchor)).toBe(anchor + hour)
  })

  it('counts compound intervals from the anchor', () => {
    const schedule = parseScheduleExpression('@every 1 hour 20 minutes')
    const step = 80 * 60_000
    expect(ticks(schedule, anchor, 3)).toEqual([
      new Date(anchor + step).toISOString(),
      new Date(anchor + 2 * step).toISOString(),
      new Date(anchor + 3 * step).toISOString(),
    ])
    // A restart in the middle neither loses nor repeats a tick.
    expect(schedule.nextTick(anchor + step + 1, anchor)).toBe(anchor + 2 * step)
  })

  it('keeps the anchor phase for an anchor that is not on a round time', () => {
    const odd = anchor + 12_345
    expect(parseScheduleExpression('@every 90s').nextTick(odd + 100_000, odd)).toBe(odd + 180_000)
  })

  it('accepts the keyword in any case', () => {
    expect(parseScheduleExpression('@EVERY 2 days').nextTick(anchor, anchor)).toBe(anchor + 2 * 24 * hour)
  })

  it('accepts exactly one second but nothing shorter', () => {
    expect(parseScheduleExpression('@every 1s').nextTick(anchor, anchor)).toBe(anchor + 1000)
    expectScheduleError(() => parseScheduleExpression('@every 500ms'), '@every 500ms', 'at least 1 second')
    expectScheduleError(() => parseScheduleExpression('@every 999ms'), '@every 999ms', 'at least 1 second')
  })
})

describe('@after', () => {
  const anchor = iso('2024-01-01T00:00:00Z')
  const threeDays = 3 * 24 * 3_600_000

  it('ticks once at anchor + interval', () => {
    const schedule = parseScheduleExpression('@after 3 days')
    expect(schedule.type).toBe('after')
    expect(schedule.recurring).toBe(false)
    expect(schedule.nextTick(anchor, anchor)).toBe(anchor + threeDays)
    expect(schedule.nextTick(anchor + threeDays - 1, anchor)).toBe(anchor + threeDays)
    expect(schedule.nextTick(anchor + threeDays, anchor)).toBeNull()
    expect(schedule.nextTick(anchor + 2 * threeDays, anchor)).toBeNull()
  })

  it('allows sub-second delays', () => {
    expect(parseScheduleExpression('@after 500ms').nextTick(anchor, anchor)).toBe(anchor + 500)
  })
})

describe('@at', () => {
  it('ticks once at the instant', () => {
    const schedule = parseScheduleExpression('@at 2027-01-01T09:00:00Z')
    const at = Date.UTC(2027, 0, 1, 9)
    expect(schedule.type).toBe('at')
    expect(schedule.recurring).toBe(false)
    expect(schedule.nextTick(0, 0)).toBe(at)
    expect(schedule.nextTick(at - 1, 12345)).toBe(at)
    expect(schedule.nextTick(at, 0)).toBeNull()
    expect(schedule.nextTick(at + 1, 0)).toBeNull()
  })

  it.each([
    ['@at 2027-01-01T09:00:00Z', '2027-01-01T09:00:00.000Z'],
    ['@at 2027-01-01T09:00Z', '2027-01-01T09:00:00.000Z'],
    ['@at 2027-01-01t09:00:00z', '2027-01-01T09:00:00.000Z'],
    ['@at 2027-01-01 09:00:00Z', '2027-01-01T09:00:00.000Z'],
    ['@at 2027-01-01T09:00:00+02:00', '2027-01-01T07:00:00.000Z'],
    ['@at 2027-01-01T09:00:00-05:30', '2027-01-01T14:30:00.000Z'],
    ['@at 2027-01-01T09:00:00+0200', '2027-01-01T07:00:00.000Z'],
    ['@at 2027-01-01T00:30:00+01:00', '2026-12-31T23:30:00.000Z'],
    ['@at 2027-01-01T09:00:00.25Z', '2027-01-01T09:00:00.250Z'],
    ['@at 2027-01-01T09:00:00.123456Z', '2027-01-01T09:00:00.123Z'],
    ['@at 2028-02-29T12:00:00Z', '2028-02-29T12:00:00.000Z'],
    ['@AT   2027-06-01T09:00:00Z', '2027-06-01T09:00:00.000Z'],
  ])('%s is %s', (expression, expected) => {
    expect(show(parseScheduleExpression(expression).nextTick(0, 0))).toBe(expected)
  })

  it.each([
    ['@at 2027-01-01T09:00:00', 'no time-zone offset'],
    ['@at 2027-01-01', 'no time and no offset'],
    ['@at 2027-02-30T09:00:00Z', 'does not exist'],
    ['@at 2027-02-29T09:00:00Z', 'does not exist'],
    ['@at 2027-13-01T09:00:00Z', 'months run 01 to 12'],
    ['@at 2027-01-01T24:00:00Z', 'invalid time of day'],
    ['@at 2027-01-01T09:60:00Z', 'invalid time of day'],
    ['@at 2027-01-01T09:00:00+25:00', 'invalid offset'],
    ['@at tomorrow', 'not an ISO 8601 timestamp'],
    ['@at 1767258000000', 'not an ISO 8601 timestamp'],
    ['@at', '@at needs an argument'],
  ])('rejects %j', (expression, fragment) => {
    expectScheduleError(() => parseScheduleExpression(expression), expression, fragment)
  })
})

describe('parseInterval', () => {
  const s = 1000
  const m = 60 * s
  const h = 60 * m
  const d = 24 * h
  const w = 7 * d

  it.each([
    ['1 hour 20 minutes', h + 20 * m],
    ['1 week 6 days', w + 6 * d],
    ['90s', 90 * s],
    ['1h30m', h + 30 * m],
    ['1h 30m', h + 30 * m],
    ['500ms', 500],
    ['2 days', 2 * d],
    ['1.5 hours', 1.5 * h],
    ['.5h', 30 * m],
    ['1 HOUR', h],
    ['1 hour and 20 minutes', h + 20 * m],
    ['1 hour, 20 minutes', h + 20 * m],
    ['1 hour, and 20 minutes', h + 20 * m],
    ['1d,2h', d + 2 * h],
    ['30m 1h', h + 30 * m],
    ['  10 sec  ', 10 * s],
    ['1 millisecond', 1],
    ['3 milliseconds', 3],
    ['2 msec', 2],
    ['1 s', s],
    ['5 secs', 5 * s],
    ['1 second', s],
    ['7 seconds', 7 * s],
    ['1 m', m],
    ['2 min', 2 * m],
    ['3 mins', 3 * m],
    ['1 minute', m],
    ['4 minutes', 4 * m],
    ['1 hr', h],
    ['2 hrs', 2 * h],
    ['1d', d],
    ['1 day', d],
    ['2w', 2 * w],
    ['1 wk', w],
    ['1 week', w],
    ['1h 0m', h],
    ['1w 1d 1h 1m 1s 1ms', w + d + h + m + s + 1],
  ])('%j is %d ms', (text, expected) => {
    expect(parseInterval(text)).toBe(expected)
  })

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['0s', 'greater than zero'],
    ['0 hours 0 minutes', 'greater than zero'],
    ['-5m', 'positive'],
    ['1h -5m', 'positive'],
    ['90', 'has no unit'],
    ['5 fortnights', 'unknown unit "fortnights"'],
    ['1h 2h', 'hours are given twice'],
    ['1 hour 2 hrs', 'hours are given twice'],
    ['1m 30 minutes', 'minutes are given twice'],
    ['2 months', 'no fixed length'],
    ['1 year', 'no fixed length'],
    ['1mo', 'no fixed length'],
    ['h', 'cannot read "h"'],
    ['1h,', 'dangling separator'],
    ['1 hour and', 'cannot read "and"'],
    ['1.5ms', 'whole number of milliseconds'],
    ['one hour', 'cannot read "one hour"'],
    ['1e3 ms', 'unknown unit "e"'],
    ['999999999999999 weeks', 'too long'],
  ])('rejects %j', (text, fragment) => {
    expectScheduleError(() => parseInterval(text), text, fragment)
  })
})

describe('invalid expressions', () => {
  it.each([
    ['', 'the expression is empty'],
    ['   ', 'the expression is empty'],
    ['* * *', 'expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds, got 3'],
    ['0 0 0 1 1 * 2024', 'got 7'],
    ['garbage', 'got 1'],
    ['61 * * * *', 'invalid minute field "61"'],
    ['0 24 * * *', 'invalid hour field "24"'],
    ['0 0 32 * *', 'invalid day-of-month field "32"'],
    ['0 0 * 13 *', 'invalid month field "13"'],
    ['0 0 * * 8', 'invalid day-of-week field "8"'],
    ['60 0 0 * * *', 'invalid second field "60"'],
    ['0 9 * * * extra', 'invalid day-of-week field "extra"'],
    ['*/0 * * * *', 'invalid minute field "*/0"'],
    ['5-1 * * * *', 'invalid minute field "5-1"'],
    ['a b c d e', 'invalid minute field "a"'],
    ['0 0 30 2 *', 'never occurs in the given month'],
    ['0 0 31 2,4 *', 'never occurs in the given month'],
    ['@foo', 'unknown directive "@foo"'],
    ['@daily 9', 'unknown directive "@daily"'],
    ['@every1h', 'unknown directive "@every1h"'],
    ['@every', '@every needs an argument'],
    ['@every   ', '@every needs an argument'],
    ['@after', '@after needs an argument'],
    ['@every 1.5 months', 'whole number of months'],
    ['@every 1 month 1 month', 'months are given twice'],
    ['@every 0s', 'greater than zero'],
    ['@after -1h', 'positive'],
    ['@after soon', 'cannot read "soon"'],
  ])('rejects %j', (expression, fragment) => {
    expectScheduleError(() => parseScheduleExpression(expression), expression, fragment)
  })

  it.each([
    [
      '@every 1 fortnight',
      'unknown unit "fortnight"; use ms, s/sec/second, m/min/minute, h/hr/hour, d/day, w/wk/week, mo/month or y/yr/year',
    ],
    ['@after 3 jiffies', 'mo/month or y/yr/year'],
    ['@every 5', 'add one of ms, s, m, h, d, w, mo, y (e.g. "5s")'],
    ['@every soon', 'expected a number followed by a unit (ms, s, m, h, d, w, mo, y), e.g. "1h 30m"'],
  ])('lists every interval unit, months and years too: %j', (expression, fragment) => {
    expectScheduleError(() => parseScheduleExpression(expression), expression, fragment)
  })

  it.each([
    ['every 5 minutes', 'got 3; to repeat at an interval, write "@every 5 minutes"'],
    ['Every 1h30m', 'got 2; to repeat at an interval, write "@every 1h30m"'],
    ['5 minutes', 'got 2; to repeat at an interval, write "@every 5 minutes"'],
    ['after 2 days', 'got 3; to run once after an interval, write "@after 2 days"'],
    ['every day', 'got 2; to repeat at an interval, write "@every <interval>" (e.g. "@every 1 day")'],
  ])('points an interval written without @ to @every or @after: %j', (expression, fragment) => {
    expectScheduleError(() => parseScheduleExpression(expression), expression, fragment)
  })

  it('adds the @every hint to a five-field interval too, and none to a real cron mistake', () => {
    expectScheduleError(
      () => parseScheduleExpression('every 1 month 2 days'),
      'every 1 month 2 days',
      /invalid minute field "every" \(.+\); to repeat at an interval, write "@every 1 month 2 days"$/,
    )
    let caught: unknown
    try {
      parseScheduleExpression('* * *')
    } catch (error) {
      caught = error
    }
    expect((caught as Error).message).not.toContain('@every')
  })

  it('quotes the expression exactly as given, surrounding whitespace included', () => {
    expectScheduleError(() => parseScheduleExpression('  * * *  '), '  * * *  ', 'got 3')
  })

  it('keeps the cron-parser error as the cause', () => {
    try {
      parseScheduleExpression('61 * * * *')
      expect.unreachable()
    } catch (error) {
      expect((error as InvalidScheduleError).cause).toBeInstanceOf(Error)
    }
  })

  it('rejects a non-string expression', () => {
    expect(() => parseScheduleExpression(42 as unknown as string)).toThrow(InvalidScheduleError)
  })
})
