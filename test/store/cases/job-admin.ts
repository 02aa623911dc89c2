/** Job admin: `getJob`, `listJobs` with filters and pages, `retryJobs`, `cancelJobs`, `deleteJobs`, `updateJob`. */
import { describe, expect, it } from 'vitest'
import type { JobFilter } from '../../../src/core/ports/store.js'
import type { StoreFactory } from '../factory.js'
import { attemptError, claimIds, getJob, ids, insertIds, newJob, T0, useStore } from '../helpers.js'

export default function jobAdminCases(factory: StoreFactory): void {
  describe('job admin', () => {
    const store = useStore(factory)
    const get = (id: string) => getJob(store(), id)
    const states = async () =>
      Object.fromEntries((await store().listJobs({ filter: {}, limit: 100 })).map((j) => [j.id, j.state]))

    it('getJob returns null for a job that does not exist or an id that is not a job id', async () => {
      expect(await store().getJob({ id: '424242' })).toBeNull()
      expect(await store().getJob({ id: 'abc' })).toBeNull()
    })

    it('lists newest first with keyset pages and a limit, and rejects a cursor that is not a job id', async () => {
      const all = await insertIds(store(), [{}, {}, {}, {}, {}])
      const page1 = await store().listJobs({ filter: {}, limit: 2 })
      expect(ids(page1)).toEqual([all[4], all[3]])
      expect(ids(await store().listJobs({ filter: {}, limit: 2, beforeId: all[3] }))).toEqual([
        all[2],
        all[1],
      ])
      expect(ids(await store().listJobs({ filter: {}, limit: 10, beforeId: all[1] }))).toEqual([all[0]])
      expect(await store().listJobs({ filter: {}, limit: 0 })).toEqual([])
      await expect(store().listJobs({ filter: {}, limit: 1, beforeId: '12; drop' })).rejects.toThrow(
        /beforeId/,
      )
    })

    it('applies every filter field, and all of them together', async () => {
      const [a, b, c] = await insertIds(store(), [
        {
          kind: 'mail',
          queue: 'q1',
          groupKey: 'g',
          uniqueKey: 'u',
          payload: { to: 'Alice@Example.com', note: '100% sure_x\\y' },
        },
        { kind: 'sms', scheduleName: 's', scheduleTick: T0, payload: { to: 'bob' } },
        { kind: 'mail', payload: { to: 'carol' } },
      ])
      const [d] = await insertIds(store(), [{ kind: 'mail', runAt: T0 + 999 }], T0 + 10)
      const find = async (filter: JobFilter) => ids(await store().listJobs({ filter, limit: 100 }))
      expect(await find({ ids: [c!, a!, '77'] })).toEqual([c, a])
      expect(await find({ ids: [] })).toEqual([])
      expect(await find({ kind: 'mail' })).toEqual([d, c, a])
      expect(await find({ queue: 'q1' })).toEqual([a])
      expect(await find({ states: ['scheduled'] })).toEqual([d])
      expect(await find({ states: [] })).toEqual([])
      expect(await find({ groupKey: 'g' })).toEqual([a])
      expect(await find({ uniqueKey: 'u' })).toEqual([a])
      expect(await find({ scheduleName: 's' })).toEqual([b])
      expect(await find({ createdAfter: T0 + 10 })).toEqual([d])
      expect(await find({ createdBefore: T0 + 10 })).toEqual([c, b, a])
      expect(await find({ payloadContains: 'alice@EXAMPLE' })).toEqual([a])
      expect(await find({ payloadContains: '"to"' })).toEqual([c, b, a])
      for (const text of ['100%', '0% s', 'e_x', '_', 'x\\'])
        expect(await find({ payloadContains: text })).toEqual([a])
      expect(await find({ payloadIncludes: { to: 'bob' } })).toEqual([b])
      expect(await find({ kind: 'mail', states: ['available'], queue: 'default' })).toEqual([c])
    })

    it('retryJobs makes matching jobs that are not running available now, raising used-up max attempts', async () => {
      const [failed, running, waiting] = await insertIds(store(), [
        { maxAttempts: 1 },
        {},
        { runAt: T0 + 10 ** 6 },
      ])
      await claimIds(store(), { capacity: 2 })
      await store().completeJobs({
        completions: [{ id: failed!, outcome: 'failed', error: attemptError(1) }],
        now: T0,
      })
      const count = await store().retryJobs({
        filter: { states: ['failed', 'running', 'scheduled'] },
        now: T0 + 5,
      })
      expect(count).toBe(2)
      expect(await get(failed!)).toMatchObject({
        state: 'available',
        runAt: T0 + 5,
        finishedAt: null,
        maxAttempts: 2,
        attempt: 1,
      })
      expect(await get(waiting!)).toMatchObject({ state: 'available', runAt: T0 + 5, maxAttempts: 3 })
      expect((await get(running!)).state).toBe('running')
      expect(await claimIds(store(), { now: T0 + 5 })).toEqual([failed, waiting])
    })

    it('retryJobs does not bring back a job whose unique key another waiting job holds', async () => {
      const [first] = await insertIds(store(), [{ uniqueKey: 'k' }])
      await store().cancelJobs({ filter: { ids: [first!] }, now: T0 })
      const [second] = await insertIds(store(), [{ uniqueKey: 'k' }])
      expect(await store().retryJobs({ filter: { ids: [first!] }, now: T0 })).toBe(0)
      await store().cancelJobs({ filter: { ids: [second!] }, now: T0 })
      expect(await store().retryJobs({ filter: { uniqueKey: 'k' }, now: T0 })).toBe(1)
      expect(await states()).toEqual({ [first!]: 'available', [second!]: 'cancelled' })
    })

    it('retryJobs brings a waiting job forward that itself holds its unique key', async () => {
      const [held] = await insertIds(store(), [{ uniqueKey: 'k', runAt: T0 + 1000 }])
      expect(await store().retryJobs({ filter: { ids: [held!] }, now: T0 + 5 })).toBe(1)
      expect(await get(held!)).toMatchObject({ state: 'available', runAt: T0 + 5, uniqueKey: 'k' })
    })

    it('bulk actions apply ids and the other filter fields together', async () => {
      const [a, b, c] = await insertIds(store(), [{ queue: 'q1' }, { queue: 'q2' }, { queue: 'q1' }])
      const filter = { ids: [a!, b!], queue: 'q1' }
      expect(ids(await store().listJobs({ filter, limit: 10 }))).toEqual([a])
      expect(await store().cancelJobs({ filter, now: T0 })).toEqual([a])
      expect(await states()).toEqual({ [a!]: 'cancelled', [b!]: 'available', [c!]: 'available' })
      await store().cancelJobs({ filter: { ids: [b!] }, now: T0 })
      expect(await store().retryJobs({ filter: { ids: [a!, b!], queue: 'q2' }, now: T0 })).toBe(1)
      expect(await states()).toEqual({ [a!]: 'cancelled', [b!]: 'available', [c!]: 'available' })
      expect(await store().deleteJobs({ filter: { ids: [a!, b!], states: ['cancelled'] } })).toBe(1)
      expect(await states()).toEqual({ [b!]: 'available', [c!]: 'available' })
    })

    it('cancelJobs cancels waiting and running matches and their dependants, returning the ids it cancelled', async () => {
      const [waiting, running, done] = await insertIds(store(), [{ runAt: T0 + 100 }, {}, {}])
      const [dependant] = await insertIds(store(), [{ dependsOn: [waiting!] }])
      await claimIds(store(), { capacity: 2 })
      await store().completeJobs({ completions: [{ id: done!, outcome: 'succeeded' }], now: T0 })
      const cancelled = await store().cancelJobs({
        filter: { ids: [running!, waiting!, done!] },
        now: T0 + 9,
      })
      expect(cancelled).toEqual([waiting, running])
      expect(await states()).toEqual({
        [waiting!]: 'cancelled',
        [running!]: 'cancelled',
        [done!]: 'succeeded',
        [dependant!]: 'cancelled',
      })
      expect((await get(dependant!)).finishedAt).toBe(T0 + 9)
      expect(await store().cancelJobs({ filter: { ids: [waiting!] }, now: T0 + 10 })).toEqual([])
    })

    it('deleteJobs deletes matching jobs that are not running and frees their unique keys', async () => {
      const [keyed, running] = await insertIds(store(), [{ uniqueKey: 'k' }, { kind: 'other' }, {}])
      await claimIds(store(), { kinds: ['other'] })
      expect(await store().deleteJobs({ filter: { states: ['available', 'running'] } })).toBe(2)
      expect(Object.keys(await states())).toEqual([running])
      const [again] = await store().insertJobs({ jobs: [newJob({ uniqueKey: 'k' })], now: T0 })
      expect(again).toMatchObject({ duplicate: false })
      expect(again?.job.id).not.toBe(keyed)
    })

    describe('updateJob', () => {
      it('changes only the given fields; a new run time makes the job scheduled or available', async () => {
        const [a] = await insertIds(store(), [
          { uniqueKey: 'u', groupKey: 'g', metadata: { m: 1 }, priority: 4 },
        ])
        const before = await get(a!)
        const outcome = await store().updateJob({
          id: a!,
          changes: { runAt: T0 + 5, payload: { p: [1] } },
          now: T0,
        })
        expect(outcome).toEqual({
          status: 'updated',
          job: { ...before, state: 'scheduled', runAt: T0 + 5, payload: { p: [1] } },
        })
        expect(await get(a!)).toEqual((outcome as { job: unknown }).job)
        const due = await store().updateJob({ id: a!, changes: { runAt: T0, priority: -2 }, now: T0 })
        expect(due).toMatchObject({
          status: 'updated',
          job: { state: 'available', runAt: T0, priority: -2, payload: { p: [1] } },
        })
        expect((await store().queueStats())[0]?.counts).toMatchObject({ scheduled: 0, available: 1 })
      })

      it('a change without runAt keeps the run time and state (a priority-only change of a scheduled job)', async () => {
        const [a] = await insertIds(store(), [{ runAt: T0 + 1000 }])
        const outcome = await store().updateJob({ id: a!, changes: { priority: 3 }, now: T0 })
        expect(outcome).toMatchObject({
          status: 'updated',
          job: { state: 'scheduled', runAt: T0 + 1000, priority: 3 },
        })
        expect(await get(a!)).toMatchObject({ state: 'scheduled', runAt: T0 + 1000, priority: 3 })
        expect(await claimIds(store())).toEqual([])
      })

      it('a retryable job stays retryable whatever its new run time', async () => {
        const [a] = await insertIds(store(), [{}])
        await claimIds(store())
        await store().completeJobs({
          completions: [{ id: a!, outcome: 'retry', runAt: T0 + 50, error: attemptError(1) }],
          now: T0,
        })
        const outcome = await store().updateJob({ id: a!, changes: { runAt: T0 }, now: T0 })
        expect(outcome).toMatchObject({
          status: 'updated',
          job: { state: 'retryable', runAt: T0, attempt: 1 },
        })
        expect(await claimIds(store())).toEqual([a])
      })

      it('claims follow new priorities and run times', async () => {
        const [a, b, c] = await insertIds(store(), [{}, {}, {}])
        await store().updateJob({ id: c!, changes: { priority: -1 }, now: T0 })
        await store().updateJob({ id: a!, changes: { runAt: T0 + 1000 }, now: T0 })
        expect(await claimIds(store(), { capacity: 1 })).toEqual([c])
        expect(await claimIds(store())).toEqual([b])
        expect(await claimIds(store())).toEqual([])
        expect(await claimIds(store(), { now: T0 + 1000 })).toEqual([a])
      })

      it('reports a missing job, and a job that is not waiting without writing', async () => {
        const [a] = await insertIds(store(), [{}])
        expect(await store().updateJob({ id: '424242', changes: { priority: 1 }, now: T0 })).toEqual({
          status: 'notFound',
        })
        await claimIds(store())
        expect(await store().updateJob({ id: a!, changes: { priority: 1, runAt: T0 }, now: T0 })).toEqual({
          status: 'notWaiting',
          state: 'running',
        })
        expect(await get(a!)).toMatchObject({ state: 'running', priority: 0 })
        await store().completeJobs({ completions: [{ id: a!, outcome: 'succeeded' }], now: T0 })
        expect(await store().updateJob({ id: a!, changes: { priority: 1 }, now: T0 })).toEqual({
          status: 'notWaiting',
          state: 'succeeded',
        })
      })
    })
  })
}
