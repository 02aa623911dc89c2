import { describe, expect, it } from 'vitest'
import type { JobState } from '../../../src/core/domain/job.js'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import { waitFor } from '../../support/wait.js'
import type { HarnessFactory } from '../harness.js'
import { expectError, gate, useHarness } from '../helpers.js'

const task = defineJob<{ outcome: 'ok' | 'throw' | 'fail' | 'cancel' | 'hold' }>({ kind: 'task' })

const ZERO: Record<JobState, number> = {
  scheduled: 0,
  available: 0,
  running: 0,
  retryable: 0,
  paused: 0,
  succeeded: 0,
  failed: 0,
  cancelled: 0,
}

const HOUR = 3600_000

/** Queue statistics by state, and pruning of finished jobs. */
export default function statsPruneCases(factory: HarnessFactory): void {
  describe('stats', () => {
    const open = useHarness(factory)

    it('counts jobs by queue and state, every state present', async () => {
      const h = await open({ random: () => 0.5 })
      const hold = gate()
      let holding = false
      h.queue.register(task, async ({ outcome }, ctx) => {
        if (outcome === 'throw') throw new Error('retry me')
        if (outcome === 'fail') return ctx.fail('dead')
        if (outcome === 'cancel') return ctx.cancel('gone')
        if (outcome === 'hold') {
          holding = true
          await hold.wait()
        }
        return undefined
      })
      await h.queue.enqueue(task, { outcome: 'ok' })
      await h.queue.enqueue(task, { outcome: 'ok' })
      await h.queue.enqueue(task, { outcome: 'throw' })
      await h.queue.enqueue(task, { outcome: 'fail' })
      await h.queue.enqueue(task, { outcome: 'cancel' })
      await h.queue.drain()
      await h.queue.enqueue(task, { outcome: 'ok' })
      await h.queue.enqueue(task, { outcome: 'ok' }, { delayMs: 1000 })
      await h.queue.enqueue(task, { outcome: 'ok' }, { queue: 'mail' })
      await h.queue.enqueue(task, { outcome: 'hold' }, { queue: 'hold' })
      const drained = h.queue.drain({ queues: ['hold'] })
      await waitFor(() => holding)
      const stats = await h.queue.stats()
      hold.open()
      await drained
      const byQueue = Object.fromEntries(stats.map((s) => [s.queue, s]))
      expect(byQueue.default).toEqual({
        queue: 'default',
        paused: false,
        counts: { ...ZERO, available: 1, scheduled: 1, retryable: 1, succeeded: 2, failed: 1, cancelled: 1 },
      })
      expect(byQueue.mail?.counts).toEqual({ ...ZERO, available: 1 })
      expect(byQueue.hold?.counts).toEqual({ ...ZERO, running: 1 })
    })

    it('is empty or all-zero for a fresh queue', async () => {
      const h = await open()
      const stats = await h.queue.stats()
      for (const s of stats) expect(s.counts).toEqual(ZERO)
    })

    it('follows jobs as they move between states', async () => {
      const h = await open()
      h.queue.register(task, () => undefined)
      await h.queue.enqueue(task, { outcome: 'ok' })
      const counts = async () => (await h.queue.stats()).find((s) => s.queue === 'default')?.counts
      expect(await counts()).toEqual({ ...ZERO, available: 1 })
      await h.queue.drain()
      expect(await counts()).toEqual({ ...ZERO, succeeded: 1 })
    })
  })

  describe('prune', () => {
    const open = useHarness(factory)

    it('deletes finished jobs older than the retention and keeps newer ones', async () => {
      const h = await open()
      h.queue.register(task, (_p, ctx) =>
        (ctx.job.payload as { outcome: string }).outcome === 'fail' ? ctx.fail('x') : undefined,
      )
      const old = await h.queue.enqueue(task, { outcome: 'ok' })
      const oldFailed = await h.queue.enqueue(task, { outcome: 'fail' })
      const oldCancelled = await h.queue.enqueue(task, { outcome: 'ok' }, { delayMs: HOUR * 100 })
      await h.queue.cancelJobs({ ids: [oldCancelled.id] })
      await h.queue.drain()
      h.clock.advance(10 * HOUR)
      const fresh = await h.queue.enqueue(task, { outcome: 'ok' })
      await h.queue.drain()
      h.clock.advance(HOUR)
      expect(await h.queue.prune({ olderThanMs: 5 * HOUR })).toBe(3)
      expect(await h.queue.getJob(old.id)).toBeNull()
      expect(await h.queue.getJob(oldFailed.id)).toBeNull()
      expect(await h.queue.getJob(oldCancelled.id)).toBeNull()
      expect((await h.queue.getJob(fresh.id))?.state).toBe('succeeded')
    })

    it('never prunes waiting jobs, however old', async () => {
      const h = await open({ random: () => 0.5 })
      h.queue.register(task, () => {
        throw new Error('retry')
      })
      const available = await h.queue.enqueue(defineJob({ kind: 'no-handler' }), {})
      const scheduled = await h.queue.enqueue(task, { outcome: 'ok' }, { delayMs: 1000 * HOUR })
      const retryable = await h.queue.enqueue(
        task,
        { outcome: 'throw' },
        { backoff: { baseMs: 1000 * HOUR, maxMs: 1000 * HOUR } },
      )
      await h.queue.drain()
      h.clock.advance(500 * HOUR)
      expect(await h.queue.prune({ olderThanMs: 0 })).toBe(0)
      for (const r of [available, scheduled, retryable]) expect(await h.queue.getJob(r.id)).not.toBeNull()
    })

    it('never prunes a running job', async () => {
      const h = await open()
      const hold = gate()
      let started = false
      h.queue.register(task, async () => {
        started = true
        await hold.wait()
      })
      const r = await h.queue.enqueue(task, { outcome: 'hold' })
      const drained = h.queue.drain()
      await waitFor(() => started)
      h.clock.advance(1000 * HOUR)
      const pruned = await h.queue.prune({ olderThanMs: 0 })
      hold.open()
      await drained
      expect(pruned).toBe(0)
      expect((await h.queue.getJob(r.id))?.state).toBe('succeeded')
    })

    it('defaults to a retention of 7 days', async () => {
      const h = await open()
      h.queue.register(task, () => undefined)
      const r = await h.queue.enqueue(task, { outcome: 'ok' })
      await h.queue.drain()
      h.clock.advance(7 * 24 * HOUR - 1)
      expect(await h.queue.prune()).toBe(0)
      h.clock.advance(2)
      expect(await h.queue.prune()).toBe(1)
      expect(await h.queue.getJob(r.id)).toBeNull()
    })

    it('prunes in batches until everything old is gone', async () => {
      const h = await open()
      h.queue.register(task, () => undefined)
      await h.queue.enqueueMany(
        Array.from({ length: 25 }, () => ({ job: task, payload: { outcome: 'ok' as const } })),
      )
      await h.queue.drain()
      h.clock.advance(HOUR)
      expect(await h.queue.prune({ olderThanMs: 0, batchSize: 4 })).toBe(25)
      expect(await h.queue.listJobs()).toEqual([])
    })

    it('rejects invalid options', async () => {
      const h = await open()
      await expectError(() => h.queue.prune({ olderThanMs: -1 }), 'INVALID_ARGUMENT', 'olderThanMs')
      await expectError(() => h.queue.prune({ batchSize: 0 }), 'INVALID_ARGUMENT', 'batchSize')
    })
  })
}
