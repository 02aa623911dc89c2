/**
 * Finished jobs stay jobs: after a job succeeds, fails or is cancelled (on Postgres: after its row
 * moved to the history table), every read finds it, every action that may touch it does, and
 * bringing it back makes it a waiting job again. Pins what the move must not change.
 */
import { describe, expect, it } from 'vitest'
import type { StoreFactory } from '../factory.js'
import {
  attemptError,
  claimIds,
  getJob,
  insertIds,
  newJob,
  scheduleOf,
  T0,
  tickJob,
  useStore,
} from '../helpers.js'

export default function finishedJobCases(factory: StoreFactory): void {
  describe('finished jobs', () => {
    const store = useStore(factory)

    /** Inserts three keyed jobs, claims them and ends them succeeded, failed and cancelled. */
    async function finishThree(): Promise<[string, string, string]> {
      const ids = await insertIds(store(), [
        { uniqueKey: 'ok', payload: { n: 'ok' } },
        { uniqueKey: 'bad', maxAttempts: 1, payload: { n: 'bad' } },
        { uniqueKey: 'gone', payload: { n: 'gone' } },
      ])
      await claimIds(store(), { capacity: 3 })
      await store().completeJobs({
        completions: [
          { id: ids[0]!, outcome: 'succeeded', workflowState: { step: 2 } },
          { id: ids[1]!, outcome: 'failed', error: attemptError(1) },
          { id: ids[2]!, outcome: 'cancelled' },
        ],
        now: T0 + 10,
      })
      return ids as [string, string, string]
    }

    it('a finished job is found by id, by key, by filter and in the counts, with what its completion wrote', async () => {
      const [ok, bad, gone] = await finishThree()
      expect(await getJob(store(), ok)).toMatchObject({
        state: 'succeeded',
        finishedAt: T0 + 10,
        attempt: 1,
        workflowState: { step: 2 },
        payload: { n: 'ok' },
      })
      expect(await getJob(store(), bad)).toMatchObject({ state: 'failed', errors: [attemptError(1)] })
      expect((await store().getJobsByKey({ uniqueKey: 'gone' })).map((j) => [j.id, j.state])).toEqual([
        [gone, 'cancelled'],
      ])
      const listed = await store().listJobs({ filter: { states: ['succeeded', 'failed'] }, limit: 10 })
      expect(listed.map((j) => j.id)).toEqual([bad, ok])
      expect(
        (await store().listJobs({ filter: { payloadContains: 'gone' }, limit: 10 })).map((j) => j.id),
      ).toEqual([gone])
      const [stats] = await store().queueStats()
      expect(stats?.counts).toMatchObject({ succeeded: 1, failed: 1, cancelled: 1, available: 0, running: 0 })
      // A finished job no longer holds its key: a new job takes it.
      const [again] = await store().insertJobs({ jobs: [newJob({ uniqueKey: 'ok' })], now: T0 + 20 })
      expect(again?.duplicate).toBe(false)
    })

    it('updateJob reports a finished job as not waiting, with its state; deleteJobs deletes it', async () => {
      const [ok, , gone] = await finishThree()
      expect(await store().updateJob({ id: ok, changes: { priority: 3 }, now: T0 + 20 })).toEqual({
        status: 'notWaiting',
        state: 'succeeded',
      })
      expect(await store().deleteJobs({ filter: { ids: [ok, gone] } })).toBe(2)
      expect(await store().getJob({ id: ok })).toBeNull()
      expect(await store().updateJob({ id: ok, changes: { priority: 3 }, now: T0 + 20 })).toEqual({
        status: 'notFound',
      })
    })

    it('retrying a failed job makes it a waiting job again, claimable, its history kept', async () => {
      const [, bad] = await finishThree()
      expect(await store().retryJobs({ filter: { ids: [bad] }, now: T0 + 30 })).toBe(1)
      expect(await getJob(store(), bad)).toMatchObject({
        state: 'available',
        finishedAt: null,
        runAt: T0 + 30,
        maxAttempts: 2,
        errors: [attemptError(1)],
      })
      expect(await claimIds(store(), { now: T0 + 30 })).toEqual([bad])
      await store().completeJobs({
        completions: [{ id: bad, outcome: 'succeeded', attempt: 2 }],
        now: T0 + 40,
      })
      expect(await getJob(store(), bad)).toMatchObject({
        state: 'succeeded',
        attempt: 2,
        finishedAt: T0 + 40,
      })
      expect((await store().listJobs({ filter: { ids: [bad] }, limit: 10 })).length).toBe(1)
    })

    it('a job depending on a job that succeeded long before runs; on one that failed is cancelled at insert', async () => {
      const [ok, bad] = await finishThree()
      const later = T0 + 3 * 86_400_000
      const [after, doomed] = await insertIds(store(), [{ dependsOn: [ok] }, { dependsOn: [bad] }], later)
      expect((await getJob(store(), doomed!)).state).toBe('cancelled')
      expect(await claimIds(store(), { now: later })).toEqual([after])
    })

    it('a retried dependant waits until its failed dependency is retried and succeeds', async () => {
      const [dep] = await insertIds(store(), [{ maxAttempts: 1 }])
      const [child] = await insertIds(store(), [{ dependsOn: [dep!] }])
      await claimIds(store())
      await store().completeJobs({
        completions: [{ id: dep!, outcome: 'failed', error: attemptError(1) }],
        now: T0 + 1,
      })
      expect((await getJob(store(), child!)).state).toBe('cancelled')
      await store().retryJobs({ filter: { ids: [child!] }, now: T0 + 2 })
      expect(await claimIds(store(), { now: T0 + 2 })).toEqual([])
      await store().retryJobs({ filter: { ids: [dep!] }, now: T0 + 3 })
      expect(await claimIds(store(), { now: T0 + 3 })).toEqual([dep])
      await store().completeJobs({ completions: [{ id: dep!, outcome: 'succeeded' }], now: T0 + 4 })
      expect(await claimIds(store(), { now: T0 + 4 })).toEqual([child])
    })

    it('a schedule tick whose job finished is not enqueued again when the same tick comes round', async () => {
      await store().upsertSchedule({ schedule: scheduleOf('s', T0), now: T0 })
      const fire = {
        name: 's',
        expectedNextRunAt: T0,
        nextRunAt: T0 + 60_000,
        job: tickJob('s', T0),
        now: T0,
      }
      const job = await store().fireScheduleTick(fire)
      expect(job).not.toBeNull()
      await claimIds(store())
      await store().completeJobs({ completions: [{ id: job!.id, outcome: 'succeeded' }], now: T0 + 1 })
      // A new expression puts the next tick back on the one already fired.
      await store().upsertSchedule({
        schedule: scheduleOf('s', T0, { expression: '@every 2 minutes' }),
        now: T0 + 2,
      })
      expect((await store().listSchedules())[0]?.nextRunAt).toBe(T0)
      expect(await store().fireScheduleTick({ ...fire, now: T0 + 2 })).toBeNull()
      expect(await store().listJobs({ filter: { scheduleName: 's' }, limit: 10 })).toHaveLength(1)
      expect((await store().listSchedules())[0]).toMatchObject({ nextRunAt: T0 + 60_000, lastTickAt: T0 })
    })
  })
}
