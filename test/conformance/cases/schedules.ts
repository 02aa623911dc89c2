import { describe, expect, it } from 'vitest'
import { InvalidScheduleError } from '../../../src/core/domain/errors.js'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { ScheduleRunInfo } from '../../../src/core/ports/queue.js'
import type { Harness, HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { expectError, useHarness } from '../helpers.js'

const cleanup = defineJob<{ scope: string }>({ kind: 'cleanup' })
const MIN = 60_000
const HOUR = 60 * MIN

/** Records the schedule info of every run. */
function runs(h: Harness): ScheduleRunInfo[] {
  const seen: ScheduleRunInfo[] = []
  h.queue.register(cleanup, (_p, ctx) => {
    seen.push(ctx.schedule!)
  })
  return seen
}

async function nextRunAt(h: Harness, name = 'cleanup'): Promise<number | null | undefined> {
  return (await h.queue.listSchedules()).find((s) => s.name === name)?.nextRunAt
}

/** Schedules: expressions, ticks with drain, time zones, unschedule, invalid input. */
export default function scheduleCases(factory: HarnessFactory): void {
  describe('schedules', () => {
    const open = useHarness(factory)

    it('stores a schedule named by kind and a hash of expression and payload, with its next run time', async () => {
      const h = await open()
      h.clock.advance(1000)
      const record = await h.queue.schedule('*/10 * * * *', cleanup, { scope: 'all' })
      expect(record.name).toMatch(/^cleanup:[0-9a-f]{8}$/)
      expect(record).toMatchObject({
        expression: '*/10 * * * *',
        kind: 'cleanup',
        payload: { scope: 'all' },
        nextRunAt: T0 + 10 * MIN,
        missedPolicy: 'runOnce',
      })
      expect(await h.queue.listSchedules()).toEqual([
        expect.objectContaining({ name: record.name, nextRunAt: T0 + 10 * MIN }),
      ])
    })

    it('fires a cron schedule once per tick as the clock advances', async () => {
      const h = await open()
      const seen = runs(h)
      h.clock.advance(1000)
      await h.queue.schedule('*/10 * * * *', cleanup, { scope: 'all' }, { name: 'cleanup' })
      expect((await h.queue.drain()).total).toBe(0)
      for (let i = 1; i <= 3; i++) {
        h.clock.set(T0 + i * 10 * MIN)
        expect((await h.queue.drain()).total).toBe(1)
        expect((await h.queue.drain()).total).toBe(0)
      }
      expect(seen.map((s) => s.tick)).toEqual([T0 + 10 * MIN, T0 + 20 * MIN, T0 + 30 * MIN])
      expect(seen.every((s) => s.name === 'cleanup')).toBe(true)
    })

    it('does not fire before the first tick', async () => {
      const h = await open()
      const seen = runs(h)
      h.clock.advance(1000)
      await h.queue.schedule('*/10 * * * *', cleanup, { scope: 'all' }, { name: 'cleanup' })
      h.clock.set(T0 + 10 * MIN - 1)
      await h.queue.drain()
      expect(seen).toEqual([])
    })

    it('gives tick jobs the schedule options, name and tick', async () => {
      const h = await open()
      await h.queue.schedule(
        '@every 5 minutes',
        cleanup,
        { scope: 'x' },
        { name: 'cleanup', queue: 'maint', priority: 3, maxAttempts: 2, tags: ['cron'] },
      )
      h.clock.advance(5 * MIN)
      await h.queue.drain()
      const [tickJob] = await h.queue.listJobs({ scheduleName: 'cleanup' })
      expect(tickJob).toMatchObject({
        kind: 'cleanup',
        queue: 'maint',
        priority: 3,
        maxAttempts: 2,
        tags: ['cron'],
        payload: { scope: 'x' },
        scheduleName: 'cleanup',
        scheduleTick: T0 + 5 * MIN,
        runAt: T0 + 5 * MIN,
      })
    })

    it('@every ticks at creation + k intervals, aligned to the previous tick when run late', async () => {
      const h = await open()
      const seen = runs(h)
      await h.queue.schedule('@every 10 minutes', cleanup, { scope: 'all' }, { name: 'cleanup' })
      expect(await nextRunAt(h)).toBe(T0 + 10 * MIN)
      h.clock.set(T0 + 10 * MIN + 37_000)
      await h.queue.drain()
      expect(await nextRunAt(h)).toBe(T0 + 20 * MIN)
      h.clock.set(T0 + 20 * MIN)
      await h.queue.drain()
      expect(seen.map((s) => s.tick)).toEqual([T0 + 10 * MIN, T0 + 20 * MIN])
    })

    it('@every accepts compound intervals', async () => {
      const h = await open()
      await h.queue.schedule('@every 1 hour 20 minutes', cleanup, { scope: 'all' }, { name: 'cleanup' })
      expect(await nextRunAt(h)).toBe(T0 + 80 * MIN)
    })

    it('@after fires once, after the interval', async () => {
      const h = await open()
      const seen = runs(h)
      await h.queue.schedule('@after 3 days', cleanup, { scope: 'all' }, { name: 'cleanup' })
      h.clock.set(T0 + 72 * HOUR - 1)
      await h.queue.drain()
      expect(seen).toEqual([])
      h.clock.set(T0 + 72 * HOUR)
      await h.queue.drain()
      h.clock.advance(30 * 24 * HOUR)
      await h.queue.drain()
      expect(seen.map((s) => s.tick)).toEqual([T0 + 72 * HOUR])
      expect(await nextRunAt(h)).toBeNull()
    })

    it('@at fires once at the instant', async () => {
      const h = await open()
      const seen = runs(h)
      await h.queue.schedule('@at 2030-01-01T06:00:00+02:00', cleanup, { scope: 'all' }, { name: 'cleanup' })
      expect(await nextRunAt(h)).toBe(T0 + 4 * HOUR)
      h.clock.set(T0 + 4 * HOUR)
      await h.queue.drain()
      h.clock.advance(24 * HOUR)
      await h.queue.drain()
      expect(seen.map((s) => s.tick)).toEqual([T0 + 4 * HOUR])
      expect(await nextRunAt(h)).toBeNull()
    })

    it('@at in the past is due at once (qron runs it once, at once)', async () => {
      const h = await open()
      const seen = runs(h)
      await h.queue.schedule('@at 2029-12-31T23:00:00Z', cleanup, { scope: 'all' }, { name: 'cleanup' })
      expect(await nextRunAt(h)).toBe(T0)
      await h.queue.drain()
      expect(seen.map((s) => s.tick)).toEqual([T0])
    })

    it('supports six-field cron with seconds', async () => {
      const h = await open()
      const seen = runs(h)
      h.clock.advance(1)
      await h.queue.schedule('*/30 * * * * *', cleanup, { scope: 'all' }, { name: 'cleanup' })
      for (let i = 1; i <= 4; i++) {
        h.clock.set(T0 + i * 30_000)
        await h.queue.drain()
      }
      expect(seen.map((s) => s.tick - T0)).toEqual([30_000, 60_000, 90_000, 120_000])
    })

    it.each([
      ['@hourly', T0 + HOUR],
      ['@daily', T0 + 24 * HOUR],
      ['@weekly', Date.UTC(2030, 0, 6)],
      ['@monthly', Date.UTC(2030, 1, 1)],
      ['@yearly', Date.UTC(2031, 0, 1)],
    ])('supports the %s alias', async (expression, expected) => {
      const h = await open()
      h.clock.advance(1)
      await h.queue.schedule(expression, cleanup, { scope: 'all' }, { name: 'cleanup' })
      expect(await nextRunAt(h)).toBe(expected)
    })

    it('evaluates cron in the given time zone', async () => {
      const h = await open()
      const seen = runs(h)
      h.clock.advance(1000)
      const record = await h.queue.schedule(
        '0 9 * * *',
        cleanup,
        { scope: 'all' },
        { name: 'cleanup', timezone: 'America/New_York' },
      )
      expect(record.timezone).toBe('America/New_York')
      expect(record.nextRunAt).toBe(Date.UTC(2030, 0, 1, 14))
      h.clock.set(Date.UTC(2030, 0, 1, 14))
      await h.queue.drain()
      expect(seen.map((s) => s.tick)).toEqual([Date.UTC(2030, 0, 1, 14)])
      expect(await nextRunAt(h)).toBe(Date.UTC(2030, 0, 2, 14))
    })

    it('follows daylight saving time in the zone', async () => {
      const h = await open()
      const seen = runs(h)
      h.clock.set(Date.UTC(2030, 2, 29, 12))
      await h.queue.schedule(
        '0 9 * * *',
        cleanup,
        { scope: 'all' },
        { name: 'cleanup', timezone: 'Europe/Paris' },
      )
      // Paris switches to summer time on Sunday 31 March 2030: 09:00 is 08:00Z before, 07:00Z after.
      for (const at of [Date.UTC(2030, 2, 30, 8), Date.UTC(2030, 2, 31, 7), Date.UTC(2030, 3, 1, 7)]) {
        h.clock.set(at)
        await h.queue.drain()
      }
      expect(seen.map((s) => new Date(s.tick).toISOString())).toEqual([
        '2030-03-30T08:00:00.000Z',
        '2030-03-31T07:00:00.000Z',
        '2030-04-01T07:00:00.000Z',
      ])
    })

    it('rejects an unknown time zone with INVALID_SCHEDULE', async () => {
      const h = await open()
      await expectError(
        () =>
          h.queue.schedule(
            '0 9 * * *',
            cleanup,
            { scope: 'all' },
            { name: 'cleanup', timezone: 'Mars/Olympus' },
          ),
        'INVALID_SCHEDULE',
        'Mars/Olympus',
      )
      expect(await h.queue.listSchedules()).toEqual([])
    })

    it.each([
      'not a cron',
      '* * *',
      '61 * * * *',
      '* * * * * * *',
      '',
      '@sometimes',
      '@every',
      '@every 0s',
      '@every 1.5 months',
      '@every 5 parsecs',
      '@after -3 days',
      '@at tomorrow',
      '@at 2030-13-01T00:00:00Z',
      '@at 2030-06-01T09:00:00',
    ])('rejects %j with INVALID_SCHEDULE quoting the expression', async (expression) => {
      const h = await open()
      const error = await expectError(
        () => h.queue.schedule(expression, cleanup, { scope: 'all' }, { name: 'cleanup' }),
        'INVALID_SCHEDULE',
      )
      expect(error).toBeInstanceOf(InvalidScheduleError)
      expect((error as InvalidScheduleError).expression).toBe(expression)
      expect(error.message).toContain(JSON.stringify(expression))
      expect(await h.queue.listSchedules()).toEqual([])
    })

    it('unschedule stops the ticks and reports whether the schedule existed', async () => {
      const h = await open()
      const seen = runs(h)
      await h.queue.schedule('@every 1 minute', cleanup, { scope: 'all' }, { name: 'cleanup' })
      h.clock.advance(MIN)
      await h.queue.drain()
      expect(await h.queue.unschedule('cleanup')).toBe(true)
      expect(await h.queue.unschedule('cleanup')).toBe(false)
      h.clock.advance(10 * MIN)
      await h.queue.drain()
      expect(seen).toHaveLength(1)
      expect(await h.queue.listSchedules()).toEqual([])
    })

    it('several named schedules of one kind fire independently, listed by name', async () => {
      const h = await open()
      const scopes: string[] = []
      h.queue.register(cleanup, ({ scope }) => {
        scopes.push(scope)
      })
      await h.queue.schedule('@every 2 minutes', cleanup, { scope: 'b' }, { name: 'zz-b' })
      await h.queue.schedule('@every 1 minute', cleanup, { scope: 'a' }, { name: 'aa-a' })
      expect((await h.queue.listSchedules()).map((s) => s.name)).toEqual(['aa-a', 'zz-b'])
      h.clock.advance(MIN)
      await h.queue.drain()
      h.clock.advance(MIN)
      await h.queue.drain()
      expect([...scopes].sort()).toEqual(['a', 'a', 'b'])
    })

    it('rejects bad schedule options', async () => {
      const h = await open()
      await expectError(
        () =>
          h.queue.schedule(
            '@hourly',
            cleanup,
            { scope: 'a' },
            { name: 'cleanup', missed: 'sometimes' as never },
          ),
        'INVALID_ARGUMENT',
        'missed',
      )
      await expectError(
        () => h.queue.schedule('@hourly', cleanup, { scope: 'a' }, { name: 'bad name' }),
        'INVALID_ARGUMENT',
        'name',
      )
      await expectError(
        () => h.queue.schedule('@hourly', cleanup, { scope: 'a' }, { name: 'cleanup', priority: 1e9 }),
        'INVALID_OPTIONS',
        'priority',
      )
      await expectError(
        () => h.queue.schedule('@hourly', cleanup, { scope: 'a' }, { every: 1 } as never),
        'INVALID_OPTIONS',
        '"every"',
      )
      await expectError(
        () => h.queue.schedule('@hourly', { kind: 'x' } as never, {}),
        'INVALID_ARGUMENT',
        'defineJob',
      )
      expect(await h.queue.listSchedules()).toEqual([])
    })
  })
}
