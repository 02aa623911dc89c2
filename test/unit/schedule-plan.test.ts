/**
 * The pure schedule decisions of src/core/domain/schedules at their edges: the record stored when a
 * schedule is registered or its expression changed (schedule-record.ts), which tick a due schedule
 * fires and where it moves (tick-plan.ts), and the parsing edges of `@at` timestamps and intervals.
 */
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, InvalidScheduleError } from '../../src/core/domain/errors.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { parseScheduleExpression } from '../../src/core/domain/schedules/expression.js'
import { parseIntervalParts } from '../../src/core/domain/schedules/interval.js'
import { scheduleRecordFor, scheduleWithExpression } from '../../src/core/domain/schedules/schedule-record.js'
import { chainedTick, planTick } from '../../src/core/domain/schedules/tick-plan.js'
import { DAY_MS, MAX_DATE_MS } from '../../src/core/domain/schedules/time-units.js'
import type { ScheduleOptions } from '../../src/core/ports/queue.js'
import type { ScheduleRecord } from '../../src/core/ports/store.js'

const T0 = Date.UTC(2030, 0, 1)
const MINUTE = 60_000
const job = defineJob({ kind: 'report' })

function register(expression: string, options: ScheduleOptions = {}, existing?: ScheduleRecord, now = T0) {
  return scheduleRecordFor({ expression, job, payload: null, options, name: 'nightly', now, existing })
}

/** A stored schedule: the record `register` builds, with the bookkeeping fields of the store. */
function stored(
  expression: string,
  options: ScheduleOptions = {},
  fields: Partial<ScheduleRecord> = {},
): ScheduleRecord {
  const record = register(expression, options)
  return {
    ...record,
    startAt: record.startAt ?? null,
    after: record.after ?? null,
    lastTickAt: null,
    lastSuccessAt: null,
    createdAt: T0,
    updatedAt: T0,
    ...fields,
  }
}

const refusesWith = (run: () => unknown, type: new (...args: never[]) => Error, message: string) => {
  expect(run).toThrow(type)
  expect(run).toThrow(message)
}

describe('scheduleRecordFor', () => {
  it('refuses an expression that is not a string with InvalidArgumentError', () => {
    refusesWith(
      () => register(5 as never),
      InvalidArgumentError,
      'schedule(expression, ...) needs a string expression',
    )
  })

  it.each(['runAt', 'delayMs', 'uniqueKey', 'dependsOn', 'tx'])('refuses the job option %s', (key) => {
    refusesWith(
      () => register('@every 1h', { [key]: undefined } as ScheduleOptions),
      InvalidArgumentError,
      `schedule option ${key} is not supported`,
    )
  })

  it('takes missed: runOnce and skip, and nothing else', () => {
    expect(register('@every 1h', { missed: 'runOnce' }).missedPolicy).toBe('runOnce')
    expect(register('@every 1h', { missed: 'skip' }).missedPolicy).toBe('skip')
    expect(register('@every 1h').missedPolicy).toBe('runOnce')
    refusesWith(
      () => register('@every 1h', { missed: 'all' as never }),
      InvalidArgumentError,
      'missed must be',
    )
  })

  it('refuses after with an expression other than @after, or with startAt', () => {
    refusesWith(
      () => register('0 9 * * *', { after: 'other' }),
      InvalidArgumentError,
      'write its expression as the delay',
    )
    refusesWith(
      () => register('@after 1 minute', { after: 'other', startAt: T0 + DAY_MS }),
      InvalidArgumentError,
      'write its expression as the delay',
    )
    expect(register('@after 1 minute', { after: 'other' })).toMatchObject({ after: 'other', nextRunAt: null })
  })

  it('starts @every one interval after now, and @every with a future startAt at startAt itself', () => {
    expect(register('@every 1h').nextRunAt).toBe(T0 + 60 * MINUTE)
    expect(register('@every 1h', { startAt: T0 + DAY_MS }).nextRunAt).toBe(T0 + DAY_MS)
    // A startAt of now itself is not in the future: the schedule starts from now.
    expect(register('@every 1h', { startAt: T0 }).nextRunAt).toBe(T0 + 60 * MINUTE)
  })

  it('starts cron at startAt when startAt is itself a tick', () => {
    const startAt = T0 + DAY_MS + 9 * 60 * MINUTE
    expect(register('0 9 * * *', { startAt }).nextRunAt).toBe(startAt)
  })

  it('makes a past @at due now and a future @at due at its instant', () => {
    expect(register('@at 2029-06-01T00:00:00Z').nextRunAt).toBe(T0)
    expect(register('@at 2030-06-01T00:00:00Z').nextRunAt).toBe(Date.UTC(2030, 5, 1))
  })

  it('keeps the stored next run time when expression, time zone, start and predecessor are the same', () => {
    const later = T0 + 5 * MINUTE
    const cases: [string, ScheduleOptions][] = [
      ['0 9 * * *', {}],
      ['0 9 * * *', { timezone: 'Europe/Paris' }],
      ['@every 1h', { startAt: T0 + DAY_MS }],
      ['@after 1 minute', { after: 'other' }],
    ]
    for (const [expression, options] of cases) {
      const existing = stored(expression, options, { nextRunAt: later })
      expect(register(expression, options, existing).nextRunAt, expression).toBe(later)
    }
  })

  it('computes a new next run time when the predecessor, start or time zone changed', () => {
    const later = T0 + 5 * MINUTE
    const byOther = stored('@after 1 minute', { after: 'other' }, { nextRunAt: later })
    expect(register('@after 1 minute', {}, byOther).nextRunAt).toBe(T0 + MINUTE)
    const started = stored('@every 1h', { startAt: T0 + DAY_MS }, { nextRunAt: later })
    expect(register('@every 1h', {}, started).nextRunAt).toBe(T0 + 60 * MINUTE)
    const paris = stored('0 9 * * *', { timezone: 'Europe/Paris' }, { nextRunAt: later })
    expect(register('0 9 * * *', {}, paris).nextRunAt).toBe(T0 + 9 * 60 * MINUTE)
  })
})

