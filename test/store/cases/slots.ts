/**
 * `claimJobs` with `maxWeight` (perseid's slots: an instance with 512 slots never runs a job that
 * needs 1024; one with 1024 runs two jobs of 512 at a time).
 */
import { describe, expect, it } from 'vitest'
import type { StoreFactory } from '../factory.js'
import { claimIds, getJob, insertIds, T0, useStore } from '../helpers.js'

export default function slotCases(factory: StoreFactory): void {
  describe('claimJobs: maxWeight (slots)', () => {
    const store = useStore(factory)

    it('an instance with 512 slots never takes a job of 1024; one with 1024 takes two jobs of 512 (perseid)', async () => {
      const [big, half1, half2] = await insertIds(store(), [
        { weight: 1024 },
        { weight: 512 },
        { weight: 512 },
      ])
      expect(await claimIds(store(), { capacity: 512, maxWeight: 512, oversizedFirst: false })).toEqual([
        half1,
      ])
      expect(await claimIds(store(), { capacity: 512, maxWeight: 512 })).toEqual([half2])
      expect(await claimIds(store(), { capacity: 512, maxWeight: 512 })).toEqual([])
      expect((await getJob(store(), big!)).state).toBe('available')
      expect(await claimIds(store(), { capacity: 1024, maxWeight: 1024 })).toEqual([big])
    })

    it('a job heavier than maxWeight neither runs nor blocks the lighter jobs behind it', async () => {
      const [heavy, a, b] = await insertIds(store(), [
        { weight: 5, priority: -1 },
        { weight: 1 },
        { weight: 2 },
      ])
      expect(await claimIds(store(), { capacity: 4, maxWeight: 4, oversizedFirst: true })).toEqual([a, b])
      expect((await getJob(store(), heavy!)).state).toBe('available')
      expect(await claimIds(store(), { capacity: 4, oversizedFirst: true })).toEqual([heavy])
    })

    it('a job of exactly maxWeight is taken', async () => {
      const [id] = await insertIds(store(), [{ weight: 3 }])
      expect(await claimIds(store(), { capacity: 3, maxWeight: 3 })).toEqual([id])
    })

    it('a heartbeat records the workers of its process; later heartbeats keep them; listProcesses returns live processes', async () => {
      const workers = [
        { queues: ['default'], capacity: 512, oversized: 'refuse' as const },
        { queues: ['default', 'media'], capacity: 1024, oversized: 'alone' as const },
      ]
      await store().recordHeartbeat({ processId: 'small', now: T0, workers })
      await store().recordHeartbeat({ processId: 'small', now: T0 + 5000 })
      await store().recordHeartbeat({ processId: 'old', now: T0 - 60_000 })
      await store().recordHeartbeat({ processId: 'bare', now: T0 + 1000 })
      expect(await store().listProcesses({ now: T0 + 10_000, liveWithinMs: 15_000 })).toEqual([
        { id: 'bare', lastHeartbeatAt: T0 + 1000, startedAt: T0 + 1000, workers: null },
        { id: 'small', lastHeartbeatAt: T0 + 5000, startedAt: T0, workers },
      ])
      expect(await store().listProcesses({ now: T0 + 10_000, liveWithinMs: 5000 })).toEqual([
        expect.objectContaining({ id: 'small' }),
      ])
    })

    it('listJobs and the bulk actions filter by minWeight (weight at least)', async () => {
      const [, heavy, heavier] = await insertIds(store(), [{ weight: 1 }, { weight: 5 }, { weight: 9 }])
      const listed = await store().listJobs({ filter: { minWeight: 5 }, limit: 10 })
      expect(listed.map((j) => j.id)).toEqual([heavier, heavy])
      expect(await store().cancelJobs({ filter: { minWeight: 6 }, now: T0 })).toEqual([heavier])
    })
  })
}
