import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import { waitFor } from '../../support/wait.js'
import type { Harness, HarnessFactory } from '../harness.js'
import {
  ConcurrencyProbe,
  gate,
  job,
  settle,
  useHarness,
  waitForState,
  waitWhileTicking,
} from '../helpers.js'

const step = defineJob<{ name: string; fail?: boolean }>({ kind: 'group-step' })

function record(h: Harness): string[] {
  const order: string[] = []
  h.queue.register(step, ({ name, fail }, ctx) => {
    order.push(name)
    if (fail && ctx.attempt === 1) throw new Error('first attempt fails')
  })
  return order
}

/** Group keys: one running job per group, in enqueue order; groups run in parallel. */
export default function groupKeyCases(factory: HarnessFactory): void {
  describe('group keys', () => {
    const open = useHarness(factory)

    it('runs a group in enqueue order', async () => {
      const h = await open()
      const order = record(h)
      for (const name of ['a1', 'a2', 'a3']) await h.queue.enqueue(step, { name }, { groupKey: 'a' })
      await h.queue.drain()
      expect(order).toEqual(['a1', 'a2', 'a3'])
    })

    it('keeps FIFO within a group even when a later job has a better priority', async () => {
      const h = await open()
      const order = record(h)
      await h.queue.enqueue(step, { name: 'g-first' }, { groupKey: 'g', priority: 10 })
      await h.queue.enqueue(step, { name: 'g-second' }, { groupKey: 'g', priority: -10 })
      await h.queue.enqueue(step, { name: 'free' }, { priority: 0 })
      await h.queue.drain()
      expect(order.indexOf('g-first')).toBeLessThan(order.indexOf('g-second'))
      expect(order).toHaveLength(3)
    })

    it('keeps FIFO within a group under the time strategy', async () => {
      const h = await open({ strategy: 'time' })
      const order = record(h)
      await h.queue.enqueue(step, { name: 'g-first' }, { groupKey: 'g', delayMs: 5000 })
      await h.queue.enqueue(step, { name: 'g-second' }, { groupKey: 'g' })
      h.clock.advance(5000)
      await h.queue.drain()
      expect(order).toEqual(['g-first', 'g-second'])
    })

    it('a later job waits while the head of its group is not yet due', async () => {
      const h = await open()
      const order = record(h)
      await h.queue.enqueue(step, { name: 'g-head' }, { groupKey: 'g', delayMs: 60_000 })
      const tail = await h.queue.enqueue(step, { name: 'g-tail' }, { groupKey: 'g' })
      await h.queue.enqueue(step, { name: 'other' }, { groupKey: 'h' })
      await h.queue.drain()
      expect(order).toEqual(['other'])
      expect((await job(h, tail.id)).state).toBe('available')
      h.clock.advance(60_000)
      await h.queue.drain()
      expect(order).toEqual(['other', 'g-head', 'g-tail'])
    })

    it('a retrying head blocks its group until it finishes', async () => {
      const h = await open({ random: () => 0.5 })
      const order = record(h)
      const head = await h.queue.enqueue(step, { name: 'head', fail: true }, { groupKey: 'g' })
      const next = await h.queue.enqueue(step, { name: 'next' }, { groupKey: 'g' })
      await h.queue.drain()
      expect(order).toEqual(['head'])
      expect((await job(h, head.id)).state).toBe('retryable')
      expect((await job(h, next.id)).state).toBe('available')
      h.clock.advance(1000)
      await h.queue.drain()
      expect(order).toEqual(['head', 'head', 'next'])
    })

    it('a failed head releases its group', async () => {
      const h = await open()
      const order: string[] = []
      h.queue.register(step, ({ name }) => {
        order.push(name)
        if (name === 'head') throw new Error('dead')
      })
      await h.queue.enqueue(step, { name: 'head' }, { groupKey: 'g', maxAttempts: 1 })
      await h.queue.enqueue(step, { name: 'next' }, { groupKey: 'g' })
      await h.queue.drain()
      expect(order).toEqual(['head', 'next'])
    })

    it('a cancelled or deleted head releases its group', async () => {
      const h = await open()
      const order = record(h)
      const a = await h.queue.enqueue(step, { name: 'a' }, { groupKey: 'g', delayMs: 60_000 })
      const b = await h.queue.enqueue(step, { name: 'b' }, { groupKey: 'g', delayMs: 60_000 })
      await h.queue.enqueue(step, { name: 'c' }, { groupKey: 'g' })
      await h.queue.cancelJobs({ ids: [a.id] })
      await h.queue.deleteJobs({ ids: [b.id] })
      await h.queue.drain()
      expect(order).toEqual(['c'])
    })

    it('a snoozed head keeps its place at the head of the group', async () => {
      const h = await open()
      const order: string[] = []
      h.queue.register(step, ({ name }, ctx) => {
        order.push(name)
        if (name === 'head' && order.length === 1) return ctx.snooze(1000)
        return undefined
      })
      await h.queue.enqueue(step, { name: 'head' }, { groupKey: 'g' })
      await h.queue.enqueue(step, { name: 'next' }, { groupKey: 'g' })
      await h.queue.drain()
      expect(order).toEqual(['head'])
      h.clock.advance(1000)
      await h.queue.drain()
      expect(order).toEqual(['head', 'head', 'next'])
    })

    it('groups are per key: other groups and ungrouped jobs are not blocked', async () => {
      const h = await open({ random: () => 0.5 })
      const order = record(h)
      await h.queue.enqueue(step, { name: 'a1', fail: true }, { groupKey: 'a' })
      await h.queue.enqueue(step, { name: 'a2' }, { groupKey: 'a' })
      await h.queue.enqueue(step, { name: 'b1' }, { groupKey: 'b' })
      await h.queue.enqueue(step, { name: 'b2' }, { groupKey: 'b' })
      await h.queue.enqueue(step, { name: 'free' })
      await h.queue.drain()
      expect([...order].sort()).toEqual(['a1', 'b1', 'b2', 'free'])
    })

    it('with started workers, one job per group runs at a time while different groups run in parallel', async () => {
      const h = await open({ queues: { default: { concurrency: 4 } } })
      const probe = new ConcurrencyProbe()
      const gates = new Map<string, ReturnType<typeof gate>>()
      const started: string[] = []
      h.queue.register(step, async ({ name }, ctx) => {
        const leave = probe.enter(ctx.job.groupKey ?? '')
        started.push(name)
        const g = gate()
        gates.set(name, g)
        await g.wait()
        leave()
      })
      for (const name of ['a1', 'a2', 'a3']) await h.queue.enqueue(step, { name }, { groupKey: 'a' })
      for (const name of ['b1', 'b2']) await h.queue.enqueue(step, { name }, { groupKey: 'b' })
      await h.queue.start()
      await waitFor(() => started.length === 2)
      await settle()
      expect([...started].sort()).toEqual(['a1', 'b1'])
      gates.get('a1')!.open()
      await waitWhileTicking(h, () => started.includes('a2'))
      gates.get('b1')!.open()
      await waitWhileTicking(h, () => started.includes('b2'))
      gates.get('a2')!.open()
      await waitWhileTicking(h, () => started.includes('a3'))
      gates.get('a3')!.open()
      gates.get('b2')!.open()
      await waitWhileTicking(h, async () => (await h.queue.listJobs({ states: ['succeeded'] })).length === 5)
      expect(started).toEqual(expect.arrayContaining(['a1', 'a2', 'a3', 'b1', 'b2']))
      expect(started.filter((n) => n.startsWith('a'))).toEqual(['a1', 'a2', 'a3'])
      expect(probe.peakByKey.get('a')).toBe(1)
      expect(probe.peakByKey.get('b')).toBe(1)
      expect(probe.peak).toBe(2)
    })

    it('a running head (under a started worker) blocks the next job of its group', async () => {
      const h = await open({ queues: { default: { concurrency: 10 } } })
      const hold = gate()
      const started: string[] = []
      h.queue.register(step, async ({ name }) => {
        started.push(name)
        if (name === 'head') await hold.wait()
      })
      const head = await h.queue.enqueue(step, { name: 'head' }, { groupKey: 'g' })
      const next = await h.queue.enqueue(step, { name: 'next' }, { groupKey: 'g' })
      await h.queue.start()
      await waitFor(() => started.includes('head'))
      await settle()
      expect(started).toEqual(['head'])
      expect((await job(h, next.id)).state).toBe('available')
      hold.open()
      await waitForState(h, head.id, 'succeeded')
      await waitWhileTicking(h, () => started.includes('next'))
      await waitForState(h, next.id, 'succeeded')
    })
  })
}