describe('scheduleWithExpression', () => {
  it('reads the new expression in the stored time zone', () => {
    const existing = stored('0 8 * * *', { timezone: 'America/New_York' })
    // 09:00 in New York in January is 14:00 UTC.
    expect(scheduleWithExpression(existing, '0 9 * * *', T0).nextRunAt).toBe(T0 + 14 * 60 * MINUTE)
  })

  it('keeps the next run time of an unchanged expression', () => {
    const existing = stored('@every 1h', {}, { nextRunAt: T0 + 5 * MINUTE })
    expect(scheduleWithExpression(existing, '@every 1h', T0 + MINUTE).nextRunAt).toBe(T0 + 5 * MINUTE)
    expect(scheduleWithExpression(existing, '@every 2h', T0).nextRunAt).toBe(T0 + 120 * MINUTE)
  })

  it('refuses @at for a schedule with a startAt, and anything but @after for one that runs after another', () => {
    const started = stored('@every 1h', { startAt: T0 + DAY_MS })
    refusesWith(
      () => scheduleWithExpression(started, '@at 2030-06-01T00:00:00Z', T0),
      InvalidArgumentError,
      'has a startAt',
    )
    expect(scheduleWithExpression(started, '@every 2h', T0).nextRunAt).toBe(T0 + DAY_MS)
    const chained = stored('@after 1 minute', { after: 'other' })
    refusesWith(
      () => scheduleWithExpression(chained, '@every 1h', T0),
      InvalidArgumentError,
      'runs after "other"',
    )
    expect(scheduleWithExpression(chained, '@after 2 minutes', T0).nextRunAt).toBeNull()
  })

  it('accepts @at for a schedule without startAt', () => {
    const existing = stored('@every 1h')
    expect(scheduleWithExpression(existing, '@at 2030-06-01T00:00:00Z', T0).nextRunAt).toBe(
      Date.UTC(2030, 5, 1),
    )
  })
})

