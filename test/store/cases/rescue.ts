/** `recordHeartbeat` and `rescueJobs`: which jobs come back, how their attempt counts, and the guard after a rescue. */
import { describe, expect, it } from 'vitest'
import type { NewJob } from '../../../src/core/ports/store.js'
import type { StoreFactory } from '../factory.js'
import { attemptError, claimIds, getJob, ids, insertIds, T0, useStore } from '../helpers.js'

/** The rescue time of these cases; processes silent since before `STALE` are dead. */
const NOW = T0 + 20_000
const STALE = T0 + 5_000

const died = (attempt: number, processId: string) => ({
  attempt,
  at: NOW,
  name: 'WorkerDied',
  message: `The worker process ${JSON.stringify(processId)} stopped sending heartbeats while running this job; it was returned to the queue.`,
})

export default function rescueCases(factory: StoreFactory): void {
  describe('recordHeartbeat and rescueJobs', () => {
    const store = useStore(factory)
    const get = (id: string) => getJob(store(), id)
    const rescue = (limit = 100, now = NOW) => store().rescueJobs({ now, staleAfterMs: now - STALE, limit })

    /** Inserts one job per worker id and claims each for its worker, in order. */
    async function running(workerIds: string[], fields: Partial<NewJob> = {}): Promise<string[]> {
      const jobIds = await insertIds(
        store(),
        workerIds.map(() => fields),
      )
      for (const workerId of workerIds) await claimIds(store(), { capacity: 1, workerId })
      return jobIds
    }

    it('rescues the running jobs of silent and unknown processes and leaves live ones alone', async () => {
      await store().recordHeartbeat({ processId: 'live', now: T0 })
      await store().recordHeartbeat({ processId: 'live', now: STALE })
      await store().recordHeartbeat({ processId: 'silent', now: STALE - 1 })
      const [live, silent, unknown, drain] = (await running([
        'live:default',
        'silent:default',
        'gone:mail+default',
        'silent:drain',
      ])) as [string, string, string, string]
      const [waiting] = (await insertIds(store(), [{}])) as [string]

      const rescued = await rescue()

      expect(ids(rescued)).toEqual([silent, unknown, drain])
      expect(rescued[0]).toEqual(await get(silent))
      expect(await get(silent)).toMatchObject({
        state: 'retryable',
        runAt: NOW,
        attempt: 1,
        finishedAt: null,
        attemptedBy: 'silent:default',
        errors: [died(1, 'silent')],
      })
      expect((await get(unknown)).errors).toEqual([died(1, 'gone')])
      expect(await get(live)).toMatchObject({ state: 'running', attempt: 1, errors: [] })
      expect((await get(waiting)).state).toBe('available')
      expect(await rescue()).toEqual([])
    })

    it("counts the attempt: the job runs again as the next attempt, and the dead worker's completion is ignored", async () => {
      const [id] = (await running(['dead:w'])) as [string]
      await rescue(10)
      expect(await claimIds(store(), { now: NOW, workerId: 'live:w' })).toEqual([id])
      expect(await get(id)).toMatchObject({ attempt: 2, attemptedBy: 'live:w' })
      await store().completeJobs({ completions: [{ id, outcome: 'succeeded', attempt: 1 }], now: NOW + 1 })
      expect(await get(id)).toMatchObject({ state: 'running', attempt: 2, finishedAt: null })
    })

    it("ignores the dead worker's completion of a rescued job before it runs again", async () => {
      const [id] = (await running(['dead:w'])) as [string]
      await rescue(10)
      await store().completeJobs({ completions: [{ id, outcome: 'succeeded', attempt: 1 }], now: NOW + 1 })
      expect(await get(id)).toMatchObject({ state: 'retryable', finishedAt: null, errors: [died(1, 'dead')] })
    })

    it('fails a job out of attempts and cancels its waiting dependants', async () => {
      const [last] = (await running(['dead:w'], { maxAttempts: 1 })) as [string]
      const [child] = (await insertIds(store(), [{ dependsOn: [last] }])) as [string]
      const [deeper] = (await insertIds(store(), [{ dependsOn: [child] }])) as [string]
      const [rescued] = await rescue(10)
      expect(rescued).toMatchObject({ id: last, state: 'failed', finishedAt: NOW, errors: [died(1, 'dead')] })
      expect(await get(child)).toMatchObject({ state: 'cancelled', finishedAt: NOW })
      expect(await get(deeper)).toMatchObject({ state: 'cancelled', finishedAt: NOW })
    })

    it('never touches a job its worker completed before the rescue', async () => {
      const [done, retried] = (await running(['dead:w', 'dead:w'])) as [string, string]
      await store().completeJobs({
        completions: [
          { id: done, outcome: 'succeeded', attempt: 1 },
          { id: retried, outcome: 'retry', runAt: NOW + 5000, error: attemptError(1), attempt: 1 },
        ],
        now: NOW - 1,
      })
      expect(await rescue(10)).toEqual([])
      expect(await get(done)).toMatchObject({ state: 'succeeded', finishedAt: NOW - 1, errors: [] })
      expect(await get(retried)).toMatchObject({ state: 'retryable', runAt: NOW + 5000 })
    })

    it('takes at most `limit` jobs per call, and the rest on the next', async () => {
      const jobIds = await running(['dead:w0', 'dead:w1', 'dead:w2', 'dead:w3'])
      expect(await rescue(0)).toEqual([])
      expect(await rescue(-1)).toEqual([])
      // A fractional limit counts as its whole part.
      expect(await rescue(0.5)).toEqual([])
      const first = await rescue(2)
      expect(first).toHaveLength(2)
      const next = await rescue(1.9)
      expect(next).toHaveLength(1)
      const rest = await rescue(2)
      expect([...ids(first), ...ids(next), ...ids(rest)].sort()).toEqual([...jobIds].sort())
      expect(await rescue(2)).toEqual([])
    })

    it('a heartbeat at the stale limit keeps a process alive; a later rescue time can still find it dead', async () => {
      await store().recordHeartbeat({ processId: 'p', now: STALE })
      const [id] = (await running(['p:w'])) as [string]
      expect(await rescue()).toEqual([])
      const [late] = await store().rescueJobs({ now: NOW + 1, staleAfterMs: NOW - STALE, limit: 10 })
      expect(late).toMatchObject({ id, state: 'retryable', runAt: NOW + 1 })
    })
  })
}
