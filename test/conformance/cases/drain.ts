import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import { waitFor } from '../../support/wait.js'
import type { Harness, HarnessFactory } from '../harness.js'
import { T0 } from '../harness.js'
import { expectError, job, useHarness } from '../helpers.js'

const task = defineJob<{ n: number }>({ kind: 'task' })
const chain = defineJob<{ left: number }>({ kind: 'chain' })
const mailer = defineJob<{ n: number }>({ kind: 'mailer', queue: 'mail' })

function record(h: Harness): number[] {
  const ran: number[] = []
  h.queue.register(task, ({ n }) => {
    ran.push(n)
  })
  return ran
}

/** drain: options and the counts it returns. */
export default function drainCases(factory: HarnessFactory): void {
  describe('drain', () => {
    const open = useHarness(factory)

    it('keeps its heartbeat while a job runs longer than rescueAfterMs, so no rescue takes the job', async () => {
      const h = await open({ maintenance: { heartbeatIntervalMs: 1000, rescueAfterMs: 5000 } })
      const slow = defineJob<{ n: number }>({ kind: 'slow-drained' })
      const runs: number[] = []
      let release: (() => void) | undefined
      h.queue.register(slow, async (_payload, ctx) => {
        runs.push(ctx.attempt)
        await new Promise<void>((resolve) => {
          release = resolve
        })
      })
      const { id } = await h.queue.enqueue(slow, { n: 1 })
      const draining = h.queue.drain()
      await waitFor(() => release !== undefined)
      // Three times rescueAfterMs of the clock pass while the handler runs; each second brings a beat.
      for (let second = 0; second < 15; second++) {
        h.clock.advance(1000)
        const now = h.clock.now()
        await waitFor(async () => (await h.queue.listProcesses()).some((p) => p.lastHeartbeatAt === now))
      }
      expect(await h.queue.store.rescueJobs({ now: h.clock.now(), staleAfterMs: 5000, limit: 10 })).toEqual(
        [],
      )
      expect((await job(h, id)).state).toBe('running')
      release!()
      expect(await draining).toMatchObject({ succeeded: 1, total: 1 })
      expect(runs).toEqual([1])
    })

    it('returns zero counts when nothing is queued', async () => {
      const h = await open()
      record(h)
      expect(await h.queue.drain()).toEqual({
        succeeded: 0,
        retried: 0,
        failed: 0,
        cancelled: 0,
        snoozed: 0,
        total: 0,
        stopped: false,
      })
    })

    it('counts attempts by outcome', async () => {
      const h = await open()
      const outcomes = defineJob<{ o: string }>({ kind: 'outcomes' })
      h.queue.register(outcomes, ({ o }, ctx) => {
        if (o === 'retry') throw new Error('x')
        if (o === 'fail') return ctx.fail('x')
        if (o === 'cancel') return ctx.cancel('x')
        if (o === 'snooze') return ctx.snooze(1000)
        return undefined
      })
      for (const o of ['ok', 'ok', 'retry', 'fail', 'cancel', 'snooze'])
        await h.queue.enqueue(outcomes, { o })
      expect(await h.queue.drain()).toEqual({
        succeeded: 2,
        retried: 1,
        failed: 1,
        cancelled: 1,
        snoozed: 1,
        total: 6,
        stopped: false,
      })
    })

    it('runs only due jobs by default', async () => {
      const h = await open()
      const ran = record(h)
      await h.queue.enqueue(task, { n: 1 })
      await h.queue.enqueue(task, { n: 2 }, { delayMs: 1000 })
      expect((await h.queue.drain()).total).toBe(1)
      expect(ran).toEqual([1])
    })

    it('withScheduled also runs future jobs, in order, without moving the clock', async () => {
      const h = await open()
      const ran = record(h)
      await h.queue.enqueue(task, { n: 3 }, { delayMs: 3000 })
      await h.queue.enqueue(task, { n: 1 })
      await h.queue.enqueue(task, { n: 2 }, { runAt: T0 + 3600_000 })
      expect((await h.queue.drain({ withScheduled: true })).total).toBe(3)
      expect(ran).toEqual([1, 3, 2])
      expect(h.clock.now()).toBe(T0)
    })

    it('without recursive, jobs enqueued by handlers are left for later', async () => {
      const h = await open()
      h.queue.register(chain, async ({ left }) => {
        if (left > 0) await h.queue.enqueue(chain, { left: left - 1 })
      })
      await h.queue.enqueue(chain, { left: 3 })
      expect((await h.queue.drain()).total).toBe(1)
      const waiting = await h.queue.listJobs({ states: ['available'] })
      expect(waiting.map((j) => j.payload)).toEqual([{ left: 2 }])
    })

    it('recursive follows jobs enqueued by handlers until none is due', async () => {
      const h = await open()
      const seen: number[] = []
      h.queue.register(chain, async ({ left }) => {
        seen.push(left)
        if (left > 0) await h.queue.enqueue(chain, { left: left - 1 })
      })
      await h.queue.enqueue(chain, { left: 3 })
      expect(await h.queue.drain({ recursive: true })).toMatchObject({ succeeded: 4, total: 4 })
      expect(seen).toEqual([3, 2, 1, 0])
    })

    it('recursive does not run follow-ups that are not due unless withScheduled', async () => {
      const h = await open()
      h.queue.register(chain, async ({ left }) => {
        if (left > 0) await h.queue.enqueue(chain, { left: left - 1 }, { delayMs: 1000 })
      })
      await h.queue.enqueue(chain, { left: 2 })
      expect((await h.queue.drain({ recursive: true })).total).toBe(1)
      expect((await h.queue.drain({ recursive: true, withScheduled: true })).total).toBe(2)
    })

    it('limit runs at most that many jobs and leaves the rest available and unattempted', async () => {
      const h = await open()
      const ran = record(h)
      const ids: string[] = []
      for (let n = 0; n < 5; n++) ids.push((await h.queue.enqueue(task, { n })).id)
      expect((await h.queue.drain({ limit: 2 })).total).toBe(2)
      expect(ran).toEqual([0, 1])
      for (const id of ids.slice(2))
        expect(await job(h, id)).toMatchObject({ state: 'available', attempt: 0, errors: [] })
      expect((await h.queue.drain()).total).toBe(3)
      expect(ran).toEqual([0, 1, 2, 3, 4])
    })

    it('limit counts retried attempts too', async () => {
      const h = await open()
      h.queue.register(task, () => {
        throw new Error('again')
      })
      await h.queue.enqueue(task, { n: 1 })
      expect((await h.queue.drain({ withScheduled: true, limit: 3 })).total).toBe(3)
    })

    it('drains every queue that has a registered kind by default', async () => {
      const h = await open()
      const ran: string[] = []
      h.queue.register(task, () => {
        ran.push('task')
      })
      h.queue.register(mailer, () => {
        ran.push('mailer')
      })
      await h.queue.enqueue(task, { n: 1 })
      await h.queue.enqueue(mailer, { n: 1 })
      await h.queue.drain()
      expect([...ran].sort()).toEqual(['mailer', 'task'])
    })

    it('queues restricts which queues are drained', async () => {
      const h = await open()
      const ran = record(h)
      await h.queue.enqueue(task, { n: 1 }, { queue: 'a' })
      await h.queue.enqueue(task, { n: 2 }, { queue: 'b' })
      await h.queue.enqueue(task, { n: 3 })
      await h.queue.drain({ queues: ['b'] })
      expect(ran).toEqual([2])
      await h.queue.drain()
      expect(ran).toEqual([2, 3])
      await h.queue.drain({ queues: ['a'] })
      expect(ran).toEqual([2, 3, 1])
    })

    it('leaves jobs of kinds without a handler alone', async () => {
      const h = await open()
      const ran = record(h)
      const orphan = await h.queue.enqueue(defineJob({ kind: 'orphan' }), {})
      await h.queue.enqueue(task, { n: 1 })
      expect((await h.queue.drain()).total).toBe(1)
      expect(ran).toEqual([1])
      expect(await job(h, orphan.id)).toMatchObject({ state: 'available', attempt: 0 })
    })

    it('records attemptedAt and a worker id on the job', async () => {
      const h = await open()
      record(h)
      h.clock.advance(42)
      const r = await h.queue.enqueue(task, { n: 1 })
      await h.queue.drain()
      const record_ = await job(h, r.id)
      expect(record_.attemptedAt).toBe(T0 + 42)
      expect(typeof record_.attemptedBy).toBe('string')
      expect(record_.finishedAt).toBe(T0 + 42)
    })

    it('never runs a succeeded job again', async () => {
      const h = await open()
      const ran = record(h)
      const r = await h.queue.enqueue(task, { n: 1 })
      await h.queue.drain()
      h.clock.advance(30 * 24 * 3600_000)
      expect((await h.queue.drain({ withScheduled: true, recursive: true })).total).toBe(0)
      expect(ran).toEqual([1])
      expect(await job(h, r.id)).toMatchObject({ state: 'succeeded', attempt: 1 })
    })

    it('rejects an invalid limit', async () => {
      const h = await open()
      await expectError(() => h.queue.drain({ limit: 0 }), 'INVALID_ARGUMENT', 'limit')
      await expectError(() => h.queue.drain({ limit: 1.5 }), 'INVALID_ARGUMENT', 'limit')
    })
  })
}
