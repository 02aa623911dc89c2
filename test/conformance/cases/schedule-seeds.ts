import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { ScheduleRunInfo } from '../../../src/core/ports/queue.js'
import type { Harness, HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { expectError, useHarness } from '../helpers.js'

const backup = defineJob<{ target: string }>({ kind: 'backup' })
const MIN = 60_000
const HOUR = 60 * MIN
const iso = (ms: number | null | undefined): string | null | undefined =>
  ms === null || ms === undefined ? ms : new Date(ms).toISOString()

/** Records the schedule info of every run. */
function runs(h: Harness): ScheduleRunInfo[] {
  const seen: ScheduleRunInfo[] = []
  h.queue.register(backup, (_p, ctx) => {
    seen.push(ctx.schedule!)
  })
  return seen
}

async function nextRunAt(h: Harness, name: string): Promise<number | null | undefined> {
  return (await h.queue.listSchedules()).find((s) => s.name === name)?.nextRunAt
}

/** Schedule features taken from the seeds' own examples (qron, @perseid/jobs, arrower). */
export default function scheduleSeedCases(factory: HarnessFactory): void {
  describe('schedules from the seeds', () => {
    const open = useHarness(factory)

    it('qron: "@after 1 month 1 week 3 days" fires once, a month and ten days later', async () => {
      const h = await open()
      const seen = runs(h)
      await h.queue.schedule('@after 1 month 1 week 3 days', backup, { target: 'db' }, { name: 'b' })
      // 2030-01-01 + 1 month = 2030-02-01, + 10 days = 2030-02-11.
      expect(iso(await nextRunAt(h, 'b'))).toBe('2030-02-11T00:00:00.000Z')
      h.clock.set(Date.parse('2030-02-10T23:59:59.999Z'))
      await h.queue.drain()
      expect(seen).toEqual([])
      h.clock.set(Date.parse('2030-02-11T00:00:00.000Z'))
      await h.queue.drain()
      h.clock.advance(400 * 24 * HOUR)
      await h.queue.drain()
      expect(seen.map((s) => iso(s.tick))).toEqual(['2030-02-11T00:00:00.000Z'])
      expect(await nextRunAt(h, 'b')).toBeNull()
    })

    it('qron: "@every 1 month" from 31 January ticks at the end of February, then a month after that', async () => {
      const h = await open()
      const seen = runs(h)
      h.clock.set(Date.parse('2030-01-31T09:00:00Z'))
      await h.queue.schedule('@every 1 month', backup, { target: 'db' }, { name: 'm' })
      expect(iso(await nextRunAt(h, 'm'))).toBe('2030-02-28T09:00:00.000Z')
      h.clock.set(Date.parse('2030-02-28T09:00:00Z'))
      await h.queue.drain()
      expect(iso(await nextRunAt(h, 'm'))).toBe('2030-03-28T09:00:00.000Z')
      h.clock.set(Date.parse('2030-03-28T09:00:00Z'))
      await h.queue.drain()
      expect(seen.map((s) => iso(s.tick))).toEqual(['2030-02-28T09:00:00.000Z', '2030-03-28T09:00:00.000Z'])
    })

    it('qron: "@every 1 year" in a time zone keeps the local time', async () => {
      const h = await open()
      // 2030-07-01 10:00 in Paris (CEST, 08:00Z); a year later still 10:00 local.
      h.clock.set(Date.parse('2030-07-01T08:00:00Z'))
      await h.queue.schedule(
        '@every 1 year',
        backup,
        { target: 'db' },
        { name: 'y', timezone: 'Europe/Paris' },
      )
      const [record] = await h.queue.listSchedules()
      expect(record).toMatchObject({ name: 'y', timezone: 'Europe/Paris' })
      expect(iso(record?.nextRunAt)).toBe('2031-07-01T08:00:00.000Z')
    })

    it('a monthly interval with days crosses daylight saving by the wall clock', async () => {
      const h = await open()
      // 2030-03-01 09:00 CET (08:00Z) + 1 month = 2030-04-01 09:00 CEST (07:00Z).
      h.clock.set(Date.parse('2030-03-01T08:00:00Z'))
      await h.queue.schedule(
        '@every 1 month',
        backup,
        { target: 'db' },
        { name: 'p', timezone: 'Europe/Paris' },
      )
      expect(iso(await nextRunAt(h, 'p'))).toBe('2030-04-01T07:00:00.000Z')
    })

    it('aliases keep their cron meaning (midnight-aligned); @minutely is every minute', async () => {
      const h = await open()
      h.clock.set(T0 + 90 * MIN + 30_000)
      await h.queue.schedule('@monthly', backup, { target: 'a' }, { name: 'monthly' })
      await h.queue.schedule('@yearly', backup, { target: 'a' }, { name: 'yearly' })
      await h.queue.schedule('@minutely', backup, { target: 'a' }, { name: 'minutely' })
      await h.queue.schedule('@every 1 month', backup, { target: 'a' }, { name: 'interval' })
      expect(iso(await nextRunAt(h, 'monthly'))).toBe('2030-02-01T00:00:00.000Z')
      expect(iso(await nextRunAt(h, 'yearly'))).toBe('2031-01-01T00:00:00.000Z')
      expect(iso(await nextRunAt(h, 'minutely'))).toBe('2030-01-01T01:31:00.000Z')
      expect(iso(await nextRunAt(h, 'interval'))).toBe('2030-02-01T01:30:30.000Z')
    })

    it('qron: "@at 2023-02-18T17:53:00.000Z" in the past runs once, at once', async () => {
      const h = await open()
      const seen = runs(h)
      const expression = '@at 2023-02-18T17:53:00.000Z'
      await h.queue.schedule(expression, backup, { target: 'db' }, { name: 'late' })
      expect(await nextRunAt(h, 'late')).toBe(T0)
      expect((await h.queue.drain()).total).toBe(1)
      expect(seen.map((s) => s.tick)).toEqual([T0])
      // Registering it again (a restart) does not run it again.
      h.clock.advance(HOUR)
      await h.queue.schedule(expression, backup, { target: 'db' }, { name: 'late' })
      expect(await nextRunAt(h, 'late')).toBeNull()
      expect((await h.queue.drain()).total).toBe(0)
      expect(seen).toHaveLength(1)
    })

    it('a past @at runs at once even with missed: skip', async () => {
      const h = await open()
      const seen = runs(h)
      await h.queue.schedule(
        '@at 2023-02-18T17:53:00Z',
        backup,
        { target: 'db' },
        { name: 's', missed: 'skip' },
      )
      await h.queue.drain()
      expect(seen).toHaveLength(1)
    })

    it('perseid: startAt + recurrence: no tick before startAt, the first at startAt', async () => {
      const h = await open()
      const seen = runs(h)
      const startAt = T0 + 3 * 24 * HOUR + 30 * MIN
      await h.queue.schedule(
        '@every 1 hour',
        backup,
        { target: 'db' },
        { name: 'st', startAt: new Date(startAt) },
      )
      expect(await nextRunAt(h, 'st')).toBe(startAt)
      h.clock.set(startAt - 1)
      await h.queue.drain()
      expect(seen).toEqual([])
      h.clock.set(startAt)
      await h.queue.drain()
      h.clock.set(startAt + HOUR)
      await h.queue.drain()
      expect(seen.map((s) => s.tick)).toEqual([startAt, startAt + HOUR])
    })

    it('startAt with cron: the first tick at or after startAt', async () => {
      const h = await open()
      await h.queue.schedule('0 * * * *', backup, { target: 'db' }, { name: 'c', startAt: T0 + 90 * MIN })
      expect(await nextRunAt(h, 'c')).toBe(T0 + 2 * HOUR)
      // A startAt in the past changes nothing (a cron registered on its tick fires that tick).
      await h.queue.schedule('0 * * * *', backup, { target: 'db' }, { name: 'd', startAt: T0 - HOUR })
      expect(await nextRunAt(h, 'd')).toBe(T0)
    })

    it('changing startAt moves the next run time; re-registering the same keeps it', async () => {
      const h = await open()
      await h.queue.schedule(
        '@every 1 hour',
        backup,
        { target: 'db' },
        { name: 'st', startAt: T0 + 5 * HOUR },
      )
      await h.queue.schedule(
        '@every 1 hour',
        backup,
        { target: 'db' },
        { name: 'st', startAt: T0 + 5 * HOUR },
      )
      expect(await nextRunAt(h, 'st')).toBe(T0 + 5 * HOUR)
      await h.queue.schedule(
        '@every 1 hour',
        backup,
        { target: 'db' },
        { name: 'st', startAt: T0 + 7 * HOUR },
      )
      expect(await nextRunAt(h, 'st')).toBe(T0 + 7 * HOUR)
    })

    it('rejects a bad startAt, and startAt with @at', async () => {
      const h = await open()
      await expectError(
        () => h.queue.schedule('@hourly', backup, { target: 'a' }, { startAt: 'tomorrow' as never }),
        'INVALID_ARGUMENT',
        'startAt',
      )
      await expectError(
        () => h.queue.schedule('@at 2031-01-01T00:00:00Z', backup, { target: 'a' }, { startAt: T0 + HOUR }),
        'INVALID_ARGUMENT',
        'startAt',
      )
      expect(await h.queue.listSchedules()).toEqual([])
    })

    it('perseid: startAfter: a schedule runs after each success of another, with its own previousSuccessAt', async () => {
      const h = await open()
      const report = defineJob<{ of: string }>({ kind: 'report' })
      const reports: ScheduleRunInfo[] = []
      let failBackup = false
      h.queue.register(backup, () => {
        if (failBackup) throw new Error('backup failed')
      })
      h.queue.register(report, (_p, ctx) => {
        reports.push(ctx.schedule!)
      })
      await h.queue.schedule('@every 1 hour', backup, { target: 'db' }, { name: 'backup', maxAttempts: 1 })
      const chained = await h.queue.schedule(
        '@after 1 minute',
        report,
        { of: 'db' },
        { name: 'report', after: 'backup' },
      )
      expect(chained).toMatchObject({ name: 'report', after: 'backup', nextRunAt: null })
      // The first backup succeeds: the report is enqueued for the backup's tick + 1 minute.
      h.clock.set(T0 + HOUR)
      await h.queue.drain()
      await h.queue.drain()
      expect(reports).toEqual([])
      h.clock.set(T0 + HOUR + MIN)
      await h.queue.drain()
      expect(reports).toEqual([{ name: 'report', tick: T0 + HOUR + MIN, previousSuccessAt: null }])
      // More passes enqueue nothing more.
      await h.queue.drain()
      await h.queue.drain()
      expect(reports).toHaveLength(1)
      // A failed backup enqueues no report.
      failBackup = true
      h.clock.set(T0 + 2 * HOUR + MIN)
      await h.queue.drain()
      await h.queue.drain()
      expect(reports).toHaveLength(1)
      // The next success does, and the report sees its own previous success.
      failBackup = false
      h.clock.set(T0 + 3 * HOUR + MIN)
      await h.queue.drain()
      await h.queue.drain()
      expect(reports.map((r) => r.tick)).toEqual([T0 + HOUR + MIN, T0 + 3 * HOUR + MIN])
      expect(reports[1]?.previousSuccessAt).toBe(T0 + HOUR + MIN)
      // With the other schedule removed, nothing is enqueued; the chained schedule stays listed.
      await h.queue.unschedule('backup')
      h.clock.set(T0 + 10 * HOUR)
      await h.queue.drain()
      await h.queue.drain()
      expect(reports).toHaveLength(2)
      expect((await h.queue.listSchedules()).map((s) => s.name)).toEqual(['report'])
    })

    it('a chained schedule does not fire for successes from before it was created', async () => {
      const h = await open()
      const report = defineJob<{ of: string }>({ kind: 'report' })
      h.queue.register(backup, () => {})
      const reports: number[] = []
      h.queue.register(report, (_p, ctx) => {
        reports.push(ctx.schedule!.tick)
      })
      await h.queue.schedule('@every 1 hour', backup, { target: 'db' }, { name: 'backup' })
      h.clock.set(T0 + HOUR)
      await h.queue.drain()
      h.clock.set(T0 + HOUR + 30 * MIN)
      await h.queue.schedule('@after 1s', report, { of: 'db' }, { name: 'report', after: 'backup' })
      await h.queue.drain()
      await h.queue.drain()
      expect(reports).toEqual([])
      h.clock.set(T0 + 2 * HOUR)
      await h.queue.drain()
      await h.queue.drain()
      h.clock.set(T0 + 2 * HOUR + 1000)
      await h.queue.drain()
      expect(reports).toEqual([T0 + 2 * HOUR + 1000])
    })

    it('rejects a chained schedule without an @after delay, or after itself', async () => {
      const h = await open()
      await expectError(
        () => h.queue.schedule('@hourly', backup, { target: 'a' }, { name: 'x', after: 'other' }),
        'INVALID_ARGUMENT',
        '@after <interval>',
      )
      await expectError(
        () => h.queue.schedule('@after 1s', backup, { target: 'a' }, { name: 'x', after: 'x' }),
        'INVALID_ARGUMENT',
        'itself',
      )
      await expectError(
        () => h.queue.schedule('@after 1s', backup, { target: 'a' }, { name: 'x', after: 'bad name' }),
        'INVALID_ARGUMENT',
        'after',
      )
      expect(await h.queue.listSchedules()).toEqual([])
    })

    it('arrower: the same kind scheduled twice with different payloads keeps both', async () => {
      const h = await open()
      const targets: string[] = []
      h.queue.register(backup, ({ target }) => {
        targets.push(target)
      })
      const a = await h.queue.schedule('0 4 * * *', backup, { target: 'a' })
      const b = await h.queue.schedule('0 4 * * *', backup, { target: 'custom-param-for-worker' })
      expect(a.name).not.toBe(b.name)
      expect(a.name).toMatch(/^backup:[0-9a-f]{8}$/)
      expect((await h.queue.listSchedules()).map((s) => s.name).sort()).toEqual([a.name, b.name].sort())
      // Registering the same one again is idempotent: same name, still two schedules.
      const again = await h.queue.schedule('0 4 * * *', backup, { target: 'a' })
      expect(again.name).toBe(a.name)
      expect(await h.queue.listSchedules()).toHaveLength(2)
      h.clock.set(T0 + 4 * HOUR)
      await h.queue.drain()
      expect(targets.sort()).toEqual(['a', 'custom-param-for-worker'])
    })

    it('the default name does not depend on the order of payload keys', async () => {
      const h = await open()
      const job = defineJob<{ a: number; b: number }>({ kind: 'pair' })
      const one = await h.queue.schedule('@daily', job, { a: 1, b: 2 })
      const two = await h.queue.schedule('@daily', job, { b: 2, a: 1 })
      expect(two.name).toBe(one.name)
      const three = await h.queue.schedule('@hourly', job, { a: 1, b: 2 })
      expect(three.name).not.toBe(one.name)
    })

    it('a schedule stored under the old default name (the kind) is taken over, not doubled', async () => {
      const h = await open()
      // As stored by earlier versions: named by the kind alone.
      await h.queue.schedule('0 4 * * *', backup, { target: 'a' }, { name: 'backup' })
      const adopted = await h.queue.schedule('0 4 * * *', backup, { target: 'a' })
      expect(adopted.name).toBe('backup')
      expect(await h.queue.listSchedules()).toHaveLength(1)
      // A different unnamed schedule of the kind lives beside it.
      await h.queue.schedule('0 5 * * *', backup, { target: 'a' })
      expect(await h.queue.listSchedules()).toHaveLength(2)
    })
  })
}
