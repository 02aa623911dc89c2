import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { ScheduleRunInfo } from '../../../src/core/ports/queue.js'
import type { Harness, HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { settle, useHarness, waitWhileTicking } from '../helpers.js'

const report = defineJob<{ v: number }>({ kind: 'report' })
const MIN = 60_000
const HOUR = 60 * MIN

interface Run extends ScheduleRunInfo {
  readonly payload: { v: number }
}

function runs(h: Harness, fail?: (info: ScheduleRunInfo) => boolean): Run[] {
  const seen: Run[] = []
  h.queue.register(report, (payload, ctx) => {
    seen.push({ ...ctx.schedule!, payload })
    if (fail?.(ctx.schedule!)) throw new Error('tick failed')
  })
  return seen
}

async function nextRunAt(h: Harness, name = 'report'): Promise<number | null | undefined> {
  return (await h.queue.listSchedules()).find((s) => s.name === name)?.nextRunAt
}

/** Schedule ticks across restarts, changes, missed ticks and concurrent firing. */
export default function scheduleTickCases(factory: HarnessFactory): void {
  describe('schedule ticks', () => {
    const open = useHarness(factory)

    describe('re-registering (process restarts)', () => {
      it('re-calling schedule() with the same expression keeps the next run time', async () => {
        const h = await open()
        await h.queue.schedule('@every 10 minutes', report, { v: 1 }, { name: 'report' })
        h.clock.advance(5 * MIN)
        await h.queue.schedule('@every 10 minutes', report, { v: 1 }, { name: 'report' })
        expect(await nextRunAt(h)).toBe(T0 + 10 * MIN)
      })

      it('a restart while a tick is due neither loses nor doubles it', async () => {
        const h = await open()
        const seen = runs(h)
        h.clock.advance(1000)
        await h.queue.schedule('*/10 * * * *', report, { v: 1 }, { name: 'report' })
        h.clock.set(T0 + 10 * MIN + 5000)
        await h.queue.schedule('*/10 * * * *', report, { v: 1 }, { name: 'report' })
        expect(await nextRunAt(h)).toBe(T0 + 10 * MIN)
        await h.queue.drain()
        await h.queue.schedule('*/10 * * * *', report, { v: 1 }, { name: 'report' })
        expect(await nextRunAt(h)).toBe(T0 + 20 * MIN)
        await h.queue.drain()
        h.clock.set(T0 + 20 * MIN)
        await h.queue.drain()
        expect(seen.map((s) => s.tick)).toEqual([T0 + 10 * MIN, T0 + 20 * MIN])
      })

      it('re-calling with a new payload keeps the time and uses the new payload', async () => {
        const h = await open()
        const seen = runs(h)
        await h.queue.schedule('@every 10 minutes', report, { v: 1 }, { name: 'report' })
        h.clock.advance(5 * MIN)
        await h.queue.schedule('@every 10 minutes', report, { v: 2 }, { name: 'report' })
        expect(await nextRunAt(h)).toBe(T0 + 10 * MIN)
        h.clock.set(T0 + 10 * MIN)
        await h.queue.drain()
        expect(seen.map((s) => s.payload)).toEqual([{ v: 2 }])
      })

      it('changing the expression recomputes the next run time', async () => {
        const h = await open()
        const seen = runs(h)
        await h.queue.schedule('@every 10 minutes', report, { v: 1 }, { name: 'report' })
        h.clock.advance(5 * MIN)
        await h.queue.schedule('@every 1 hour', report, { v: 1 }, { name: 'report' })
        expect(await nextRunAt(h)).toBe(T0 + 5 * MIN + HOUR)
        h.clock.set(T0 + 10 * MIN)
        await h.queue.drain()
        expect(seen).toEqual([])
      })

      it('changing the expression right after a tick fired does not fire that tick again', async () => {
        const h = await open()
        const seen = runs(h)
        await h.queue.schedule('@every 10 minutes', report, { v: 1 }, { name: 'report' })
        h.clock.set(T0 + 10 * MIN)
        await h.queue.drain()
        await h.queue.schedule('*/10 * * * *', report, { v: 1 }, { name: 'report' })
        await h.queue.drain()
        h.clock.set(T0 + 20 * MIN)
        await h.queue.drain()
        expect(seen.map((s) => s.tick)).toEqual([T0 + 10 * MIN, T0 + 20 * MIN])
      })

      it('unscheduling and scheduling again starts afresh', async () => {
        const h = await open()
        await h.queue.schedule('@every 10 minutes', report, { v: 1 }, { name: 'report' })
        h.clock.advance(5 * MIN)
        await h.queue.unschedule('report')
        await h.queue.schedule('@every 10 minutes', report, { v: 1 }, { name: 'report' })
        expect(await nextRunAt(h)).toBe(T0 + 15 * MIN)
      })

      it('changing the time zone recomputes the next run time', async () => {
        const h = await open()
        h.clock.advance(1000)
        await h.queue.schedule('0 9 * * *', report, { v: 1 }, { name: 'report', timezone: 'UTC' })
        expect(await nextRunAt(h)).toBe(Date.UTC(2030, 0, 1, 9))
        await h.queue.schedule('0 9 * * *', report, { v: 1 }, { name: 'report', timezone: 'Asia/Tokyo' })
        expect(await nextRunAt(h)).toBe(Date.UTC(2030, 0, 2, 0))
      })

      it('re-registering a one-off that already fired does not fire it again', async () => {
        const h = await open()
        const seen = runs(h)
        await h.queue.schedule('@after 1 hour', report, { v: 1 }, { name: 'report' })
        await h.queue.schedule('@at 2030-01-01T00:30:00Z', report, { v: 2 }, { name: 'at-once' })
        h.clock.set(T0 + HOUR)
        await h.queue.drain()
        expect(seen).toHaveLength(2)
        await h.queue.schedule('@after 1 hour', report, { v: 1 }, { name: 'report' })
        await h.queue.schedule('@at 2030-01-01T00:30:00Z', report, { v: 2 }, { name: 'at-once' })
        h.clock.advance(3 * HOUR)
        await h.queue.drain()
        expect(seen).toHaveLength(2)
      })
    })

    describe('missed ticks', () => {
      it('runOnce enqueues only the latest missed tick after a long jump', async () => {
        const h = await open()
        const seen = runs(h)
        h.clock.advance(1000)
        await h.queue.schedule('*/10 * * * *', report, { v: 1 }, { name: 'report' })
        h.clock.set(T0 + 65 * MIN)
        expect((await h.queue.drain()).total).toBe(1)
        expect(seen.map((s) => s.tick)).toEqual([T0 + 60 * MIN])
        expect(await nextRunAt(h)).toBe(T0 + 70 * MIN)
        expect(await h.queue.listJobs({ scheduleName: 'report' })).toHaveLength(1)
      })

      it('runOnce fires the latest tick even after days of downtime', async () => {
        const h = await open()
        const seen = runs(h)
        await h.queue.schedule('@every 1 hour', report, { v: 1 }, { name: 'report' })
        h.clock.set(T0 + 72 * HOUR + 30 * MIN)
        await h.queue.drain()
        expect(seen.map((s) => s.tick)).toEqual([T0 + 72 * HOUR])
        expect(await nextRunAt(h)).toBe(T0 + 73 * HOUR)
      })

      it('skip drops ticks older than the tolerance and resumes on time', async () => {
        const h = await open()
        const seen = runs(h)
        h.clock.advance(1000)
        await h.queue.schedule('*/10 * * * *', report, { v: 1 }, { name: 'report', missed: 'skip' })
        h.clock.set(T0 + 65 * MIN)
        expect((await h.queue.drain()).total).toBe(0)
        expect(await nextRunAt(h)).toBe(T0 + 70 * MIN)
        h.clock.set(T0 + 70 * MIN)
        await h.queue.drain()
        expect(seen.map((s) => s.tick)).toEqual([T0 + 70 * MIN])
      })

      it('skip still fires a tick that is late by less than the tolerance (default 60 s)', async () => {
        const h = await open()
        const seen = runs(h)
        h.clock.advance(1000)
        await h.queue.schedule('*/10 * * * *', report, { v: 1 }, { name: 'report', missed: 'skip' })
        h.clock.set(T0 + 10 * MIN + 30_000)
        await h.queue.drain()
        expect(seen.map((s) => s.tick)).toEqual([T0 + 10 * MIN])
      })

      it('skip honours a configured tolerance', async () => {
        const h = await open({ scheduler: { missedToleranceMs: 10 * MIN } })
        const seen = runs(h)
        h.clock.advance(1000)
        await h.queue.schedule('*/10 * * * *', report, { v: 1 }, { name: 'report', missed: 'skip' })
        h.clock.set(T0 + 65 * MIN)
        await h.queue.drain()
        expect(seen.map((s) => s.tick)).toEqual([T0 + 60 * MIN])
      })

      it('stores the missed-tick policy with the schedule', async () => {
        const h = await open()
        expect(
          (await h.queue.schedule('@hourly', report, { v: 1 }, { name: 'report', missed: 'skip' }))
            .missedPolicy,
        ).toBe('skip')
        expect((await h.queue.schedule('@hourly', report, { v: 1 }, { name: 'other' })).missedPolicy).toBe(
          'runOnce',
        )
      })
    })

    describe('runs', () => {
      it('a run knows its previous successful run time', async () => {
        const h = await open()
        const seen = runs(h, (info) => info.tick === T0 + 3 * MIN)
        await h.queue.schedule('@every 1 minute', report, { v: 1 }, { name: 'report', maxAttempts: 1 })
        for (let i = 1; i <= 4; i++) {
          h.clock.set(T0 + i * MIN)
          await h.queue.drain()
        }
        expect(
          seen.map((s) => [s.tick - T0, s.previousSuccessAt === null ? null : s.previousSuccessAt - T0]),
        ).toEqual([
          [MIN, null],
          [2 * MIN, MIN],
          [3 * MIN, 2 * MIN],
          [4 * MIN, 2 * MIN],
        ])
        expect((await h.queue.listSchedules())[0]).toMatchObject({
          lastSuccessAt: T0 + 4 * MIN,
          lastTickAt: T0 + 4 * MIN,
        })
      })

      it('a run of an older tick that runs after a newer one succeeded sees the success before its own tick', async () => {
        const h = await open()
        const seen: ScheduleRunInfo[] = []
        h.queue.register(report, (_payload, ctx) => {
          seen.push(ctx.schedule!)
          // Tick 1's first run snoozes past tick 2, so tick 2 runs and succeeds first.
          if (ctx.schedule!.tick === T0 + MIN && seen.length === 1) return ctx.snooze(5 * MIN)
        })
        await h.queue.schedule('@every 1 minute', report, { v: 1 }, { name: 'report', missed: 'skip' })
        h.clock.set(T0 + MIN)
        await h.queue.drain()
        h.clock.set(T0 + 2 * MIN)
        await h.queue.drain()
        h.clock.set(T0 + 6 * MIN + 1)
        await h.queue.drain()
        const tickOneLater = seen.filter((s) => s.tick === T0 + MIN)[1]
        expect(tickOneLater).toBeDefined()
        expect(tickOneLater?.previousSuccessAt).toBeNull()
        for (const s of seen) {
          if (s.previousSuccessAt !== null) expect(s.previousSuccessAt).toBeLessThan(s.tick)
        }
      })

      it('a tick fires while the previous tick job still waits (ticks do not block each other)', async () => {
        const h = await open()
        await h.queue.schedule('@every 1 minute', report, { v: 1 }, { name: 'report', queue: 'held' })
        h.clock.set(T0 + MIN)
        await h.queue.drain()
        h.clock.set(T0 + 2 * MIN)
        await h.queue.drain()
        const jobs = await h.queue.listJobs({ scheduleName: 'report' })
        expect(jobs.map((j) => j.scheduleTick)).toEqual([T0 + 2 * MIN, T0 + MIN])
      })

      it('concurrent drains fire a tick exactly once', async () => {
        const h = await open()
        const seen = runs(h)
        await h.queue.schedule('@every 1 minute', report, { v: 1 }, { name: 'report' })
        h.clock.set(T0 + MIN)
        const results = await Promise.all([h.queue.drain(), h.queue.drain(), h.queue.drain()])
        expect(results.reduce((n, r) => n + r.total, 0)).toBe(1)
        expect(seen).toHaveLength(1)
        expect(await h.queue.listJobs({ scheduleName: 'report' })).toHaveLength(1)
      })

      it('drain with recursive keeps firing ticks only up to now', async () => {
        const h = await open()
        const seen = runs(h)
        await h.queue.schedule('@every 1 minute', report, { v: 1 }, { name: 'report' })
        h.clock.set(T0 + MIN)
        expect((await h.queue.drain({ recursive: true })).total).toBe(1)
        expect(seen).toHaveLength(1)
      })

      it('a started scheduler fires each tick once and the worker runs it', async () => {
        const h = await open({ scheduler: { intervalMs: 1000 } })
        const seen = runs(h)
        await h.queue.schedule('@every 1 minute', report, { v: 1 }, { name: 'report' })
        await h.queue.start()
        await waitWhileTicking(h, () => seen.length === 1, 5000)
        for (let i = 0; i < 5; i++) {
          h.clock.advance(5000)
          await settle()
        }
        expect(h.clock.now()).toBeLessThan(T0 + 2 * MIN)
        expect(seen.map((s) => s.tick)).toEqual([T0 + MIN])
        await waitWhileTicking(h, () => seen.length === 2, 5000)
        expect(seen.map((s) => s.tick)).toEqual([T0 + MIN, T0 + 2 * MIN])
      })
    })
  })
}