describe('planTick', () => {
  it('fires nothing before the schedule is due, or when it has no next run time', () => {
    const future = stored('@every 1m', {}, { nextRunAt: T0 + 1 })
    expect(planTick(future, T0, 0)).toEqual({ tick: null, nextRunAt: T0 + 1 })
    const ended = stored('@every 1m', {}, { nextRunAt: null })
    expect(planTick(ended, T0, 0)).toEqual({ tick: null, nextRunAt: null })
  })

  it('fires a tick late by exactly the tolerance as on time, even when the next is due too', () => {
    const schedule = stored('@every 1m', {}, { nextRunAt: T0 - MINUTE })
    expect(planTick(schedule, T0, MINUTE)).toEqual({ tick: T0 - MINUTE, nextRunAt: T0 })
  })

  it('under skip, fires the latest missed tick when it is late by exactly the tolerance', () => {
    const schedule = stored('@every 1m', { missed: 'skip' }, { nextRunAt: T0 - 90_000 })
    expect(planTick(schedule, T0, 30_000)).toEqual({ tick: T0 - 30_000, nextRunAt: T0 + 30_000 })
    expect(planTick(schedule, T0 + 1, 30_000)).toEqual({ tick: null, nextRunAt: T0 + 30_000 })
  })

  it('after more missed ticks than it walks, still moves the next run time past now', () => {
    // 200,000 missed one-second ticks: more than the catch-up walks one by one.
    for (const missed of ['runOnce', 'skip'] as const) {
      const schedule = stored('@every 1s', { missed }, { nextRunAt: T0 - 200_000_000 })
      const plan = planTick(schedule, T0 + 500, 0)
      expect(plan.nextRunAt).toBe(T0 + 1_000)
      if (missed === 'skip') expect(plan.tick).toBeNull()
      else expect(plan.tick).not.toBeNull()
    }
  })
})

describe('chainedTick', () => {
  const chained = (fields: Partial<ScheduleRecord> = {}) =>
    stored('@after 1 minute', { after: 'other' }, { nextRunAt: null, ...fields })
  const other = (lastSuccessAt: number | null) => stored('@every 1h', {}, { name: 'other', lastSuccessAt })

  it('owes the delay after a success of the other schedule from its own creation on', () => {
    expect(chainedTick(chained(), other(T0))).toBe(T0 + MINUTE)
    expect(chainedTick(chained(), other(T0 - 1))).toBeNull()
    expect(chainedTick(chained(), other(null))).toBeNull()
    expect(chainedTick(chained(), undefined)).toBeNull()
  })

  it('owes nothing for a success already ticked for', () => {
    expect(chainedTick(chained({ lastTickAt: T0 + MINUTE }), other(T0))).toBeNull()
    expect(chainedTick(chained({ lastTickAt: T0 + MINUTE - 1 }), other(T0))).toBe(T0 + MINUTE)
  })

  it('adds a calendar delay in the schedule time zone', () => {
    const success = Date.UTC(2030, 2, 15, 12)
    const paris = stored('@after 1 month', { after: 'other', timezone: 'Europe/Paris' }, { createdAt: T0 })
    // 13:00 in Paris (UTC+1) on 15 March, one month later 13:00 in Paris (UTC+2).
    expect(chainedTick(paris, other(success))).toBe(Date.UTC(2030, 3, 15, 11))
  })
})

describe('@at timestamps', () => {
  const at = (text: string) => parseScheduleExpression(`@at ${text}`).nextTick(Date.UTC(2000, 0, 1), 0)

  it('accepts the last valid time of day and offset', () => {
    expect(at('2030-01-01T23:59:59Z')).toBe(T0 + DAY_MS - 1_000)
    expect(at('2030-01-01T00:00:00+23:59')).toBe(T0 - (23 * 60 + 59) * MINUTE)
    expect(at('2030-12-31T00:00Z')).toBe(Date.UTC(2030, 11, 31))
  })

  it.each([
    ['2030-00-01T00:00Z', 'has month 00'],
    ['2030-13-01T00:00Z', 'has month 13'],
    ['2030-01-00T00:00Z', 'names a day that does not exist'],
    ['2030-02-30T00:00Z', 'names a day that does not exist'],
    ['2030-01-01T24:00Z', 'has an invalid time of day'],
    ['2030-01-01T00:60Z', 'has an invalid time of day'],
    ['2030-01-01T00:00:60Z', 'has an invalid time of day'],
    ['2030-01-01T00:00+24:00', 'has an invalid offset'],
    ['2030-01-01T00:00+01:60', 'has an invalid offset'],
    ['2030-01-01', 'has no time and no offset'],
    ['x2030-01-01', 'is not an ISO 8601 timestamp'],
    ['2030-01-01x', 'is not an ISO 8601 timestamp'],
  ])('refuses %s', (text, message) => {
    refusesWith(() => at(text), InvalidScheduleError, message)
  })
})

