/** Queues and feeds: `setQueuePaused`, `queueStats`, `pruneJobs`, `onJobsAvailable`, `onJobsCancelled`. */
import { describe, expect, it } from 'vitest'
import type { JobState } from '../../../src/core/domain/job.js'
import type { JobStore } from '../../../src/core/ports/store.js'
import { waitFor } from '../../support/wait.js'
import type { StoreFactory } from '../factory.js'
import { claimIds, insertIds, T0, useStore } from '../helpers.js'

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

/**
 * Subscribes to `store`'s `onJobsAvailable` and waits until it hears (the Postgres store listens on
 * a connection of its own: markers are inserted until one arrives). `reported()` inserts a due job
 * in a marker queue and waits for it, so everything reported before it has arrived, and returns
 * (and forgets) what was reported besides markers.
 */
async function availableFeed(store: () => JobStore) {
  const seen: string[][] = []
  const unsubscribe = store().onJobsAvailable((queues) => seen.push([...queues]))
  const reported = async () => {
    const marker = `marker-${seen.length}-${Math.random().toString(36).slice(2, 8)}`
    await insertIds(store(), [{ queue: marker }])
    await waitFor(() => seen.some((q) => q.includes(marker)), { message: `wake-up for ${marker}` })
    const real = seen.filter((q) => !q.some((name) => name.startsWith('marker-')))
    seen.length = 0
    return real
  }
  try {
    await waitFor(
      async () => {
        await insertIds(store(), [{ queue: 'marker-first' }])
        return seen.length > 0
      },
      { message: 'the first wake-up' },
    )
  } catch (error) {
    unsubscribe()
    throw error
  }
  seen.length = 0
  return { reported, unsubscribe }
}

