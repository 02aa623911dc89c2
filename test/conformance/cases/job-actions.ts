import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { Harness, HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { expectError, job, useHarness } from '../helpers.js'

const task = defineJob<{ n: number; fail?: boolean }>({ kind: 'task' })
const other = defineJob<{ n: number }>({ kind: 'other-task' })

function register(h: Harness): number[] {
  const ran: number[] = []
  h.queue.register(task, ({ n, fail }) => {
    ran.push(n)
    if (fail) throw new Error(`fail ${n}`)
  })
  h.queue.register(other, ({ n }) => {
    ran.push(n)
  })
  return ran
}

/** Retry, cancel and delete by id and by filter (waiting jobs; running ones are in cancellation). */
export default function jobActionCases(factory: HarnessFactory): void {
  describe('retry, cancel and delete jobs', () => {
    const open = useHarness(factory)

    describe('retryJobs', () => {
      it('makes a failed job available now and it runs again with its attempts kept', async () => {
        const h = await open()
        const ran = register(h)
        const r = await h.queue.enqueue(task, { n: 1, fail: true }, { maxAttempts: 2 })
        await h.queue.drain({ withScheduled: true })
        expect((await job(h, r.id)).state).toBe('failed')
        h.clock.advance(5000)
        expect(await h.queue.retryJobs({ ids: [r.id] })).toBe(1)
        const retried = await job(h, r.id)
        expect(retried).toMatchObject({ state: 'available', runAt: T0 + 5000, attempt: 2, finishedAt: null })
        expect(retried.maxAttempts).toBeGreaterThan(2)
        expect(retried.errors).toHaveLength(2)
        await h.queue.drain()
        expect(ran).toEqual([1, 1, 1])
        expect((await job(h, r.id)).attempt).toBe(3)
      })

      it('makes a cancelled job available again', async () => {
        const h = await open()
        const ran = register(h)
        const r = await h.queue.enqueue(task, { n: 1 })
        await h.queue.cancelJobs({ ids: [r.id] })
        expect(await h.queue.retryJobs({ ids: [r.id] })).toBe(1)
        await h.queue.drain()
        expect(ran).toEqual([1])
        expect((await job(h, r.id)).state).toBe('succeeded')
      })

      it('runs a scheduled or retrying job now instead of waiting', async () => {
        const h = await open({ random: () => 0.5 })
        const ran = register(h)
        const later = await h.queue.enqueue(other, { n: 1 }, { delayMs: 3600_000 })
        const retrying = await h.queue.enqueue(task, { n: 2, fail: true })
        await h.queue.drain()
        expect((await job(h, retrying.id)).state).toBe('retryable')
        expect(await h.queue.retryJobs({ ids: [later.id, retrying.id] })).toBe(2)
        expect((await job(h, later.id)).runAt).toBe(T0)
        await h.queue.drain()
        expect([...ran].sort()).toEqual([1, 2, 2])
      })

      it('retries by filter and returns the count', async () => {
        const h = await open()
        register(h)
        for (let n = 0; n < 3; n++) await h.queue.enqueue(task, { n, fail: true }, { maxAttempts: 1 })
        await h.queue.enqueue(other, { n: 9 })
        await h.queue.drain()
        expect(await h.queue.retryJobs({ kind: 'task', states: ['failed'] })).toBe(3)
        expect((await h.queue.listJobs({ states: ['available'] })).length).toBe(3)
      })

      it('does not touch running jobs', async () => {
        const h = await open()
        let count = -1
        const r = await h.queue.enqueue(task, { n: 1 })
        h.queue.register(task, async (_p, ctx) => {
          count = await h.queue.retryJobs({ ids: [ctx.job.id] })
        })
        await h.queue.drain()
        expect(count).toBe(0)
        expect((await job(h, r.id)).state).toBe('succeeded')
      })
    })

    describe('cancelJobs', () => {
      it('cancels waiting jobs by id and they never run', async () => {
        const h = await open()
        const ran = register(h)
        const a = await h.queue.enqueue(task, { n: 1 })
        const b = await h.queue.enqueue(task, { n: 2 }, { delayMs: 1000 })
        await h.queue.enqueue(task, { n: 3 })
        expect(await h.queue.cancelJobs({ ids: [a.id, b.id] })).toBe(2)
        expect(await job(h, a.id)).toMatchObject({ state: 'cancelled', finishedAt: T0 })
        h.clock.advance(1000)
        await h.queue.drain()
        expect(ran).toEqual([3])
      })

      it('cancels a retrying job', async () => {
        const h = await open({ random: () => 0.5 })
        const ran = register(h)
        const r = await h.queue.enqueue(task, { n: 1, fail: true })
        await h.queue.drain()
        expect(await h.queue.cancelJobs({ ids: [r.id] })).toBe(1)
        h.clock.advance(10_000)
        await h.queue.drain()
        expect(ran).toEqual([1])
        expect((await job(h, r.id)).state).toBe('cancelled')
      })

      it('does not count or change finished jobs', async () => {
        const h = await open()
        register(h)
        const done = await h.queue.enqueue(task, { n: 1 })
        const dead = await h.queue.enqueue(task, { n: 2, fail: true }, { maxAttempts: 1 })
        await h.queue.drain()
        expect(await h.queue.cancelJobs({ ids: [done.id, dead.id] })).toBe(0)
        expect((await job(h, done.id)).state).toBe('succeeded')
        expect((await job(h, dead.id)).state).toBe('failed')
      })

      it('cancels by filter: queue, kind and payload text', async () => {
        const h = await open()
        await h.queue.enqueue(task, { n: 1 }, { queue: 'a' })
        await h.queue.enqueue(task, { n: 2 }, { queue: 'b' })
        await h.queue.enqueue(other, { n: 3 }, { queue: 'a' })
        await h.queue.enqueue(other, { n: 42 }, { queue: 'b' })
        expect(await h.queue.cancelJobs({ queue: 'a', kind: 'task' })).toBe(1)
        expect(await h.queue.cancelJobs({ payloadContains: '42' })).toBe(1)
        expect((await h.queue.listJobs({ states: ['cancelled'] })).length).toBe(2)
        expect((await h.queue.listJobs({ states: ['available'] })).length).toBe(2)
      })

      it('emits a cancelled event for each waiting job an operator cancels', async () => {
        const h = await open()
        const seen: string[] = []
        h.queue.on('cancelled', (e) => seen.push(e.job.id))
        const a = await h.queue.enqueue(task, { n: 1 })
        const b = await h.queue.enqueue(task, { n: 2 })
        await h.queue.cancelJobs({ ids: [a.id, b.id] })
        expect([...seen].sort()).toEqual([a.id, b.id].sort())
      })
    })

    describe('deleteJobs', () => {
      it('deletes jobs by id in any non-running state', async () => {
        const h = await open()
        register(h)
        const waiting = await h.queue.enqueue(task, { n: 1 }, { delayMs: 1000 })
        const done = await h.queue.enqueue(task, { n: 2 })
        await h.queue.drain()
        expect(await h.queue.deleteJobs({ ids: [waiting.id, done.id] })).toBe(2)
        expect(await h.queue.getJob(waiting.id)).toBeNull()
        expect(await h.queue.getJob(done.id)).toBeNull()
        h.clock.advance(1000)
        expect((await h.queue.drain()).total).toBe(0)
      })

      it('does not delete a running job', async () => {
        const h = await open()
        let count = -1
        h.queue.register(task, async (_p, ctx) => {
          count = await h.queue.deleteJobs({ ids: [ctx.job.id] })
        })
        const r = await h.queue.enqueue(task, { n: 1 })
        await h.queue.drain()
        expect(count).toBe(0)
        expect((await job(h, r.id)).state).toBe('succeeded')
      })

      it('deletes by filter and returns the count', async () => {
        const h = await open()
        for (let n = 0; n < 4; n++)
          await h.queue.enqueue(task, { n }, { tags: ['x'], queue: n % 2 ? 'odd' : 'even' })
        expect(await h.queue.deleteJobs({ queue: 'odd' })).toBe(2)
        expect(await h.queue.listJobs()).toHaveLength(2)
        expect(await h.queue.deleteJobs({ ids: ['999999'] })).toBe(0)
      })
    })

    describe('bulk action safety', () => {
      for (const action of ['retryJobs', 'cancelJobs', 'deleteJobs'] as const) {
        it(`${action} refuses an empty filter and touches nothing`, async () => {
          const h = await open()
          const r = await h.queue.enqueue(task, { n: 1 })
          await expectError(() => h.queue[action]({}), 'INVALID_ARGUMENT', 'criterion')
          expect((await job(h, r.id)).state).toBe('available')
        })

        it(`${action} rejects unknown filter fields and bad ids`, async () => {
          const h = await open()
          await expectError(() => h.queue[action]({ name: 'x' } as never), 'INVALID_ARGUMENT', '"name"')
          await expectError(() => h.queue[action]({ ids: ['abc'] }), 'INVALID_ARGUMENT', 'ids')
          await expectError(
            () => h.queue[action]({ states: ['done' as never] }),
            'INVALID_ARGUMENT',
            'states',
          )
        })
      }

      it('a filter of states means "every job in these states"', async () => {
        const h = await open()
        await h.queue.enqueue(task, { n: 1 })
        await h.queue.enqueue(other, { n: 2 }, { queue: 'q2' })
        expect(await h.queue.cancelJobs({ states: ['available'] })).toBe(2)
      })
    })
  })
}
