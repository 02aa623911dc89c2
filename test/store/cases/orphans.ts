/**
 * `findOrphans` and `failOrphans`: due waiting jobs and schedules of a (queue, kind) pair that no live
 * process serves (registered the kind and runs a worker for the queue).
 */
import { describe, expect, it } from 'vitest'
import type { StoreFactory } from '../factory.js'
import { getJob, ids, insertIds, scheduleOf, T0, useStore } from '../helpers.js'

/** The check time of these cases; processes silent since before `STALE` are dead. */
const NOW = T0 + 20_000
const STALE = T0 + 5_000
const staleAfterMs = NOW - STALE

const orphanedError = (kind: string, failAfterMs: number, attempt = 0, queue = 'default') => ({
  attempt,
  at: NOW,
  name: 'OrphanedJob',
  message: `No live process ran a worker for queue ${JSON.stringify(queue)} with a handler for kind ${JSON.stringify(kind)} for ${failAfterMs} ms (orphans.failAfterMs); register the kind in a process with a worker for that queue, then retry the job.`,
})

/** A heartbeat's workers: one worker per entry, serving those queues. */
const workersOn = (...queues: string[][]) =>
  queues.map((q) => ({ queues: q, capacity: 1, oversized: 'alone' as const }))

/** The caller's own registration: every pair of `kinds` and `queues` (a drain or a started queue's). */
const own = (kinds: string[], queues: string[] = ['default']) => ({ queues, kinds })