export default function queueCases(factory: StoreFactory): void {
  describe('queues, pruning and feeds', () => {
    const store = useStore(factory)

    it('queueStats counts every state per queue with jobs or paused, by name', async () => {
      await insertIds(store(), [{}, {}, { runAt: T0 + 5 }, { queue: 'b' }])
      await claimIds(store(), { capacity: 1 })
      await store().setQueuePaused({ queue: 'idle', paused: true, now: T0 })
      await store().setQueuePaused({ queue: 'b', paused: true, now: T0 })
      await store().setQueuePaused({ queue: 'b', paused: false, now: T0 })
      expect(await store().queueStats()).toEqual([
        { queue: 'b', paused: false, counts: { ...ZERO, available: 1 } },
        { queue: 'default', paused: false, counts: { ...ZERO, running: 1, available: 1, scheduled: 1 } },
        { queue: 'idle', paused: true, counts: ZERO },
      ])
      // A queue with no jobs that is not paused is not listed.
      await store().deleteJobs({ filter: { queue: 'b' } })
      await store().setQueuePaused({ queue: 'idle', paused: false, now: T0 })
      expect((await store().queueStats()).map((q) => q.queue)).toEqual(['default'])
    })

    it('pruneJobs deletes jobs finished before a time, oldest first, at most limit', async () => {
      const all = await insertIds(store(), [{}, {}, {}, {}, {}])
      await claimIds(store(), { kinds: ['test'], capacity: 4 })
      for (const [i, id] of all.slice(0, 4).entries()) {
        await store().completeJobs({ completions: [{ id, outcome: 'succeeded' }], now: T0 + 10 * (4 - i) })
      }
      // Finished at T0+40, +30, +20, +10; the fifth job still runs.
      expect(await store().pruneJobs({ finishedBefore: T0 + 35, limit: 2 })).toBe(2)
      const left = async () => (await store().listJobs({ filter: {}, limit: 10 })).map((j) => j.id).sort()
      expect(await left()).toEqual([all[0], all[1], all[4]].sort())
      expect(await store().pruneJobs({ finishedBefore: T0 + 35, limit: 2 })).toBe(1)
      expect(await store().pruneJobs({ finishedBefore: T0 + 35, limit: 2 })).toBe(0)
      expect(await left()).toEqual([all[0], all[4]].sort())
    })

    it('pruneJobs keeps a job that finished exactly at finishedBefore (strictly before only)', async () => {
      const [a] = await insertIds(store(), [{}])
      await claimIds(store())
      await store().completeJobs({ completions: [{ id: a!, outcome: 'succeeded' }], now: T0 + 10 })
      expect(await store().pruneJobs({ finishedBefore: T0 + 10, limit: 10 })).toBe(0)
      expect(await store().getJob({ id: a! })).not.toBeNull()
      expect(await store().pruneJobs({ finishedBefore: T0 + 11, limit: 10 })).toBe(1)
      expect(await store().getJob({ id: a! })).toBeNull()
    })

    it('onJobsAvailable reports the queues of due jobs after inserts, releases, retries, resumes and due updates', async () => {
      const { reported, unsubscribe } = await availableFeed(store)
      try {
        const [a, later, moved] = await insertIds(store(), [
          { queue: 'a' },
          { queue: 'b', runAt: T0 + 10 },
          { queue: 'c', runAt: T0 + 60_000 },
        ])
        expect(await reported()).toEqual([['a']])
        await claimIds(store(), { queues: ['a'] })
        await store().updateJob({ id: moved!, changes: { runAt: T0 + 30_000 }, now: T0 })
        expect(await reported()).toEqual([])
        await store().completeJobs({ completions: [{ id: a!, outcome: 'released' }], now: T0 })
        expect(await reported()).toEqual([['a']])
        await store().retryJobs({ filter: { ids: [later!] }, now: T0 })
        expect(await reported()).toEqual([['b']])
        await store().updateJob({ id: moved!, changes: { runAt: T0 }, now: T0 })
        expect(await reported()).toEqual([['c']])
        await store().setQueuePaused({ queue: 'd', paused: true, now: T0 })
        await store().setQueuePaused({ queue: 'd', paused: false, now: T0 })
        expect(await reported()).toEqual([['d']])
      } finally {
        unsubscribe()
      }
    })

    it.skipIf(factory.capabilities.announcesFreedJobs !== true)(
      'a store that announces freed jobs reports the queues of the dependants and group successors a completion lets run',
      async () => {
        const { reported, unsubscribe } = await availableFeed(store)
        try {
          // A dependency in queue a, its dependant in queue b; a group's two jobs in queue c.
          const [dependency, g1] = await insertIds(store(), [{ queue: 'a' }, { queue: 'c', groupKey: 'g' }])
          const [dependant, g2] = await insertIds(store(), [
            { queue: 'b', dependsOn: [dependency!] },
            { queue: 'c', groupKey: 'g' },
          ])
          await reported()
          expect(await claimIds(store(), { queues: ['a', 'c'] })).toEqual([dependency, g1])
          await store().completeJobs({
            completions: [
              { id: dependency!, outcome: 'succeeded' },
              { id: g1!, outcome: 'succeeded' },
            ],
            now: T0,
          })
          expect((await reported()).flat().sort()).toEqual(['b', 'c'])
          expect(await claimIds(store(), { queues: ['b', 'c'] })).toEqual([dependant, g2])
        } finally {
          unsubscribe()
        }
      },
    )

    it('onJobsCancelled reports the ids cancelJobs cancelled', async () => {
      const cancelled: string[] = []
      const unsubscribe = store().onJobsCancelled((list) => cancelled.push(...list))
      try {
        const [running, waiting] = await insertIds(store(), [{}, { runAt: T0 + 5 }])
        await claimIds(store(), { capacity: 1 })
        await store().cancelJobs({ filter: { ids: [running!, waiting!] }, now: T0 })
        await waitFor(() => cancelled.includes(running!), { message: 'cancel feed' })
        expect(cancelled).toContain(running)
      } finally {
        unsubscribe()
      }
    })
  })
}
