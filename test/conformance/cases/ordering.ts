import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { Harness, HarnessFactory } from '../harness.js'
import { useHarness, waitWhileTicking } from '../helpers.js'

const step = defineJob<{ name: string }>({ kind: 'step' })
const other = defineJob<{ name: string }>({ kind: 'other-step' })

/** Registers a handler on `step` (and `other`) that records the names in run order. */
function record(h: Harness): string[] {
  const order: string[] = []
  h.queue.register(step, ({ name }) => {
    order.push(name)
  })
  h.queue.register(other, ({ name }) => {
    order.push(name)
  })
  return order
}

/** Claim order under both poll strategies. */
export default function orderingCases(factory: HarnessFactory): void {
  describe('ordering', () => {
    const open = useHarness(factory)

    describe('priority strategy (default)', () => {
      it('runs lower priority numbers first', async () => {
        const h = await open()
        const order = record(h)
        for (const [name, priority] of [
          ['p5', 5],
          ['p-1', -1],
          ['p0', 0],
          ['p3', 3],
        ] as const) {
          await h.queue.enqueue(step, { name }, { priority })
        }
        await h.queue.drain()
        expect(order).toEqual(['p-1', 'p0', 'p3', 'p5'])
      })

      it('breaks priority ties by run-at, then by insertion', async () => {
        const h = await open()
        const order = record(h)
        await h.queue.enqueue(step, { name: 'late' }, { delayMs: 3000 })
        await h.queue.enqueue(step, { name: 'early' }, { delayMs: 1000 })
        await h.queue.enqueue(step, { name: 'middle-1' }, { delayMs: 2000 })
        await h.queue.enqueue(step, { name: 'middle-2' }, { delayMs: 2000 })
        h.clock.advance(5000)
        await h.queue.drain()
        expect(order).toEqual(['early', 'middle-1', 'middle-2', 'late'])
      })

      it('prefers priority over an earlier run-at', async () => {
        const h = await open()
        const order = record(h)
        await h.queue.enqueue(step, { name: 'old-low' }, { priority: 5 })
        h.clock.advance(60_000)
        await h.queue.enqueue(step, { name: 'new-high' }, { priority: 1 })
        await h.queue.drain()
        expect(order).toEqual(['new-high', 'old-low'])
      })

      it('keeps insertion order among equal jobs', async () => {
        const h = await open()
        const order = record(h)
        const names = Array.from({ length: 12 }, (_, i) => `j${i}`)
        for (const name of names) await h.queue.enqueue(step, { name })
        await h.queue.drain()
        expect(order).toEqual(names)
      })

      it('orders across kinds in one queue', async () => {
        const h = await open()
        const order = record(h)
        await h.queue.enqueue(step, { name: 'a' }, { priority: 2 })
        await h.queue.enqueue(other, { name: 'b' }, { priority: 1 })
        await h.queue.enqueue(step, { name: 'c' }, { priority: 1 })
        await h.queue.drain()
        expect(order).toEqual(['b', 'c', 'a'])
      })

      it('a retried job competes by its new run-at', async () => {
        const h = await open({ random: () => 0.5 })
        const order: string[] = []
        let failed = false
        h.queue.register(step, ({ name }) => {
          order.push(name)
          if (name === 'flaky' && !failed) {
            failed = true
            throw new Error('once')
          }
        })
        await h.queue.enqueue(step, { name: 'flaky' })
        await h.queue.drain()
        h.clock.advance(500)
        await h.queue.enqueue(step, { name: 'queued-later' })
        h.clock.advance(500)
        await h.queue.drain()
        // flaky is due again at +1000, queued-later since +500: it goes first.
        expect(order).toEqual(['flaky', 'queued-later', 'flaky'])
      })

      it('a started worker with concurrency 1 also takes jobs by priority', async () => {
        const h = await open({ queues: { default: { concurrency: 1 } } })
        const order = record(h)
        await h.queue.enqueue(step, { name: 'low' }, { priority: 9 })
        await h.queue.enqueue(step, { name: 'high' }, { priority: -9 })
        await h.queue.enqueue(step, { name: 'mid' }, { priority: 0 })
        await h.queue.start()
        await waitWhileTicking(h, () => order.length === 3)
        expect(order).toEqual(['high', 'mid', 'low'])
      })
    })

    describe('time strategy', () => {
      it('ignores priority and runs by run-at', async () => {
        const h = await open({ strategy: 'time' })
        const order = record(h)
        await h.queue.enqueue(step, { name: 'b' }, { delayMs: 2000, priority: -10 })
        await h.queue.enqueue(step, { name: 'a' }, { delayMs: 1000, priority: 10 })
        await h.queue.enqueue(step, { name: 'c' }, { delayMs: 3000, priority: 0 })
        h.clock.advance(3000)
        await h.queue.drain()
        expect(order).toEqual(['a', 'b', 'c'])
      })

      it('breaks run-at ties by insertion, whatever the priority', async () => {
        const h = await open({ strategy: 'time' })
        const order = record(h)
        await h.queue.enqueue(step, { name: 'first' }, { priority: 100 })
        await h.queue.enqueue(step, { name: 'second' }, { priority: -100 })
        await h.queue.enqueue(step, { name: 'third' }, { priority: 0 })
        await h.queue.drain()
        expect(order).toEqual(['first', 'second', 'third'])
      })

      it('a job enqueued later with an earlier run-at goes first', async () => {
        const h = await open({ strategy: 'time' })
        const order = record(h)
        await h.queue.enqueue(step, { name: 'delayed' }, { delayMs: 10_000, priority: -5 })
        h.clock.advance(5000)
        await h.queue.enqueue(step, { name: 'fresh' }, { priority: 5 })
        h.clock.advance(5000)
        await h.queue.drain()
        expect(order).toEqual(['fresh', 'delayed'])
      })
    })
  })
}
