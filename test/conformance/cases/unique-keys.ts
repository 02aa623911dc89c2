import { describe, expect, it } from 'vitest'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import type { EnqueueResult } from '../../../src/core/ports/queue.js'
import type { HarnessFactory } from '../harness.js'
import { job, useHarness } from '../helpers.js'

const sync = defineJob<{ account: string; v?: number }>({ kind: 'sync-account' })
const other = defineJob<{ account: string }>({ kind: 'other-kind' })

/** Unique keys: deduplication while a job with the key is waiting or running, per kind. */
export default function uniqueKeyCases(factory: HarnessFactory): void {
  describe('unique keys', () => {
    const open = useHarness(factory)

    it('a duplicate of an available job returns the existing id with duplicate: true', async () => {
      const h = await open()
      const a = await h.queue.enqueue(sync, { account: 'a', v: 1 }, { uniqueKey: 'acct-a' })
      const b = await h.queue.enqueue(sync, { account: 'a', v: 2 }, { uniqueKey: 'acct-a' })
      expect(a.duplicate).toBe(false)
      expect(b).toMatchObject({ id: a.id, duplicate: true, state: 'available', kind: 'sync-account' })
      expect(await h.queue.listJobs()).toHaveLength(1)
    })

    it('a duplicate does not change the existing job', async () => {
      const h = await open()
      const a = await h.queue.enqueue(sync, { account: 'a', v: 1 }, { uniqueKey: 'k', priority: 5 })
      await h.queue.enqueue(sync, { account: 'a', v: 2 }, { uniqueKey: 'k', priority: 1, delayMs: 1000 })
      expect(await job(h, a.id)).toMatchObject({
        payload: { account: 'a', v: 1 },
        priority: 5,
        state: 'available',
      })
    })

    it('a duplicate of a scheduled job reports the existing run-at', async () => {
      const h = await open()
      const a = await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k', delayMs: 60_000 })
      const b = await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k' })
      expect(b).toMatchObject({ id: a.id, duplicate: true, state: 'scheduled', runAt: a.runAt })
    })

    it('a duplicate of a running job returns the running job', async () => {
      const h = await open()
      let inner: EnqueueResult | undefined
      let runs = 0
      h.queue.register(sync, async (payload) => {
        runs++
        if (runs === 1) inner = await h.queue.enqueue(sync, payload, { uniqueKey: 'k' })
      })
      const a = await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k' })
      await h.queue.drain({ recursive: true })
      expect(inner).toMatchObject({ id: a.id, duplicate: true, state: 'running' })
      expect(runs).toBe(1)
    })

    it('a duplicate of a retrying job returns it', async () => {
      const h = await open({ random: () => 0.5 })
      h.queue.register(sync, () => {
        throw new Error('later')
      })
      const a = await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k' })
      await h.queue.drain()
      const b = await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k' })
      expect(b).toMatchObject({ id: a.id, duplicate: true, state: 'retryable' })
    })

    it('allows the key again after the job succeeded', async () => {
      const h = await open()
      h.queue.register(sync, () => undefined)
      const a = await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k' })
      await h.queue.drain()
      const b = await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k' })
      expect(b.duplicate).toBe(false)
      expect(b.id).not.toBe(a.id)
    })

    it('allows the key again after the job failed', async () => {
      const h = await open()
      h.queue.register(sync, () => {
        throw new Error('no')
      })
      const a = await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k', maxAttempts: 1 })
      await h.queue.drain()
      expect((await job(h, a.id)).state).toBe('failed')
      const b = await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k' })
      expect(b).toMatchObject({ duplicate: false, state: 'available' })
    })

    it('allows the key again after the job was cancelled', async () => {
      const h = await open()
      const a = await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k' })
      expect(await h.queue.cancelJobs({ ids: [a.id] })).toBe(1)
      const b = await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k' })
      expect(b.duplicate).toBe(false)
    })

    it('allows the key again after the job was deleted', async () => {
      const h = await open()
      const a = await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k' })
      expect(await h.queue.deleteJobs({ ids: [a.id] })).toBe(1)
      expect((await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k' })).duplicate).toBe(false)
    })

    it('scopes keys per kind', async () => {
      const h = await open()
      const a = await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k' })
      const b = await h.queue.enqueue(other, { account: 'a' }, { uniqueKey: 'k' })
      expect(b.duplicate).toBe(false)
      expect(b.id).not.toBe(a.id)
    })

    it('different keys and jobs without a key never collide', async () => {
      const h = await open()
      const results = [
        await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k1' }),
        await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k2' }),
        await h.queue.enqueue(sync, { account: 'a' }),
        await h.queue.enqueue(sync, { account: 'a' }),
      ]
      expect(results.map((r) => r.duplicate)).toEqual([false, false, false, false])
      expect(new Set(results.map((r) => r.id)).size).toBe(4)
    })

    it('applies across queues of the same kind', async () => {
      const h = await open()
      const a = await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k', queue: 'q1' })
      const b = await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k', queue: 'q2' })
      expect(b).toMatchObject({ duplicate: true, id: a.id, queue: 'q1' })
    })

    it('the enqueued event marks duplicates', async () => {
      const h = await open()
      const flags: boolean[] = []
      h.queue.on('enqueued', (e) => flags.push(e.duplicate))
      await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k' })
      await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k' })
      expect(flags).toEqual([false, true])
    })

    it('retrying a finished job never leaves two waiting jobs with one key', async () => {
      const h = await open()
      h.queue.register(sync, () => {
        throw new Error('no')
      })
      const old = await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k', maxAttempts: 1 })
      await h.queue.drain()
      const fresh = await h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'k', delayMs: 60_000 })
      expect(fresh.duplicate).toBe(false)
      let error: unknown
      await h.queue.retryJobs({ ids: [old.id] }).catch((e: unknown) => {
        error = e
      })
      if (error !== undefined) expect((error as { code?: unknown }).code).toEqual(expect.any(String))
      const pending = await h.queue.listJobs({
        uniqueKey: 'k',
        states: ['scheduled', 'available', 'retryable', 'running'],
      })
      expect(pending).toHaveLength(1)
    })

    it('concurrent enqueues with one key store exactly one job', async () => {
      const h = await open()
      const results = await Promise.all(
        Array.from({ length: 10 }, () => h.queue.enqueue(sync, { account: 'a' }, { uniqueKey: 'race' })),
      )
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1)
      expect(new Set(results.map((r) => r.id)).size).toBe(1)
      expect(await h.queue.listJobs()).toHaveLength(1)
    })
  })
}
