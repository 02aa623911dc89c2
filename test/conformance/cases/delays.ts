import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { Harness, HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { job, settle, useHarness, waitForState, waitWhileTicking } from '../helpers.js'

const ping = defineJob<{ n: number }>({ kind: 'ping' })

function record(h: Harness): number[] {
  const ran: number[] = []
  h.queue.register(ping, ({ n }) => {
    ran.push(n)
  })
  return ran
}

/** Delays and run-at: nothing runs before it is due; it runs once the clock passes its time. */
export default function delayCases(factory: HarnessFactory): void {
  describe('delays and run-at', () => {
    const open = useHarness(factory)

    it('does not run a delayed job before it is due', async () => {
      const h = await open()
      const ran = record(h)
      const r = await h.queue.enqueue(ping, { n: 1 }, { delayMs: 5000 })
      expect((await h.queue.drain()).total).toBe(0)
      h.clock.advance(4999)
      expect((await h.queue.drain()).total).toBe(0)
      expect(ran).toEqual([])
      expect((await job(h, r.id)).attempt).toBe(0)
    })

    it('runs a delayed job once the clock reaches its run-at', async () => {
      const h = await open()
      const ran = record(h)
      const r = await h.queue.enqueue(ping, { n: 1 }, { delayMs: 5000 })
      h.clock.advance(5000)
      expect(await h.queue.drain()).toMatchObject({ succeeded: 1, total: 1 })
      expect(ran).toEqual([1])
      expect(await job(h, r.id)).toMatchObject({
        state: 'succeeded',
        attempt: 1,
        attemptedAt: T0 + 5000,
        finishedAt: T0 + 5000,
      })
    })

    it('runs a job with an absolute runAt only from that time', async () => {
      const h = await open()
      const ran = record(h)
      await h.queue.enqueue(ping, { n: 1 }, { runAt: new Date(Date.UTC(2030, 0, 2)) })
      h.clock.set(Date.UTC(2030, 0, 1, 23, 59, 59, 999))
      await h.queue.drain()
      expect(ran).toEqual([])
      h.clock.set(Date.UTC(2030, 0, 2))
      await h.queue.drain()
      expect(ran).toEqual([1])
    })

    it('runs only the jobs that are due when several are delayed', async () => {
      const h = await open()
      const ran = record(h)
      await h.queue.enqueue(ping, { n: 3 }, { delayMs: 3000 })
      await h.queue.enqueue(ping, { n: 1 }, { delayMs: 1000 })
      await h.queue.enqueue(ping, { n: 2 }, { delayMs: 2000 })
      h.clock.advance(2000)
      await h.queue.drain()
      expect(ran).toEqual([1, 2])
      h.clock.advance(1000)
      await h.queue.drain()
      expect(ran).toEqual([1, 2, 3])
    })

    it('a zero delay is available at once', async () => {
      const h = await open()
      const ran = record(h)
      const r = await h.queue.enqueue(ping, { n: 1 }, { delayMs: 0 })
      expect(r).toMatchObject({ state: 'available', runAt: T0 })
      await h.queue.drain()
      expect(ran).toEqual([1])
    })

    it('rounds a fractional delay up to whole milliseconds', async () => {
      const h = await open()
      const r = await h.queue.enqueue(ping, { n: 1 }, { delayMs: 1500.2 })
      expect(r.runAt).toBe(T0 + 1501)
    })

    it('a started worker runs a delayed job after the clock passes its run-at, not before', async () => {
      const h = await open({ pollIntervalMs: 1000 })
      const ran = record(h)
      const r = await h.queue.enqueue(ping, { n: 1 }, { delayMs: 10_000 })
      await h.queue.start()
      h.clock.advance(9999)
      await settle()
      expect(ran).toEqual([])
      await waitWhileTicking(h, () => ran.length > 0)
      expect(h.clock.now()).toBeGreaterThanOrEqual(T0 + 10_000)
      await waitForState(h, r.id, 'succeeded')
    })
  })
}
