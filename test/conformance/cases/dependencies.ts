import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { Harness, HarnessFactory } from '../harness.js'
import { expectError, job, useHarness } from '../helpers.js'

const step = defineJob<{ name: string; outcome?: 'throw' | 'fail' | 'cancel' }>({ kind: 'dep-step' })

/** Codes acceptable for a dependency on a job that does not exist. */
const UNKNOWN_DEPENDENCY_CODES = ['JOB_NOT_FOUND', 'INVALID_OPTIONS']

function record(h: Harness): string[] {
  const order: string[] = []
  h.queue.register(step, ({ name, outcome }, ctx) => {
    order.push(name)
    if (outcome === 'throw' && ctx.attempt === 1) throw new Error('transient')
    if (outcome === 'fail') return ctx.fail('permanent')
    if (outcome === 'cancel') return ctx.cancel('not needed')
    return undefined
  })
  return order
}

/** Dependencies: a job runs only after every job it depends on succeeded; failures cascade. */
export default function dependencyCases(factory: HarnessFactory): void {
  describe('dependencies', () => {
    const open = useHarness(factory)

    it('runs a dependant after its dependency, whatever their priorities', async () => {
      const h = await open()
      const order = record(h)
      const a = await h.queue.enqueue(step, { name: 'a' }, { priority: 10 })
      await h.queue.enqueue(step, { name: 'b' }, { dependsOn: a.id, priority: -10 })
      await h.queue.drain()
      expect(order).toEqual(['a', 'b'])
    })

    it('waits while the dependency is retrying and runs once it succeeds', async () => {
      const h = await open({ random: () => 0.5 })
      const order = record(h)
      const a = await h.queue.enqueue(step, { name: 'a', outcome: 'throw' })
      const b = await h.queue.enqueue(step, { name: 'b' }, { dependsOn: [a.id] })
      await h.queue.drain()
      expect(order).toEqual(['a'])
      expect((await job(h, b.id)).state).toBe('available')
      h.clock.advance(1000)
      await h.queue.drain()
      expect(order).toEqual(['a', 'a', 'b'])
      expect((await job(h, b.id)).state).toBe('succeeded')
    })

    it('waits for a delayed dependency', async () => {
      const h = await open()
      const order = record(h)
      const a = await h.queue.enqueue(step, { name: 'a' }, { delayMs: 60_000 })
      await h.queue.enqueue(step, { name: 'b' }, { dependsOn: a.id })
      await h.queue.drain()
      expect(order).toEqual([])
      h.clock.advance(60_000)
      await h.queue.drain()
      expect(order).toEqual(['a', 'b'])
    })

    it('waits for every one of several dependencies', async () => {
      const h = await open()
      const order = record(h)
      const a = await h.queue.enqueue(step, { name: 'a' })
      const b = await h.queue.enqueue(step, { name: 'b' }, { delayMs: 1000 })
      await h.queue.enqueue(step, { name: 'c' }, { dependsOn: [a.id, b.id], priority: -1 })
      await h.queue.drain()
      expect(order).toEqual(['a'])
      h.clock.advance(1000)
      await h.queue.drain()
      expect(order).toEqual(['a', 'b', 'c'])
    })

    it('runs at once when the dependency already succeeded', async () => {
      const h = await open()
      const order = record(h)
      const a = await h.queue.enqueue(step, { name: 'a' })
      await h.queue.drain()
      const b = await h.queue.enqueue(step, { name: 'b' }, { dependsOn: a.id })
      expect(b.state).toBe('available')
      await h.queue.drain()
      expect(order).toEqual(['a', 'b'])
    })

    it('cancels the dependant when the dependency fails, transitively', async () => {
      const h = await open()
      const order = record(h)
      const a = await h.queue.enqueue(step, { name: 'a', outcome: 'fail' })
      const b = await h.queue.enqueue(step, { name: 'b' }, { dependsOn: a.id })
      const c = await h.queue.enqueue(step, { name: 'c' }, { dependsOn: b.id })
      const free = await h.queue.enqueue(step, { name: 'free' })
      await h.queue.drain()
      expect(order).toEqual(['a', 'free'])
      expect((await job(h, a.id)).state).toBe('failed')
      expect((await job(h, b.id)).state).toBe('cancelled')
      expect((await job(h, c.id)).state).toBe('cancelled')
      expect((await job(h, free.id)).state).toBe('succeeded')
      expect((await job(h, c.id)).finishedAt).not.toBeNull()
    })

    it('cancels the dependant when the dependency exhausts its attempts', async () => {
      const h = await open()
      record(h)
      const a = await h.queue.enqueue(step, { name: 'a', outcome: 'throw' }, { maxAttempts: 1 })
      const b = await h.queue.enqueue(step, { name: 'b' }, { dependsOn: a.id })
      await h.queue.drain()
      expect((await job(h, b.id)).state).toBe('cancelled')
    })

    it('cancels the dependant when the dependency cancels itself', async () => {
      const h = await open()
      const order = record(h)
      const a = await h.queue.enqueue(step, { name: 'a', outcome: 'cancel' })
      const b = await h.queue.enqueue(step, { name: 'b' }, { dependsOn: a.id })
      await h.queue.drain()
      expect(order).toEqual(['a'])
      expect((await job(h, b.id)).state).toBe('cancelled')
    })

    it('cancels dependants transitively when an operator cancels the dependency', async () => {
      const h = await open()
      const order = record(h)
      const a = await h.queue.enqueue(step, { name: 'a' }, { delayMs: 1000 })
      const b = await h.queue.enqueue(step, { name: 'b' }, { dependsOn: a.id })
      const c = await h.queue.enqueue(step, { name: 'c' }, { dependsOn: [b.id] })
      expect(await h.queue.cancelJobs({ ids: [a.id] })).toBeGreaterThanOrEqual(1)
      h.clock.advance(1000)
      await h.queue.drain()
      expect(order).toEqual([])
      expect((await job(h, b.id)).state).toBe('cancelled')
      expect((await job(h, c.id)).state).toBe('cancelled')
    })

    it('stores a job depending on an already failed job as cancelled', async () => {
      const h = await open()
      record(h)
      const a = await h.queue.enqueue(step, { name: 'a', outcome: 'fail' })
      await h.queue.drain()
      const b = await h.queue.enqueue(step, { name: 'b' }, { dependsOn: a.id })
      expect(b.state).toBe('cancelled')
      expect((await job(h, b.id)).state).toBe('cancelled')
    })

    it('stores a job depending on an already cancelled job as cancelled', async () => {
      const h = await open()
      const a = await h.queue.enqueue(step, { name: 'a' })
      await h.queue.cancelJobs({ ids: [a.id] })
      const b = await h.queue.enqueue(step, { name: 'b' }, { dependsOn: a.id })
      expect(b.state).toBe('cancelled')
    })

    it('depending on an unknown id is a typed error naming the id, and stores nothing', async () => {
      const h = await open()
      const a = await h.queue.enqueue(step, { name: 'a' })
      await expectError(
        () => h.queue.enqueue(step, { name: 'b' }, { dependsOn: [a.id, '987654321'] }),
        UNKNOWN_DEPENDENCY_CODES,
        '987654321',
      )
      expect(await h.queue.listJobs()).toHaveLength(1)
    })

    it('enqueueMany items can depend on existing jobs', async () => {
      const h = await open()
      const order = record(h)
      const a = await h.queue.enqueue(step, { name: 'a' }, { delayMs: 10 })
      const [b, c] = await h.queue.enqueueMany([
        { job: step, payload: { name: 'b' }, options: { dependsOn: a.id } },
        { job: step, payload: { name: 'c' }, options: { priority: -1 } },
      ])
      expect(b!.state).not.toBe('cancelled')
      expect(c!.state).toBe('available')
      await h.queue.drain()
      expect(order).toEqual(['c'])
      h.clock.advance(10)
      await h.queue.drain()
      expect(order).toEqual(['c', 'a', 'b'])
    })

    it('the dependant keeps its dependencies listed', async () => {
      const h = await open()
      const a = await h.queue.enqueue(step, { name: 'a' })
      const b = await h.queue.enqueue(step, { name: 'b' })
      const c = await h.queue.enqueue(step, { name: 'c' }, { dependsOn: [a.id, b.id] })
      expect((await job(h, c.id)).dependsOn).toEqual([a.id, b.id])
    })
  })
}
