/**
 * Group modes and group lock timeouts in `claimJobs` (cuckmq's job groups): `fifo` holds a group
 * through a failed job's backoff, `release` frees it after each run; a running job stops holding its
 * group once its `groupLockTimeoutMs` has passed.
 */
import { describe, expect, it } from 'vitest'
import type { StoreFactory } from '../factory.js'
import { attemptError, claimIds, getJob, insert, insertIds, T0, useStore } from '../helpers.js'

export default function groupModeCases(factory: StoreFactory): void {
  describe('claimJobs: group modes and group lock timeouts', () => {
    const store = useStore(factory)

    /** Claims, then fails the claimed job with a retry at `T0 + 60 s`; returns its id. */
    async function failOnce(now = T0): Promise<string> {
      const [id] = await claimIds(store(), { now })
      if (id === undefined) throw new Error('nothing claimed')
      await store().completeJobs({
        completions: [{ id, outcome: 'retry', runAt: T0 + 60_000, error: attemptError(1) }],
        now,
      })
      return id
    }

    it('stores the mode and the lock timeout; a job without them is fifo with no lock timeout', async () => {
      const [plain, released] = await insert(store(), [
        { groupKey: 'g' },
        { groupKey: 'g', groupMode: 'release', groupLockTimeoutMs: 5000 },
      ])
      expect(plain).toMatchObject({ groupMode: 'fifo', groupLockTimeoutMs: null })
      expect(released).toMatchObject({ groupMode: 'release', groupLockTimeoutMs: 5000 })
      expect(await getJob(store(), released!.id)).toMatchObject({
        groupMode: 'release',
        groupLockTimeoutMs: 5000,
      })
      const [claimed] = await store().claimJobs({
        queues: ['default'],
        kinds: ['test'],
        capacity: 100,
        strategy: 'priority',
        now: T0,
        workerId: 'p1:w1',
      })
      expect(claimed).toMatchObject({ id: plain!.id, groupMode: 'fifo', groupLockTimeoutMs: null })
    })

    it('fifo: a job waiting out its backoff blocks the rest of its group', async () => {
      const [a, b] = await insertIds(store(), [{ groupKey: 'g' }, { groupKey: 'g' }])
      expect(await failOnce()).toBe(a)
      expect(await claimIds(store(), { now: T0 + 1000 })).toEqual([])
      expect(await claimIds(store(), { now: T0 + 60_000 })).toEqual([a])
      expect((await getJob(store(), b!)).state).toBe('available')
    })

    it('release: a job waiting out its backoff does not block the later jobs of its group (cuckmq)', async () => {
      const [a, b, c] = await insertIds(store(), [
        { groupKey: 'g', groupMode: 'release' },
        { groupKey: 'g', groupMode: 'release' },
        { groupKey: 'g', groupMode: 'release' },
      ])
      expect(await failOnce()).toBe(a)
      expect(await claimIds(store(), { now: T0 + 1000 })).toEqual([b])
      // A running job still holds the group.
      expect(await claimIds(store(), { now: T0 + 1000 })).toEqual([])
      await store().completeJobs({ completions: [{ id: b!, outcome: 'succeeded' }], now: T0 + 2000 })
      expect(await claimIds(store(), { now: T0 + 2000 })).toEqual([c])
      await store().completeJobs({ completions: [{ id: c!, outcome: 'succeeded' }], now: T0 + 3000 })
      expect(await claimIds(store(), { now: T0 + 3000 })).toEqual([])
      expect(await claimIds(store(), { now: T0 + 60_000 })).toEqual([a])
    })

    it('release: one job per group per claim, the first in strategy order; other groups are not held up', async () => {
      const [a, b, c, other] = await insertIds(store(), [
        { groupKey: 'g', groupMode: 'release', priority: 5 },
        { groupKey: 'g', groupMode: 'release', priority: -5 },
        { groupKey: 'g', groupMode: 'release' },
        { groupKey: 'h', groupMode: 'release' },
      ])
      expect(await claimIds(store())).toEqual([b, other])
      expect(await claimIds(store())).toEqual([])
      await store().completeJobs({ completions: [{ id: b!, outcome: 'succeeded' }], now: T0 })
      expect(await claimIds(store())).toEqual([c])
      await store().completeJobs({
        completions: [{ id: c!, outcome: 'failed', error: attemptError(1) }],
        now: T0,
      })
      expect(await claimIds(store())).toEqual([a])
    })

    it('release: a claim of capacity N takes the first job of each of N groups, whatever their backlogs', async () => {
      // Each group's backlog sits together in strategy order (same priority and run time, ids in order).
      const firsts: string[] = []
      for (const g of [0, 1, 2, 3, 4]) {
        const ids = await insertIds(
          store(),
          [0, 1, 2].map(() => ({ groupKey: `g${g}`, groupMode: 'release' })),
        )
        firsts.push(ids[0]!)
      }
      expect(await claimIds(store(), { capacity: 5 })).toEqual(firsts)
      expect(await claimIds(store(), { capacity: 5 })).toEqual([])
    })

    it("release: jobs behind one group's backlog are claimed in the same claim", async () => {
      const [first] = await insertIds(
        store(),
        [0, 1, 2, 3, 4].map(() => ({ groupKey: 'g', groupMode: 'release' as const })),
      )
      const others = await insertIds(store(), [{}, {}, { groupKey: 'h', groupMode: 'release' }])
      expect(await claimIds(store(), { capacity: 4 })).toEqual([first, ...others])
    })

    it("release: a claim over several queues takes the group's first job in strategy order, whichever queue it is in", async () => {
      for (const queues of [
        ['q1', 'q2'],
        ['q2', 'q1'],
      ]) {
        const [, first, other] = await insertIds(store(), [
          { queue: queues[0], groupKey: `g-${queues[0]}`, groupMode: 'release', priority: 5 },
          { queue: queues[1], groupKey: `g-${queues[0]}`, groupMode: 'release', priority: 0 },
          { queue: queues[0], priority: 9 },
        ])
        expect(await claimIds(store(), { queues: ['q1', 'q2'] })).toEqual([first, other])
      }
    })

    it('each job follows its own mode: a fifo job waits behind a retrying release job, a release job does not wait behind a retrying fifo job', async () => {
      const [r1, f2] = await insertIds(store(), [{ groupKey: 'g', groupMode: 'release' }, { groupKey: 'g' }])
      expect(await failOnce()).toBe(r1)
      expect(await claimIds(store(), { now: T0 + 1000 })).toEqual([])
      expect((await getJob(store(), f2!)).state).toBe('available')

      const [f1, r2] = await insertIds(store(), [{ groupKey: 'k' }, { groupKey: 'k', groupMode: 'release' }])
      await store().claimJobs({
        queues: ['default'],
        kinds: ['test'],
        capacity: 1,
        strategy: 'time',
        now: T0 + 1000,
        workerId: 'p1:w1',
        maxId: f1,
      })
      await store().completeJobs({
        completions: [{ id: f1!, outcome: 'retry', runAt: T0 + 60_000, error: attemptError(1) }],
        now: T0 + 1000,
      })
      expect(await claimIds(store(), { now: T0 + 1000 })).toEqual([r2])
    })

    it('a running job holds its group until its group lock timeout has passed, then the next job may start', async () => {
      const [a, b, c] = await insertIds(store(), [
        { groupKey: 'g', groupLockTimeoutMs: 1000 },
        { groupKey: 'g', groupLockTimeoutMs: 1000 },
        { groupKey: 'g' },
      ])
      expect(await claimIds(store(), { now: T0 })).toEqual([a])
      expect(await claimIds(store(), { now: T0 + 999 })).toEqual([])
      expect(await claimIds(store(), { now: T0 + 1000 })).toEqual([b])
      // b holds the group from its own start; a, still running, no longer does.
      expect(await claimIds(store(), { now: T0 + 1999 })).toEqual([])
      expect(await claimIds(store(), { now: T0 + 2000 })).toEqual([c])
      // c has no lock timeout: it holds the group for as long as it runs.
      const [d] = await insertIds(store(), [{ groupKey: 'g', groupMode: 'release' }], T0 + 2000)
      expect(await claimIds(store(), { now: T0 + 30 * 86_400_000 })).toEqual([])
      // The late completion of the first job still applies: it was never taken from it.
      await store().completeJobs({
        completions: [{ id: a!, outcome: 'succeeded', attempt: 1 }],
        now: T0 + 3000,
      })
      expect((await getJob(store(), a!)).state).toBe('succeeded')
      await store().completeJobs({ completions: [{ id: c!, outcome: 'succeeded' }], now: T0 + 3000 })
      expect(await claimIds(store(), { now: T0 + 3000 })).toEqual([d])
    })

    it('a lock timeout lets a release job start beside a running job past it', async () => {
      const [a, b] = await insertIds(store(), [
        { groupKey: 'g', groupMode: 'release', groupLockTimeoutMs: 500 },
        { groupKey: 'g', groupMode: 'release' },
      ])
      expect(await claimIds(store(), { now: T0 })).toEqual([a])
      expect(await claimIds(store(), { now: T0 + 499 })).toEqual([])
      expect(await claimIds(store(), { now: T0 + 500 })).toEqual([b])
    })
  })
}
