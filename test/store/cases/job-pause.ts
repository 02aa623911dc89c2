/**
 * Pausing single jobs (`pauseJobs`, `resumeJobs`, the `paused` state), replacing a waiting job's
 * workflow state (`updateJob` with `workflowState`), and the run count (`runs`).
 */
import { describe, expect, it } from 'vitest'
import type { StoreFactory } from '../factory.js'
import { attemptError, claimIds, getJob, ids, insertIds, newJob, T0, useStore } from '../helpers.js'

export default function jobPauseCases(factory: StoreFactory): void {
  describe('paused jobs', () => {
    const store = useStore(factory)
    const get = (id: string) => getJob(store(), id)
    const states = async () =>
      Object.fromEntries((await store().listJobs({ filter: {}, limit: 100 })).map((j) => [j.id, j.state]))

    it('pauseJobs pauses matching waiting jobs only, keeping their run time, and returns them in id order', async () => {
      const [available, scheduled, failing, running, done] = await insertIds(store(), [
        {},
        { runAt: T0 + 60_000 },
        {},
        {},
        {},
      ])
      // `available` runs and fails once (retryable); `failing` is claimed (running); `running` succeeds.
      expect(await claimIds(store(), { capacity: 1 })).toEqual([available])
      await store().completeJobs({
        completions: [{ id: available!, outcome: 'retry', runAt: T0 + 5, error: attemptError(1) }],
        now: T0,
      })
      expect(await claimIds(store(), { capacity: 2, now: T0 + 1 })).toEqual([failing, running])
      await store().completeJobs({ completions: [{ id: running!, outcome: 'succeeded' }], now: T0 + 2 })
      const paused = await store().pauseJobs({
        filter: { ids: [done!, available!, scheduled!, failing!, running!] },
        now: T0 + 3,
      })
      expect(ids(paused)).toEqual([available, scheduled, done])
      expect(paused.every((j) => j.state === 'paused')).toBe(true)
      expect(await states()).toEqual({
        [available!]: 'paused',
        [scheduled!]: 'paused',
        [failing!]: 'running',
        [running!]: 'succeeded',
        [done!]: 'paused',
      })
      expect(await get(scheduled!)).toMatchObject({ runAt: T0 + 60_000, finishedAt: null })
      expect(await get(available!)).toMatchObject({ runAt: T0 + 5, attempt: 1, errors: [attemptError(1)] })
      // Pausing again changes nothing and reports nothing.
      expect(await store().pauseJobs({ filter: { ids: [available!] }, now: T0 + 4 })).toEqual([])
    })

    it('a paused job is never claimed, even when due; the next job is taken instead', async () => {
      const [first, second] = await insertIds(store(), [{ priority: -5 }, {}])
      await store().pauseJobs({ filter: { ids: [first!] }, now: T0 })
      expect(await claimIds(store(), { capacity: 10, now: T0 + 3_600_000 })).toEqual([second])
      expect(await claimIds(store(), { capacity: 10, now: T0 + 3_600_000, strategy: 'time' })).toEqual([])
      expect((await get(first!)).state).toBe('paused')
    })

    it('a paused job keeps its unique key: an insert with that key is its duplicate', async () => {
      const [held] = await insertIds(store(), [{ uniqueKey: 'k' }])
      await store().pauseJobs({ filter: { ids: [held!] }, now: T0 })
      const [again] = await store().insertJobs({ jobs: [newJob({ uniqueKey: 'k' })], now: T0 + 1 })
      expect(again).toMatchObject({ duplicate: true, job: { id: held, state: 'paused' } })
      // and a finished job of a key is not retried while a paused job holds that key
      const [old] = await insertIds(store(), [{ uniqueKey: 'x' }])
      await store().cancelJobs({ filter: { ids: [old!] }, now: T0 })
      const [holder] = await insertIds(store(), [{ uniqueKey: 'x' }])
      await store().pauseJobs({ filter: { ids: [holder!] }, now: T0 })
      expect(await store().retryJobs({ filter: { ids: [old!] }, now: T0 + 2 })).toBe(0)
      expect((await get(old!)).state).toBe('cancelled')
    })

    it('resumeJobs returns paused jobs to scheduled or available by their run time, and touches nothing else', async () => {
      const [due, later, waiting] = await insertIds(store(), [{}, { runAt: T0 + 60_000 }, {}])
      // Paused one at a time, `later` first: on PostgreSQL its new row version then lies before
      // `due`'s, so an unsorted result would come back in that order, not in id order.
      await store().pauseJobs({ filter: { ids: [later!] }, now: T0 })
      await store().pauseJobs({ filter: { ids: [due!] }, now: T0 })
      const resumed = await store().resumeJobs({ filter: { states: ['paused', 'available'] }, now: T0 + 10 })
      expect(ids(resumed)).toEqual([due, later])
      expect(await states()).toEqual({ [due!]: 'available', [later!]: 'scheduled', [waiting!]: 'available' })
      expect(await get(later!)).toMatchObject({ runAt: T0 + 60_000 })
      expect(await claimIds(store(), { capacity: 10, now: T0 + 60_000 })).toEqual([due, waiting, later])
      expect(await store().resumeJobs({ filter: { ids: [due!] }, now: T0 + 70_000 })).toEqual([])
    })

    it('a failed job paused while retryable comes back by its run time with its attempts and errors', async () => {
      const [j] = await insertIds(store(), [{ maxAttempts: 3 }])
      await claimIds(store())
      await store().completeJobs({
        completions: [{ id: j!, outcome: 'retry', runAt: T0 + 1000, error: attemptError(1) }],
        now: T0,
      })
      await store().pauseJobs({ filter: { ids: [j!] }, now: T0 + 1 })
      await store().resumeJobs({ filter: { ids: [j!] }, now: T0 + 2 })
      expect(await get(j!)).toMatchObject({ state: 'scheduled', runAt: T0 + 1000, attempt: 1 })
      expect(await claimIds(store(), { now: T0 + 1000 })).toEqual([j])
    })

    it('a paused job is not pruned or rescued; it can be cancelled, deleted, retried and updated', async () => {
      const [a, b, c, d] = await insertIds(store(), [{}, {}, {}, { runAt: T0 + 100 }])
      await store().pauseJobs({ filter: { ids: [a!, b!, c!, d!] }, now: T0 })
      expect(await store().pruneJobs({ finishedBefore: T0 + 1e12, limit: 100 })).toBe(0)
      expect(await store().rescueJobs({ now: T0 + 1e9, staleAfterMs: 1, limit: 100 })).toEqual([])
      expect(await store().cancelJobs({ filter: { ids: [a!] }, now: T0 + 1 })).toEqual([a])
      expect(await store().deleteJobs({ filter: { ids: [b!] } })).toBe(1)
      expect(await store().retryJobs({ filter: { ids: [c!] }, now: T0 + 2 })).toBe(1)
      const updated = await store().updateJob({
        id: d!,
        changes: { runAt: T0 + 500, priority: 3 },
        now: T0 + 3,
      })
      expect(updated).toMatchObject({
        status: 'updated',
        job: { state: 'paused', runAt: T0 + 500, priority: 3 },
      })
      expect(await states()).toEqual({ [a!]: 'cancelled', [c!]: 'available', [d!]: 'paused' })
    })

    it('dependants wait for a paused job; a paused dependant is cancelled when its dependency ends badly', async () => {
      const [dep] = await insertIds(store(), [{}])
      const [child] = await insertIds(store(), [{ dependsOn: [dep!] }])
      await store().pauseJobs({ filter: { ids: [dep!] }, now: T0 })
      expect(await claimIds(store(), { capacity: 10 })).toEqual([])
      await store().resumeJobs({ filter: { ids: [dep!] }, now: T0 })
      await store().pauseJobs({ filter: { ids: [child!] }, now: T0 })
      expect(await claimIds(store(), { capacity: 10 })).toEqual([dep])
      await store().completeJobs({
        completions: [{ id: dep!, outcome: 'failed', error: attemptError(1) }],
        now: T0 + 5,
      })
      expect(await get(child!)).toMatchObject({ state: 'cancelled', finishedAt: T0 + 5 })
    })

    it('a paused job does not hold up its group: the next job of the group runs', async () => {
      const [head, next] = await insertIds(store(), [{ groupKey: 'g' }, { groupKey: 'g' }])
      await store().pauseJobs({ filter: { ids: [head!] }, now: T0 })
      expect(await claimIds(store(), { capacity: 10 })).toEqual([next])
      await store().completeJobs({ completions: [{ id: next!, outcome: 'succeeded' }], now: T0 })
      await store().resumeJobs({ filter: { ids: [head!] }, now: T0 })
      expect(await claimIds(store(), { capacity: 10 })).toEqual([head])
    })

    it('queueStats count paused jobs', async () => {
      const [a] = await insertIds(store(), [{}, {}])
      await store().pauseJobs({ filter: { ids: [a!] }, now: T0 })
      const stats = (await store().queueStats()).find((s) => s.queue === 'default')
      expect(stats?.counts).toMatchObject({ paused: 1, available: 1 })
    })

    it('pauseJobs and resumeJobs apply every filter field', async () => {
      await insertIds(store(), [{ kind: 'a' }, { kind: 'b' }, { kind: 'a', queue: 'q2' }])
      const paused = await store().pauseJobs({ filter: { kind: 'a', queue: 'default' }, now: T0 })
      expect(paused.map((j) => [j.kind, j.queue])).toEqual([['a', 'default']])
      expect(ids(await store().resumeJobs({ filter: { kind: 'b' }, now: T0 }))).toEqual([])
    })
  })

  describe('updateJob workflowState', () => {
    const store = useStore(factory)
    const get = (id: string) => getJob(store(), id)

    it('replaces or clears the workflow state of a waiting or paused job, and nothing else', async () => {
      const [a, b] = await insertIds(store(), [
        { workflowState: { step: 1 } },
        { workflowState: { step: 1 } },
      ])
      const before = await get(a!)
      const outcome = await store().updateJob({
        id: a!,
        changes: { workflowState: { step: 5, items: ['x'] } },
        now: T0 + 1,
      })
      expect(outcome).toEqual({
        status: 'updated',
        job: { ...before, workflowState: { step: 5, items: ['x'] } },
      })
      await store().pauseJobs({ filter: { ids: [b!] }, now: T0 })
      expect(await store().updateJob({ id: b!, changes: { workflowState: null }, now: T0 })).toMatchObject({
        status: 'updated',
        job: { state: 'paused', workflowState: null },
      })
      expect((await get(b!)).workflowState).toBeNull()
      // A change without workflowState keeps it.
      await store().updateJob({ id: a!, changes: { priority: 2 }, now: T0 })
      expect((await get(a!)).workflowState).toEqual({ step: 5, items: ['x'] })
    })

    it('the claimed job carries the new state; a running job is not written', async () => {
      const [a] = await insertIds(store(), [{}])
      await store().updateJob({ id: a!, changes: { workflowState: { n: 1 } }, now: T0 })
      const [claimed] = await store().claimJobs({
        queues: ['default'],
        kinds: ['test'],
        capacity: 1,
        strategy: 'priority',
        now: T0,
        workerId: 'p1:w1',
      })
      expect(claimed?.workflowState).toEqual({ n: 1 })
      expect(await store().updateJob({ id: a!, changes: { workflowState: { n: 2 } }, now: T0 })).toEqual({
        status: 'notWaiting',
        state: 'running',
      })
    })
  })

  describe('runs', () => {
    const store = useStore(factory)
    const get = (id: string) => getJob(store(), id)

    it('counts every start: claims add one, snoozes and retries keep it, a release gives it back', async () => {
      const [j] = await insertIds(store(), [{ maxAttempts: 5 }])
      expect((await get(j!)).runs).toBe(0)
      const [c1] = await store().claimJobs({
        queues: ['default'],
        kinds: ['test'],
        capacity: 1,
        strategy: 'priority',
        now: T0,
        workerId: 'p1:w1',
      })
      expect(c1).toMatchObject({ runs: 1, attempt: 1 })
      await store().completeJobs({ completions: [{ id: j!, outcome: 'snoozed', runAt: T0 }], now: T0 })
      expect(await get(j!)).toMatchObject({ runs: 1, attempt: 0 })
      await claimIds(store())
      await store().completeJobs({ completions: [{ id: j!, outcome: 'snoozed', runAt: T0 }], now: T0 })
      await claimIds(store())
      expect(await get(j!)).toMatchObject({ runs: 3, attempt: 1 })
      await store().completeJobs({
        completions: [{ id: j!, outcome: 'retry', runAt: T0, error: attemptError(1) }],
        now: T0,
      })
      await claimIds(store())
      expect(await get(j!)).toMatchObject({ runs: 4, attempt: 2 })
      await store().completeJobs({ completions: [{ id: j!, outcome: 'released' }], now: T0 })
      expect(await get(j!)).toMatchObject({ runs: 3, attempt: 1, state: 'available' })
      // A rescued run counts (it started); retryJobs keeps the count.
      await claimIds(store())
      await store().rescueJobs({ now: T0 + 1e9, staleAfterMs: 1, limit: 10 })
      expect(await get(j!)).toMatchObject({ runs: 4, state: 'retryable' })
      await store().retryJobs({ filter: { ids: [j!] }, now: T0 + 1e9 })
      expect((await get(j!)).runs).toBe(4)
    })

    it('lists and inserts report runs', async () => {
      const [outcome] = await store().insertJobs({ jobs: [newJob()], now: T0 })
      expect(outcome?.job.runs).toBe(0)
      await claimIds(store())
      expect((await store().listJobs({ filter: {}, limit: 1 }))[0]?.runs).toBe(1)
    })
  })
}
