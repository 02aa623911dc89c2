/**
 * `now` omitted: the store uses its own clock (PostgreSQL's `now()`, the memory store's host clock).
 * This is what a real-time queue does in production, so that processes whose host clocks differ
 * agree on one time. The store runs on this machine, so its clock is `Date.now()` here; each case
 * puts its times an hour away from it, far from any doubt, and checks the store's time lies between
 * readings of the host clock taken around the call.
 */
import { describe, expect, it } from 'vitest'
import type { JobRecord } from '../../../src/core/domain/job.js'
import type { StoreFactory } from '../factory.js'
import { attemptError, getJob, ids, newJob, scheduleOf, useStore } from '../helpers.js'

const HOUR = 3_600_000

/** Runs `call` and returns its result with host-clock readings before and after it (ms, widened by 1 for rounding). */
async function timed<T>(call: () => Promise<T>): Promise<{ value: T; before: number; after: number }> {
  const before = Date.now() - 1
  const value = await call()
  return { value, before, after: Date.now() + 1 }
}

export default function storeTimeCases(factory: StoreFactory): void {
  describe('now omitted: the store keeps the time', () => {
    const store = useStore(factory)
    const claim = (fields: Record<string, unknown> = {}) =>
      store().claimJobs({
        queues: ['default'],
        kinds: ['test'],
        capacity: 100,
        strategy: 'priority',
        workerId: 'p1:w1',
        ...fields,
      })

    it('insert stores a job due on the store clock as available, a later one as scheduled, created now', async () => {
      const { value, before, after } = await timed(() =>
        store().insertJobs({
          jobs: [newJob({ runAt: Date.now() - HOUR }), newJob({ runAt: Date.now() + HOUR })],
        }),
      )
      expect(value.map((o) => o.job.state)).toEqual(['available', 'scheduled'])
      for (const o of value) {
        expect(o.job.createdAt).toBeGreaterThanOrEqual(before)
        expect(o.job.createdAt).toBeLessThanOrEqual(after)
      }
    })

    it('claim takes only jobs due on the store clock and stamps the attempt with it', async () => {
      const [due, later] = (
        await store().insertJobs({
          jobs: [newJob({ runAt: Date.now() - HOUR }), newJob({ runAt: Date.now() + HOUR })],
        })
      ).map((o) => o.job.id) as [string, string]
      const { value, before, after } = await timed(() => claim())
      expect(ids(value)).toEqual([due])
      const job = await getJob(store(), due)
      expect(job.attemptedAt).toBeGreaterThanOrEqual(before)
      expect(job.attemptedAt).toBeLessThanOrEqual(after)
      expect((await getJob(store(), later)).state).toBe('scheduled')
    })

    it('completion stamps finishedAt with the store clock', async () => {
      await store().insertJobs({ jobs: [newJob({ runAt: Date.now() - HOUR })] })
      const [job] = await claim()
      const { before, after } = await timed(() =>
        store().completeJobs({ completions: [{ id: job!.id, outcome: 'succeeded', attempt: job!.attempt }] }),
      )
      const done = await getJob(store(), job!.id)
      expect(done.state).toBe('succeeded')
      expect(done.finishedAt).toBeGreaterThanOrEqual(before)
      expect(done.finishedAt).toBeLessThanOrEqual(after)
    })

    it('retry and snooze with delayMs land delayMs after the store clock; runAt is kept as given', async () => {
      await store().insertJobs({
        jobs: [
          newJob({ runAt: Date.now() - HOUR }),
          newJob({ runAt: Date.now() - HOUR }),
          newJob({ runAt: Date.now() - HOUR }),
        ],
      })
      const [a, b, c] = (await claim()) as [JobRecord, JobRecord, JobRecord]
      const fixed = Date.now() - 2 * HOUR
      const { before, after } = await timed(() =>
        store().completeJobs({
          completions: [
            { id: a.id, outcome: 'retry', delayMs: HOUR, error: attemptError(1), attempt: 1 },
            { id: b.id, outcome: 'snoozed', delayMs: 2 * HOUR, attempt: 1 },
            { id: c.id, outcome: 'retry', runAt: fixed, error: attemptError(1), attempt: 1 },
          ],
        }),
      )
      const retried = await getJob(store(), a.id)
      expect(retried.state).toBe('retryable')
      expect(retried.runAt).toBeGreaterThanOrEqual(before + HOUR)
      expect(retried.runAt).toBeLessThanOrEqual(after + HOUR)
      const snoozed = await getJob(store(), b.id)
      expect(snoozed.state).toBe('scheduled')
      expect(snoozed.runAt).toBeGreaterThanOrEqual(before + 2 * HOUR)
      expect(snoozed.runAt).toBeLessThanOrEqual(after + 2 * HOUR)
      expect((await getJob(store(), c.id)).runAt).toBe(fixed)
      // Due on the store clock only after the delay: the one with a past runAt is claimable, they are not.
      expect(ids(await claim())).toEqual([c.id])
    })

    it('a heartbeat on the store clock keeps a process alive; one an hour old on that clock does not', async () => {
      await store().insertJobs({
        jobs: [newJob({ runAt: Date.now() - HOUR }), newJob({ runAt: Date.now() - HOUR })],
      })
      const [alive] = await claim({ capacity: 1, workerId: 'alive:w' })
      const [silent] = await claim({ capacity: 1, workerId: 'silent:w' })
      await store().recordHeartbeat({ processId: 'alive' })
      await store().recordHeartbeat({ processId: 'silent', now: Date.now() - HOUR })
      const rescued = await store().rescueJobs({ staleAfterMs: 60_000, limit: 10 })
      expect(ids(rescued)).toEqual([silent!.id])
      expect((await getJob(store(), alive!.id)).state).toBe('running')
    })

    it('due schedules are those whose next tick has passed on the store clock', async () => {
      await store().upsertSchedule({ schedule: scheduleOf('past', Date.now() - HOUR) })
      await store().upsertSchedule({ schedule: scheduleOf('future', Date.now() + HOUR) })
      expect((await store().dueSchedules({})).map((s) => s.name)).toEqual(['past'])
    })
  })
}
