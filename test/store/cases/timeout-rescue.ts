/**
 * `rescueJobs` with `timeoutMarginMs` (perseid's automatic failover: a task whose scheduler crashed
 * is marked failed one minute after its maximum execution time).
 */
import { describe, expect, it } from 'vitest'
import type { StoreFactory } from '../factory.js'
import { claimIds, getJob, ids, insertIds, T0, useStore } from '../helpers.js'

const MARGIN = 60_000
const TIMEOUT = 30_000
/** Heartbeats this old are stale (long, so that only the timeout decides in these cases). */
const STALE_AFTER = 3_600_000

const timedOut = (attempt: number, at: number, workerId: string) => ({
  attempt,
  at,
  name: 'JobTimeoutError',
  message: `Job timed out after ${TIMEOUT} ms: it was still running ${MARGIN} ms past its timeout on worker ${JSON.stringify(workerId)}, which never reported it; it was returned to the queue as a failed attempt.`,
})

export default function timeoutRescueCases(factory: StoreFactory): void {
  describe('rescueJobs: failover at max execution time', () => {
    const store = useStore(factory)
    const rescue = (now: number, timeoutMarginMs: number | null = MARGIN) =>
      store().rescueJobs({
        now,
        staleAfterMs: STALE_AFTER,
        limit: 100,
        ...(timeoutMarginMs === null ? {} : { timeoutMarginMs }),
      })
    const beat = (now: number) => store().recordHeartbeat({ processId: 'p', now })

    it('rescues a job once its timeout plus the margin has passed since it started, as a timed-out attempt, even while its process heartbeats', async () => {
      await beat(T0)
      const [job, untimed] = await insertIds(store(), [{ timeoutMs: TIMEOUT }, {}])
      expect(await claimIds(store(), { workerId: 'p:w' })).toEqual([job, untimed])
      const due = T0 + TIMEOUT + MARGIN
      await beat(due - 1)
      expect(await rescue(due - 1)).toEqual([])
      expect(await rescue(due, null)).toEqual([])
      const rescued = await rescue(due)
      expect(ids(rescued)).toEqual([job])
      expect(rescued[0]).toMatchObject({
        state: 'retryable',
        runAt: due,
        attempt: 1,
        errors: [timedOut(1, due, 'p:w')],
      })
      expect(await getJob(store(), job!)).toEqual(rescued[0])
      // A job without a timeout is left to the heartbeat, however long it runs.
      const late = due + 30 * 86_400_000
      await beat(late)
      expect(await rescue(late)).toEqual([])
      expect((await getJob(store(), untimed!)).state).toBe('running')
    })

    it("counts the attempt: out of attempts it fails; the stuck worker's late completion is ignored", async () => {
      await beat(T0)
      const [last] = await insertIds(store(), [{ timeoutMs: TIMEOUT, maxAttempts: 1 }])
      await claimIds(store(), { workerId: 'p:w' })
      const due = T0 + TIMEOUT + MARGIN
      const [rescued] = await rescue(due)
      expect(rescued).toMatchObject({
        id: last,
        state: 'failed',
        finishedAt: due,
        errors: [timedOut(1, due, 'p:w')],
      })
      await store().completeJobs({
        completions: [{ id: last!, outcome: 'succeeded', attempt: 1 }],
        now: due + 1,
      })
      expect((await getJob(store(), last!)).state).toBe('failed')
    })

    it('a job within its timeout is rescued only by heartbeat silence, as a dead worker', async () => {
      const [job] = await insertIds(store(), [{ timeoutMs: TIMEOUT }])
      await claimIds(store(), { workerId: 'gone:w' })
      const [rescued] = await store().rescueJobs({
        now: T0 + 1000,
        staleAfterMs: 500,
        limit: 10,
        timeoutMarginMs: MARGIN,
      })
      expect(rescued).toMatchObject({ id: job, state: 'retryable' })
      expect(rescued?.errors[0]?.name).toBe('WorkerDied')
    })

    it('a margin of 0 rescues at the timeout itself', async () => {
      await beat(T0)
      const [job] = await insertIds(store(), [{ timeoutMs: TIMEOUT }])
      await claimIds(store(), { workerId: 'p:w' })
      expect(await rescue(T0 + TIMEOUT - 1, 0)).toEqual([])
      expect(ids(await rescue(T0 + TIMEOUT, 0))).toEqual([job])
    })
  })
}