describe('intervals', () => {
  const parts = (text: string) => parseIntervalParts(text, text)

  it('refuses a text that is not a string', () => {
    refusesWith(
      () => parseIntervalParts(5 as never, '@every 5'),
      InvalidScheduleError,
      'an interval must be a string',
    )
  })

  it.each([
    ['1h - 5m', 'an interval must be positive'],
    ['1h-5m', 'cannot read'],
    [', 1h', 'cannot read'],
    ['and 1h', 'cannot read'],
    ['5', '"5" has no unit'],
    ['1h 1.55', '"1.55" has no unit'],
    ['1h x5', 'cannot read'],
    ['5!', 'cannot read'],
    ['0s', 'an interval must be greater than zero'],
    ['300001 years', 'the interval is too long'],
    ['1 month 100000001 days', 'the interval is too long'],
    ['8640000000000001 ms', 'the interval is too long'],
  ])('refuses %j', (text, message) => {
    refusesWith(() => parts(text), InvalidScheduleError, message)
  })

  it('accepts the longest intervals and zero time beside months', () => {
    expect(parts('300000 years')).toEqual({ months: 3_600_000, days: 0, ms: 0 })
    expect(parts('1 month 100000000 days')).toEqual({ months: 1, days: 100_000_000, ms: 0 })
    expect(parts('8640000000000000 ms')).toEqual({ months: 0, days: 0, ms: MAX_DATE_MS })
    expect(parts('1 month 0s')).toEqual({ months: 1, days: 0, ms: 0 })
  })

  it('keeps fractional days beside months as elapsed time, whole days as calendar days', () => {
    expect(parts('1 month 1.5 days')).toEqual({ months: 1, days: 0, ms: 1.5 * DAY_MS })
    expect(parts('1 month 2 days')).toEqual({ months: 1, days: 2, ms: 0 })
  })
})

describe('schedule expressions', () => {
  it('reads a directive only at the start of the expression', () => {
    refusesWith(
      () => parseScheduleExpression('x@every 1h'),
      InvalidScheduleError,
      'Invalid schedule expression',
    )
    expect(parseScheduleExpression('@every 1h').type).toBe('every')
  })

  it('shows an example for a directive without its argument', () => {
    refusesWith(
      () => parseScheduleExpression('@at'),
      InvalidScheduleError,
      '@at needs an argument, e.g. "@at 2027-01-01T09:00:00Z"',
    )
    refusesWith(
      () => parseScheduleExpression('@every'),
      InvalidScheduleError,
      '@every needs an argument, e.g. "@every 1 hour 30 minutes"',
    )
  })

  it('names a time zone that is not a string, and keeps the cause of an unknown one', () => {
    refusesWith(
      () => parseScheduleExpression('0 9 * * *', { timezone: 5 as never }),
      InvalidScheduleError,
      'unknown time zone number 5',
    )
    try {
      parseScheduleExpression('0 9 * * *', { timezone: 'Mars/Olympus_Mons' })
      expect.unreachable()
    } catch (error) {
      expect((error as Error).cause).toBeInstanceOf(RangeError)
    }
  })

  it('keeps a zone name that Intl maps to another zone', () => {
    expect(parseScheduleExpression('0 9 * * *', { timezone: 'EST' }).timezone).toBe('EST')
    expect(parseScheduleExpression('0 9 * * *', { timezone: 'US/Eastern' }).timezone).toBe('US/Eastern')
  })

  it('fires @after with a calendar interval once, strictly after the instant given', () => {
    const schedule = parseScheduleExpression('@after 1 month')
    const tick = Date.UTC(2030, 1, 1)
    expect(schedule.nextTick(T0, T0)).toBe(tick)
    expect(schedule.nextTick(tick - 1, T0)).toBe(tick)
    expect(schedule.nextTick(tick, T0)).toBeNull()
    expect(schedule.nextTick(Date.UTC(2030, 3, 1), T0)).toBeNull()
  })
})
