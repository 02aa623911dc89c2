/** `claimJobs`: ordering per strategy, due time, capacity and weights, queues, kinds, pause, groups, dependencies. */
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../../src/core/domain/errors.js'
import type { ClaimParams } from '../../../src/core/ports/store.js'
import { waitFor } from '../../support/wait.js'
import type { StoreFactory } from '../factory.js'
import {
  attemptError,
  claimIds,
  claimParams,
  getJob,
  insertIds,
  itConforms,
  T0,
  useStore,
} from '../helpers.js'

export default function claimCases(factory: StoreFactory): void {
  describe('claimJobs', () => {
    const store = useStore(factory)

    it('priority strategy: priority, then run-at, then id; claimed jobs run their next attempt', async () => {
      const [late, urgent, early, tie, future] = await insertIds(store(), [
        { priority: 5, runAt: T0 - 10 },
        { priority: -1, runAt: T0 },
        { runAt: T0 - 20 },
        { runAt: T0 - 20 },
        { runAt: T0 + 1 },
      ])
      const claimed = await store().claimJobs(claimParams({ now: T0, workerId: 'p9:w9' }))
      expect(claimed.map((j) => j.id)).toEqual([urgent, early, tie, late])
      expect(claimed[0]).toMatchObject({
        state: 'running',
        attempt: 1,
        attemptedAt: T0,
        attemptedBy: 'p9:w9',
      })
      expect(await getJob(store(), urgent!)).toEqual(claimed[0])
      expect((await getJob(store(), future!)).state).toBe('scheduled')
    })

    it('time strategy: run-at, then id, whatever the priority', async () => {
      const [a, b, c, d] = await insertIds(store(), [
        { priority: 5, runAt: T0 - 30 },
        { priority: -5, runAt: T0 - 10 },
        { runAt: T0 - 20 },
        { priority: 9, runAt: T0 - 20 },
      ])
      expect(await claimIds(store(), { strategy: 'time' })).toEqual([a, c, d, b])
    })

    it('serves both strategies from one queue without claiming a job twice', async () => {
      const [a, b, c] = await insertIds(store(), [
        { priority: 2, runAt: T0 - 2 },
        { priority: 1, runAt: T0 - 1 },
        { priority: 3, runAt: T0 },
      ])
      expect(await claimIds(store(), { capacity: 1 })).toEqual([b])
      expect(await claimIds(store(), { capacity: 1, strategy: 'time' })).toEqual([a])
      const [d] = await insertIds(store(), [{ priority: 0, runAt: T0 - 100 }])
      expect(await claimIds(store(), { capacity: 1 })).toEqual([d])
      expect(await claimIds(store(), { strategy: 'time' })).toEqual([c])
      expect(await claimIds(store())).toEqual([])
    })

    it('takes only jobs due by now, or by dueBy (Infinity included), and leaves the rest', async () => {
      const [soon, later, last] = await insertIds(store(), [
        { runAt: T0 + 100 },
        { runAt: T0 + 200 },
        { runAt: T0 + 10 ** 9 },
      ])
      expect(await claimIds(store())).toEqual([])
      expect(await claimIds(store(), { now: T0 + 99 })).toEqual([])
      expect(await claimIds(store(), { dueBy: T0 + 150 })).toEqual([soon])
      expect(await claimIds(store(), { dueBy: Number.POSITIVE_INFINITY, capacity: 1 })).toEqual([later])
      expect(await claimIds(store(), { now: T0 + 200 })).toEqual([])
      expect(await claimIds(store(), { dueBy: Number.POSITIVE_INFINITY })).toEqual([last])
    })

    it('takes jobs in order while their weights fit capacity, stopping at the first that does not', async () => {
      const [a, b, c] = await insertIds(store(), [{ weight: 2 }, { weight: 3 }, { weight: 1 }])
      expect(await claimIds(store(), { capacity: 4 })).toEqual([a])
      expect(await claimIds(store(), { capacity: 4 })).toEqual([b, c])
      await insertIds(store(), [{ weight: 5 }])
      expect(await claimIds(store(), { capacity: 4 })).toEqual([])
      expect(await claimIds(store(), { capacity: 0 })).toEqual([])
      expect(await claimIds(store(), { capacity: -1 })).toEqual([])
      expect(await claimIds(store(), { capacity: 0.5 })).toEqual([])
    })

    it('oversizedFirst takes a first job heavier than the capacity, alone', async () => {
      const [heavy, light] = await insertIds(store(), [{ weight: 5 }, { weight: 1 }])
      expect(await claimIds(store(), { capacity: 4, oversizedFirst: true })).toEqual([heavy])
      expect(await claimIds(store(), { capacity: 4, oversizedFirst: true })).toEqual([light])
    })

    it('a capacity counts as its whole part: below 1 nothing is claimed, not even an oversized first job', async () => {
      const [heavy, a, b, c] = await insertIds(store(), [{ weight: 5 }, {}, {}, {}])
      for (const capacity of [0.5, 0, -1])
        expect(await claimIds(store(), { capacity, oversizedFirst: true }), String(capacity)).toEqual([])
      expect(await claimIds(store(), { capacity: 1.9, oversizedFirst: true })).toEqual([heavy])
      expect(await claimIds(store(), { capacity: 2.5 })).toEqual([a, b])
      expect(await claimIds(store(), { capacity: 1.5 })).toEqual([c])
    })

    it('claims only the given queues and kinds, and ids up to maxId (numerically)', async () => {
      const rows = [{}, { kind: 'other' }, { queue: 'q2' }, ...Array.from({ length: 8 }, () => ({}))]
      const [a, other, c, ...rest] = await insertIds(store(), rows)
      expect(await claimIds(store(), { kinds: [] })).toEqual([])
      expect(await claimIds(store(), { queues: [] })).toEqual([])
      expect(await claimIds(store(), { kinds: ['other'] })).toEqual([other])
      expect(await claimIds(store(), { queues: ['q2', 'default'], maxId: '9' })).toEqual([
        a,
        c,
        ...rest.slice(0, 6),
      ])
      expect(await claimIds(store())).toEqual(rest.slice(6))
    })

    it('a claim over several kinds and queues returns each job with its own kind and queue', async () => {
      const [a, b, c, d] = await insertIds(store(), [
        { kind: 'test' },
        { kind: 'other' },
        { kind: 'test', queue: 'q2' },
        { kind: 'other', queue: 'q2' },
      ])
      const claimed = await store().claimJobs(
        claimParams({ kinds: ['test', 'other', 'third'], queues: ['default', 'q2', 'q3'] }),
      )
      expect(claimed.map((j) => [j.id, j.kind, j.queue])).toEqual([
        [a, 'test', 'default'],
        [b, 'other', 'default'],
        [c, 'test', 'q2'],
        [d, 'other', 'q2'],
      ])
      for (const job of claimed) expect(await getJob(store(), job.id)).toEqual(job)
    })

    it('time strategy over several queues: run-at, then id, across them', async () => {
      const [a, b, c, d] = await insertIds(store(), [
        { queue: 'q2', priority: 5, runAt: T0 - 30 },
        { priority: -5, runAt: T0 - 10 },
        { queue: 'q2', runAt: T0 - 20 },
        { priority: 9, runAt: T0 - 20 },
      ])
      expect(await claimIds(store(), { strategy: 'time', queues: ['default', 'q2'], capacity: 3 })).toEqual([
        a,
        c,
        d,
      ])
      expect(await claimIds(store(), { strategy: 'time', queues: ['q2', 'default'] })).toEqual([b])
    })

    it('claims from a queue listed twice as from the queue listed once', async () => {
      const [a, b, c] = await insertIds(store(), [{}, { queue: 'q2' }, {}])
      expect(await claimIds(store(), { queues: ['default', 'default'], capacity: 2 })).toEqual([a, c])
      expect(await claimIds(store(), { queues: ['q2', 'default', 'q2'] })).toEqual([b])
    })

    it('rejects a maxId that is not a job id', async () => {
      await expect(store().claimJobs(claimParams({ maxId: 'nope' }))).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
      await expect(store().claimJobs(claimParams({ maxId: '1e3' }))).rejects.toBeInstanceOf(
        InvalidArgumentError,
      )
    })

    it('skips paused queues until resumed', async () => {
      const [a, b] = await insertIds(store(), [{}, { queue: 'q2' }])
      await store().setQueuePaused({ queue: 'default', paused: true, now: T0 })
      expect(await claimIds(store())).toEqual([])
      expect(await claimIds(store(), { queues: ['default', 'q2'] })).toEqual([b])
      await store().setQueuePaused({ queue: 'default', paused: false, now: T0 })
      expect(await claimIds(store())).toEqual([a])
    })

    it('runs one job per group at a time, in id order, even when a later one is due first', async () => {
      const [g1, g2, other, g3] = await insertIds(store(), [
        { groupKey: 'g', runAt: T0, priority: 9 },
        { groupKey: 'g', runAt: T0 - 100, priority: -10 },
        { groupKey: 'h' },
        { groupKey: 'g' },
      ])
      expect(await claimIds(store())).toEqual([other, g1])
      expect(await claimIds(store())).toEqual([])
      await store().completeJobs({ completions: [{ id: g1!, outcome: 'succeeded' }], now: T0 })
      expect(await claimIds(store())).toEqual([g2])
      await store().completeJobs({
        completions: [{ id: g2!, outcome: 'retry', runAt: T0 + 50, error: attemptError(1) }],
        now: T0,
      })
      // A retrying head blocks its group until it runs again.
      expect(await claimIds(store())).toEqual([])
      expect(await claimIds(store(), { now: T0 + 50 })).toEqual([g2])
      await store().completeJobs({
        completions: [{ id: g2!, outcome: 'failed', error: attemptError(2) }],
        now: T0 + 50,
      })
      expect(await claimIds(store(), { now: T0 + 50 })).toEqual([g3])
    })

    it('a head that is not yet due blocks its group', async () => {
      const [head] = await insertIds(store(), [{ groupKey: 'g', runAt: T0 + 10 }, { groupKey: 'g' }])
      expect(await claimIds(store())).toEqual([])
      expect(await claimIds(store(), { now: T0 + 10 })).toEqual([head])
    })

    it('frees a group when its running job is cancelled or its head is deleted', async () => {
      const [a, b, c] = await insertIds(store(), [{ groupKey: 'g' }, { groupKey: 'g' }, { groupKey: 'g' }])
      expect(await claimIds(store())).toEqual([a])
      await store().cancelJobs({ filter: { ids: [a!] }, now: T0 })
      await store().deleteJobs({ filter: { ids: [b!] } })
      expect(await claimIds(store())).toEqual([c])
    })

    it('keeps group order when a job released at shutdown comes back', async () => {
      const [a] = await insertIds(store(), [{ groupKey: 'g' }, { groupKey: 'g' }])
      await claimIds(store())
      await store().completeJobs({ completions: [{ id: a!, outcome: 'released' }], now: T0 })
      expect(await claimIds(store())).toEqual([a])
    })

    itConforms(factory, 'does not claim a job whose attempts are used up', async () => {
      const [a] = await insertIds(store(), [{ maxAttempts: 1 }])
      await claimIds(store())
      await store().completeJobs({
        completions: [{ id: a!, outcome: 'retry', runAt: T0, error: attemptError(1) }],
        now: T0,
      })
      expect(await claimIds(store(), { now: T0 + 1 })).toEqual([])
    })

    it('waits for every dependency to succeed; a deleted dependency counts as met', async () => {
      const [a, b] = await insertIds(store(), [{ priority: 5 }, { priority: 5 }])
      const [child] = await insertIds(store(), [{ dependsOn: [a!, b!] }])
      expect(await claimIds(store())).toEqual([a, b])
      await store().completeJobs({ completions: [{ id: a!, outcome: 'succeeded' }], now: T0 })
      expect(await claimIds(store())).toEqual([])
      await store().completeJobs({ completions: [{ id: b!, outcome: 'succeeded' }], now: T0 })
      expect(await claimIds(store())).toEqual([child])

      const [c] = await insertIds(store(), [{ runAt: T0 + 10 ** 6 }])
      const [d] = await insertIds(store(), [{ dependsOn: [c!] }])
      expect(await claimIds(store())).toEqual([])
      await store().deleteJobs({ filter: { ids: [c!] } })
      expect(await claimIds(store())).toEqual([d])
    })

    describe('a claim loop (resume: true) that may skip jobs ordered before its last claim', () => {
      /** Claims of one loop until `id` comes (a store may take it only at its next scan from the front). */
      const claimedLater = async (id: string, fields: Partial<ClaimParams>) =>
        waitFor(async () => (await claimIds(store(), { resume: true, ...fields })).includes(id), {
          message: `job ${id} behind the loop's last claim was never claimed`,
        })

      it('still takes a higher priority enqueued after it claimed a lower one', async () => {
        const workerId = uniqueWorker()
        const [low] = await insertIds(store(), [{ priority: 5 }])
        expect(await claimIds(store(), { resume: true, workerId })).toEqual([low])
        const [urgent] = await insertIds(store(), [{ priority: 0, runAt: T0 - 5000 }])
        await claimedLater(urgent!, { workerId })
      })

      it('still takes a retry whose run time is behind the jobs it claimed since', async () => {
        for (const strategy of ['priority', 'time'] as const) {
          const workerId = uniqueWorker()
          const [first] = await insertIds(store(), [{ runAt: T0 }])
          expect(await claimIds(store(), { resume: true, workerId, strategy })).toEqual([first])
          const [later] = await insertIds(store(), [{ runAt: T0 + 10_000 }])
          expect(await claimIds(store(), { resume: true, workerId, strategy, now: T0 + 10_000 })).toEqual([
            later,
          ])
          await store().completeJobs({
            completions: [{ id: first!, outcome: 'retry', runAt: T0 + 1, error: attemptError(1) }],
            now: T0 + 10_000,
          })
          await claimedLater(first!, { workerId, strategy, now: T0 + 10_000 })
        }
      })

      it("still takes a group's next job once the group's running job finishes", async () => {
        const workerId = uniqueWorker()
        const [g1, g2] = await insertIds(store(), [
          { groupKey: 'g', runAt: T0 - 10_000 },
          { groupKey: 'g', runAt: T0 - 10_000 },
        ])
        const [other] = await insertIds(store(), [{ runAt: T0 }])
        expect(await claimIds(store(), { resume: true, workerId })).toEqual([g1, other])
        await store().completeJobs({ completions: [{ id: g1!, outcome: 'succeeded' }], now: T0 })
        await claimedLater(g2!, { workerId })
      })
    })
  })
}

/** A worker id no earlier claim of the shared store used (a claim loop with no past). */
function uniqueWorker(): string {
  return `p-resume:w${Math.random().toString(36).slice(2)}`
}