export default function orphanCases(factory: StoreFactory): void {
  describe('findOrphans and failOrphans', () => {
    const store = useStore(factory)
    const find = (registered = own([]), now = NOW) => store().findOrphans({ now, staleAfterMs, registered })
    const fail = (failAfterMs: number, limit = 100, registered = own([])) =>
      store().failOrphans({ now: NOW, staleAfterMs, registered, failAfterMs, limit })

    it('counts due waiting jobs of kinds no live process registered (in no queue), by queue and kind', async () => {
      await store().recordHeartbeat({ processId: 'live', now: STALE, kinds: ['served'] })
      await store().recordHeartbeat({ processId: 'dead', now: STALE - 1, kinds: ['abandoned'] })
      await insertIds(store(), [
        { kind: 'served' },
        { kind: 'abandoned', runAt: T0 + 10 },
        { kind: 'abandoned', queue: 'mail', runAt: T0 + 30 },
        { kind: 'abandoned', queue: 'mail', runAt: T0 + 20 },
        { kind: 'unknown', runAt: NOW },
        { kind: 'unknown', runAt: NOW + 1 }, // not due yet
        { kind: 'mine' },
      ])
      const report = await find(own(['mine']))
      expect(report.jobs).toEqual([
        { queue: 'default', kind: 'abandoned', count: 1, oldestRunAt: T0 + 10 },
        { queue: 'default', kind: 'unknown', count: 1, oldestRunAt: NOW },
        { queue: 'mail', kind: 'abandoned', count: 2, oldestRunAt: T0 + 20 },
      ])
      expect(report.schedules).toEqual([])
    })

    it('never counts running or finished jobs', async () => {
      const [a, b] = (await insertIds(store(), [{ kind: 'x' }, { kind: 'x' }, { kind: 'x' }])) as [
        string,
        string,
      ]
      await store().claimJobs({
        queues: ['default'],
        kinds: ['x'],
        capacity: 2,
        strategy: 'priority',
        now: T0,
        workerId: 'gone:w',
      })
      await store().completeJobs({ completions: [{ id: a, outcome: 'succeeded' }], now: T0 })
      expect((await getJob(store(), b)).state).toBe('running')
      expect((await find()).jobs).toEqual([{ queue: 'default', kind: 'x', count: 1, oldestRunAt: T0 }])
    })

    it('a heartbeat without kinds keeps the kinds recorded before', async () => {
      await store().recordHeartbeat({ processId: 'p', now: T0, kinds: ['x'] })
      await store().recordHeartbeat({ processId: 'p', now: STALE })
      await insertIds(store(), [{ kind: 'x' }])
      expect((await find()).jobs).toEqual([])
      await store().recordHeartbeat({ processId: 'p', now: STALE, kinds: [] })
      expect((await find()).jobs).toEqual([{ queue: 'default', kind: 'x', count: 1, oldestRunAt: T0 }])
    })

    it('counts jobs of a registered kind in a queue none of its live processes runs a worker for', async () => {
      // `split` registered `k` but its workers serve only `mail` (and `audit`); `older` recorded no
      // workers (a version before they were recorded): it serves its kinds in every queue.
      await store().recordHeartbeat({
        processId: 'split',
        now: STALE,
        kinds: ['k'],
        workers: workersOn(['mail'], ['audit']),
      })
      await store().recordHeartbeat({ processId: 'older', now: STALE, kinds: ['legacy'] })
      await insertIds(store(), [
        { kind: 'k', queue: 'default', runAt: T0 + 1 },
        { kind: 'k', queue: 'mail' },
        { kind: 'k', queue: 'audit' },
        { kind: 'k', queue: 'reports', runAt: T0 + 2 },
        { kind: 'legacy', queue: 'anywhere' },
      ])
      expect((await find()).jobs).toEqual([
        { queue: 'default', kind: 'k', count: 1, oldestRunAt: T0 + 1 },
        { queue: 'reports', kind: 'k', count: 1, oldestRunAt: T0 + 2 },
      ])
      // The caller's own registration covers its pairs only: `k` in `default`, not in `reports`.
      expect((await find(own(['k'], ['default']))).jobs).toEqual([
        { queue: 'reports', kind: 'k', count: 1, oldestRunAt: T0 + 2 },
      ])
      expect((await find(own(['other'], ['reports']))).jobs.map((g) => g.queue)).toEqual([
        'default',
        'reports',
      ])
      // A later heartbeat without workers keeps the recorded ones.
      await store().recordHeartbeat({ processId: 'split', now: STALE })
      expect((await find()).jobs.map((g) => g.queue)).toEqual(['default', 'reports'])
    })

    it('reports a schedule whose kind is registered only by processes without a worker for its queue', async () => {
      await store().recordHeartbeat({
        processId: 'split',
        now: STALE,
        kinds: ['k'],
        workers: workersOn(['mail']),
      })
      const tickQueue = (name: string, queue: string) => {
        const schedule = scheduleOf(name, T0, { kind: 'k' })
        return { ...schedule, jobTemplate: { ...schedule.jobTemplate, queue } }
      }
      await store().upsertSchedule({ schedule: tickQueue('to-default', 'default'), now: T0 })
      await store().upsertSchedule({ schedule: tickQueue('to-mail', 'mail'), now: T0 })
      expect((await find()).schedules.map((s) => s.name)).toEqual(['to-default'])
      expect((await find(own(['k'], ['default']))).schedules).toEqual([])
    })

    it('reports schedules with ticks to come whose kind nobody registered', async () => {
      await store().recordHeartbeat({ processId: 'live', now: STALE, kinds: ['served'] })
      await store().upsertSchedule({ schedule: scheduleOf('b-orphan', T0, { kind: 'nobody' }), now: T0 })
      await store().upsertSchedule({
        schedule: scheduleOf('a-chained', null, { kind: 'nobody', after: 'b-orphan' }),
        now: T0,
      })
      await store().upsertSchedule({ schedule: scheduleOf('fired', null, { kind: 'nobody' }), now: T0 })
      await store().upsertSchedule({ schedule: scheduleOf('served', T0, { kind: 'served' }), now: T0 })
      const report = await find()
      expect(report.schedules.map((s) => s.name)).toEqual(['a-chained', 'b-orphan'])
      expect(report.schedules[1]).toEqual((await store().listSchedules()).find((s) => s.name === 'b-orphan'))
    })

    it('fails orphans whose kind went unregistered for failAfterMs, counted from the later of run time and last heartbeat', async () => {
      // `old` was last registered by a process that died at STALE - 1; `never` was never registered.
      await store().recordHeartbeat({ processId: 'dead', now: STALE - 1, kinds: ['old'] })
      const [oldJob, neverOld, neverNew] = (await insertIds(store(), [
        { kind: 'old', runAt: T0 },
        { kind: 'never', runAt: T0 },
        { kind: 'never', runAt: NOW - 1000 },
      ])) as [string, string, string]
      // `old` has gone unregistered for NOW - STALE + 1 ms: 1 ms short of this, exactly the next.
      const failAfterMs = NOW - STALE + 2
      const failed = await fail(failAfterMs)
      expect(ids(failed)).toEqual([neverOld])
      expect(failed[0]).toEqual(await getJob(store(), neverOld))
      expect(failed[0]).toMatchObject({
        state: 'failed',
        finishedAt: NOW,
        errors: [orphanedError('never', failAfterMs)],
      })
      expect((await getJob(store(), oldJob)).state).toBe('available')
      expect((await getJob(store(), neverNew)).state).toBe('scheduled')
      expect(ids(await fail(failAfterMs - 1))).toEqual([oldJob])
    })

    it('fails orphans of a pair no live process served for failAfterMs, counted from the last heartbeat of a process that served it', async () => {
      // `k` stays registered by the live `mail-only` (its workers serve `mail` only); `k` in `default`
      // was last served by `dead` (silent since STALE - 1); `k` in `reports` was never served.
      await store().recordHeartbeat({
        processId: 'mail-only',
        now: STALE,
        kinds: ['k'],
        workers: workersOn(['mail']),
      })
      await store().recordHeartbeat({
        processId: 'dead',
        now: STALE - 1,
        kinds: ['k'],
        workers: workersOn(['default']),
      })
      const [inDefault, inMail, inReports] = (await insertIds(store(), [
        { kind: 'k', queue: 'default', runAt: T0 },
        { kind: 'k', queue: 'mail', runAt: T0 },
        { kind: 'k', queue: 'reports', runAt: T0 },
      ])) as [string, string, string]
      const failAfterMs = NOW - STALE + 2
      const failed = await fail(failAfterMs)
      expect(ids(failed)).toEqual([inReports])
      expect(failed[0]).toMatchObject({
        state: 'failed',
        errors: [orphanedError('k', failAfterMs, 0, 'reports')],
      })
      expect((await getJob(store(), inDefault)).state).toBe('available')
      expect(ids(await fail(failAfterMs - 1))).toEqual([inDefault])
      expect(await fail(1)).toEqual([])
      expect((await getJob(store(), inMail)).state).toBe('available')
    })

    it('fails at most limit orphans, oldest ids first, and none of a registered kind', async () => {
      await store().recordHeartbeat({ processId: 'live', now: STALE, kinds: ['served'] })
      const [a, b, c] = await insertIds(store(), [
        { kind: 'x' },
        { kind: 'x' },
        { kind: 'x' },
        { kind: 'served' },
        { kind: 'mine' },
      ])
      // A limit below 1 fails nothing (a negative one is no error); a limit of 1 fails one.
      expect(await fail(1000, 0, own(['mine']))).toEqual([])
      expect(await fail(1000, -1, own(['mine']))).toEqual([])
      // A fractional limit counts as its whole part.
      expect(await fail(1000, 0.5, own(['mine']))).toEqual([])
      expect(ids(await fail(1000, 1.9, own(['mine'])))).toEqual([a])
      expect(ids(await fail(1000, 2, own(['mine'])))).toEqual([b, c])
      expect(await fail(1000, 2, own(['mine']))).toEqual([])
    })

    it('a failed orphan cancels its waiting dependants', async () => {
      const [parent] = (await insertIds(store(), [{ kind: 'x' }])) as [string]
      const [child] = (await insertIds(store(), [{ kind: 'served', dependsOn: [parent] }])) as [string]
      await store().recordHeartbeat({ processId: 'live', now: STALE, kinds: ['served'] })
      expect(ids(await fail(1000))).toEqual([parent])
      expect(await getJob(store(), child)).toMatchObject({ state: 'cancelled', finishedAt: NOW })
    })
  })
}
