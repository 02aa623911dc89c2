/**
 * The attempt's start: a completion's `bufferWaitMs` (how long its job waited in a worker's local
 * buffer between the claim and the handler's start) moves the stored `attemptedAt` from the claim to
 * the handler's start, on the store's clock, in every completion statement; a stale attempt's
 * completion still changes nothing.
 */
import { describe, expect, it } from 'vitest'
import type { Completion } from '../../../src/core/ports/store.js'
import { transactionalExecutionOf } from '../../../src/core/ports/store.js'
import type { StoreFactory } from '../factory.js'
import { claimIds, attemptError as err, getJob, insertIds, itWith, newJob, T0, useStore } from '../helpers.js'

export default function attemptStartCases(factory: StoreFactory): void {
  describe('completeJobs: the attempt start (bufferWaitMs)', () => {
    const store = useStore(factory)
    const get = (id: string) => getJob(store(), id)

    /** Inserts `n` jobs and claims them at `claimedAt` (their `attemptedAt`); returns their ids. */
    async function claimed(n: number, claimedAt = T0 + 100): Promise<string[]> {
      const ids = await insertIds(
        store(),
        Array.from({ length: n }, () => ({})),
      )
      expect(await claimIds(store(), { now: claimedAt })).toEqual(ids)
      return ids
    }

    it('a batch of successes records attemptedAt as the claim plus its buffer wait (none given: the claim)', async () => {
      const [waited, logged, direct, zero] = (await claimed(4)) as [string, string, string, string]
      await store().completeJobs({
        completions: [
          { id: waited, outcome: 'succeeded', attempt: 1, bufferWaitMs: 250 },
          { id: direct, outcome: 'succeeded', attempt: 1 },
          { id: zero, outcome: 'succeeded', attempt: 1, bufferWaitMs: 0 },
        ],
        now: T0 + 1000,
      })
      // With a run log: the statement variant that writes logs too.
      await store().completeJobs({
        completions: [
          {
            id: logged,
            outcome: 'succeeded',
            attempt: 1,
            bufferWaitMs: 40,
            logs: { attempt: 1, lines: [{ at: T0 + 200, level: 'info', message: 'hi' }] },
          },
        ],
        now: T0 + 1000,
      })
      expect(await get(waited)).toMatchObject({
        state: 'succeeded',
        attemptedAt: T0 + 350,
        finishedAt: T0 + 1000,
      })
      expect(await get(logged)).toMatchObject({ state: 'succeeded', attemptedAt: T0 + 140 })
      expect(await get(direct)).toMatchObject({ state: 'succeeded', attemptedAt: T0 + 100 })
      expect(await get(zero)).toMatchObject({ state: 'succeeded', attemptedAt: T0 + 100 })
    })

    it('every other outcome records it too, in one mixed batch', async () => {
      const ids = await claimed(5)
      const [ok, retry, failed, cancelled, snoozed] = ids as [string, string, string, string, string]
      const completions: Completion[] = [
        { id: ok, outcome: 'succeeded', attempt: 1, bufferWaitMs: 10 },
        { id: retry, outcome: 'retry', runAt: T0 + 5000, error: err(1), attempt: 1, bufferWaitMs: 20 },
        { id: failed, outcome: 'failed', error: err(1), attempt: 1, bufferWaitMs: 30 },
        { id: cancelled, outcome: 'cancelled', attempt: 1, bufferWaitMs: 40 },
        { id: snoozed, outcome: 'snoozed', delayMs: 5000, attempt: 1, bufferWaitMs: 50 },
      ]
      await store().completeJobs({ completions, now: T0 + 1000 })
      expect(await Promise.all(ids.map(async (id) => (await get(id)).attemptedAt))).toEqual([
        T0 + 110,
        T0 + 120,
        T0 + 130,
        T0 + 140,
        T0 + 150,
      ])
      expect((await get(retry)).state).toBe('retryable')
      expect((await get(snoozed)).state).toBe('scheduled')
    })

    it("a stale attempt's completion leaves the current attempt's start alone", async () => {
      const [id, other] = (await claimed(2)) as [string, string]
      await store().completeJobs({
        completions: [{ id, outcome: 'retry', runAt: T0 + 200, error: err(1), attempt: 1 }],
        now: T0 + 150,
      })
      expect(await claimIds(store(), { now: T0 + 300, workerId: 'p2:w1' })).toEqual([id])
      // Stale, alone (the successes' statement) and beside a current completion (the general one).
      await store().completeJobs({
        completions: [{ id, outcome: 'succeeded', attempt: 1, bufferWaitMs: 5000 }],
        now: T0 + 400,
      })
      await store().completeJobs({
        completions: [
          { id, outcome: 'failed', error: err(1), attempt: 1, bufferWaitMs: 5000 },
          { id: other, outcome: 'failed', error: err(1), attempt: 1, bufferWaitMs: 7 },
        ],
        now: T0 + 400,
      })
      expect(await get(id)).toMatchObject({ state: 'running', attempt: 2, attemptedAt: T0 + 300 })
      expect(await get(other)).toMatchObject({ state: 'failed', attemptedAt: T0 + 107 })
      await store().completeJobs({
        completions: [{ id, outcome: 'succeeded', attempt: 2, bufferWaitMs: 25 }],
        now: T0 + 500,
      })
      expect(await get(id)).toMatchObject({ state: 'succeeded', attempt: 2, attemptedAt: T0 + 325 })
    })

    it('the start is on the store clock when now is omitted (claim and wait alike)', async () => {
      const [id] = (await store().insertJobs({ jobs: [newJob({ runAt: Date.now() - 3_600_000 })] })).map(
        (o) => o.job.id,
      ) as [string]
      const [job] = await store().claimJobs({
        queues: ['default'],
        kinds: ['test'],
        capacity: 1,
        strategy: 'time',
        workerId: 'p1:w1',
      })
      expect(job?.id).toBe(id)
      await store().completeJobs({
        completions: [{ id, outcome: 'succeeded', attempt: 1, bufferWaitMs: 1500 }],
      })
      expect((await get(id)).attemptedAt).toBe(job!.attemptedAt! + 1500)
    })

    itWith(factory, 'transactionalExecution', 'completeInTransaction records it as well', async () => {
      const [id] = (await claimed(1)) as [string]
      const transactions = transactionalExecutionOf(store())!
      const written = await transactions.runInTransaction(async (tx) => {
        const ok = await transactions.completeInTransaction({
          completion: { id, outcome: 'succeeded', attempt: 1, bufferWaitMs: 60 },
          now: T0 + 1000,
          tx,
        })
        return { commit: ok, value: ok }
      })
      expect(written).toBe(true)
      expect(await get(id)).toMatchObject({ state: 'succeeded', attemptedAt: T0 + 160 })
    })
  })
}
