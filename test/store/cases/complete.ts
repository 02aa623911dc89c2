/** `completeJobs` and `completeInTransaction`: every outcome, cascades, schedule success, logs, the attempt guard. */
import { describe, expect, it } from 'vitest'
import { RUN_LOGS_KEPT } from '../../../src/core/domain/job.js'
import { transactionalExecutionOf } from '../../../src/core/ports/store.js'
import type { StoreFactory } from '../factory.js'
import {
  claimIds,
  claimParams,
  attemptError as err,
  getJob,
  insertIds,
  itWith,
  scheduleOf,
  T0,
  useStore,
} from '../helpers.js'

export default function completeCases(factory: StoreFactory): void {
  describe('completeJobs', () => {
    const store = useStore(factory)
    const get = (id: string) => getJob(store(), id)

    /** Claims a job as `p1:w1`, retries it, claims it again as `p2:w1` (attempt 2); returns its id. */
    async function reclaimed(): Promise<string> {
      const [id] = (await insertIds(store(), [{}])) as [string]
      await claimIds(store(), { workerId: 'p1:w1' })
      await store().completeJobs({
        completions: [{ id, outcome: 'retry', runAt: T0, error: err(1), attempt: 1 }],
        now: T0,
      })
      expect(await claimIds(store(), { workerId: 'p2:w1', now: T0 + 10 })).toEqual([id])
      expect(await get(id)).toMatchObject({ attempt: 2, attemptedBy: 'p2:w1' })
      return id
    }

    it('writes every outcome of one call', async () => {
      const ids = await insertIds(store(), [{}, {}, {}, {}, {}, { workflowState: { step: 1 } }])
      await claimIds(store())
      const [ok, retry, failed, cancelled, snoozed, released] = ids as [
        string,
        string,
        string,
        string,
        string,
        string,
      ]
      await store().completeJobs({
        completions: [
          { id: ok, outcome: 'succeeded', workflowState: { done: true } },
          { id: retry, outcome: 'retry', runAt: T0 + 500, error: err(1) },
          { id: failed, outcome: 'failed', error: err(1, 'fatal') },
          { id: cancelled, outcome: 'cancelled' },
          { id: snoozed, outcome: 'snoozed', runAt: T0 + 60_000, workflowState: { step: 2 } },
          { id: released, outcome: 'released' },
        ],
        now: T0 + 100,
      })
      expect(await get(ok)).toMatchObject({
        state: 'succeeded',
        finishedAt: T0 + 100,
        attempt: 1,
        workflowState: { done: true },
      })
      expect(await get(retry)).toMatchObject({
        state: 'retryable',
        runAt: T0 + 500,
        finishedAt: null,
        attempt: 1,
        errors: [err(1)],
      })
      expect(await get(failed)).toMatchObject({
        state: 'failed',
        finishedAt: T0 + 100,
        errors: [err(1, 'fatal')],
      })
      expect(await get(cancelled)).toMatchObject({ state: 'cancelled', finishedAt: T0 + 100, errors: [] })
      expect(await get(snoozed)).toMatchObject({
        state: 'scheduled',
        runAt: T0 + 60_000,
        attempt: 0,
        errors: [],
        workflowState: { step: 2 },
      })
      expect(await get(released)).toMatchObject({
        state: 'available',
        runAt: T0,
        attempt: 0,
        workflowState: { step: 1 },
      })
    })

    it('succeeded keeps the workflow state unless one is given (null clears it)', async () => {
      const [kept, cleared] = await insertIds(store(), [
        { workflowState: { step: 1 } },
        { workflowState: { step: 1 } },
      ])
      await claimIds(store())
      await store().completeJobs({
        completions: [
          { id: kept!, outcome: 'succeeded' },
          { id: cleared!, outcome: 'succeeded', workflowState: null },
        ],
        now: T0 + 10,
      })
      expect(await get(kept!)).toMatchObject({
        state: 'succeeded',
        finishedAt: T0 + 10,
        workflowState: { step: 1 },
      })
      expect((await get(cleared!)).workflowState).toBeNull()
    })

    it('retry: claimable again at its run time as the next attempt; errors are kept oldest first', async () => {
      const [id] = (await insertIds(store(), [{}])) as [string]
      await claimIds(store())
      await store().completeJobs({
        completions: [{ id, outcome: 'retry', runAt: T0 + 500, error: err(1) }],
        now: T0,
      })
      expect(await claimIds(store(), { now: T0 + 499, strategy: 'time' })).toEqual([])
      const [again] = await store().claimJobs(claimParams({ now: T0 + 500, strategy: 'time' }))
      expect(again).toMatchObject({ id, attempt: 2, attemptedAt: T0 + 500 })
      await store().completeJobs({
        completions: [{ id, outcome: 'failed', error: err(2, 'last') }],
        now: T0 + 600,
      })
      expect(await get(id)).toMatchObject({
        state: 'failed',
        finishedAt: T0 + 600,
        errors: [err(1), err(2, 'last')],
      })
    })

    it('retry and snooze with delayMs land delayMs after now, as the runAt form does', async () => {
      const [retried, snoozed, absolute] = (await insertIds(store(), [{}, {}, {}])) as [
        string,
        string,
        string,
      ]
      await claimIds(store())
      await store().completeJobs({
        completions: [
          { id: retried, outcome: 'retry', delayMs: 500, error: err(1), attempt: 1 },
          { id: snoozed, outcome: 'snoozed', delayMs: 60_000, attempt: 1, workflowState: { step: 2 } },
          { id: absolute, outcome: 'retry', runAt: T0 + 700, error: err(1), attempt: 1 },
        ],
        now: T0 + 100,
      })
      expect(await get(retried)).toMatchObject({ state: 'retryable', runAt: T0 + 600, errors: [err(1)] })
      expect(await get(snoozed)).toMatchObject({
        state: 'scheduled',
        runAt: T0 + 60_100,
        attempt: 0,
        workflowState: { step: 2 },
      })
      expect(await get(absolute)).toMatchObject({ state: 'retryable', runAt: T0 + 700 })
      expect(await claimIds(store(), { now: T0 + 599, strategy: 'time' })).toEqual([])
      expect(await claimIds(store(), { now: T0 + 600, strategy: 'time' })).toEqual([retried])
    })

    it('cancelled appends the error only when given', async () => {
      const [id] = (await insertIds(store(), [{}])) as [string]
      await claimIds(store())
      await store().completeJobs({
        completions: [{ id, outcome: 'cancelled', error: err(1, 'stop') }],
        now: T0 + 1,
      })
      expect(await get(id)).toMatchObject({
        state: 'cancelled',
        finishedAt: T0 + 1,
        errors: [err(1, 'stop')],
      })
    })

    it('leaves jobs that are no longer running alone, and ignores unknown ids', async () => {
      const [id] = (await insertIds(store(), [{}])) as [string]
      await claimIds(store())
      await store().cancelJobs({ filter: { ids: [id] }, now: T0 + 1 })
      await store().completeJobs({
        completions: [
          { id, outcome: 'succeeded' },
          { id: '987654', outcome: 'succeeded' },
        ],
        now: T0 + 2,
      })
      expect(await get(id)).toMatchObject({ state: 'cancelled', finishedAt: T0 + 1 })
    })

    it('cancels the waiting dependants of a failed or cancelled job, transitively, at now', async () => {
      const [root, other, root2] = (await insertIds(store(), [{}, {}, {}])) as [string, string, string]
      const [child, child2] = (await insertIds(store(), [{ dependsOn: [root] }, { dependsOn: [root2] }])) as [
        string,
        string,
      ]
      const [grandchild, unrelated] = (await insertIds(store(), [
        { dependsOn: [child] },
        { dependsOn: [other] },
      ])) as [string, string]
      await claimIds(store(), { capacity: 3 })
      await store().completeJobs({
        completions: [
          { id: root, outcome: 'failed', error: err(1) },
          { id: root2, outcome: 'cancelled' },
        ],
        now: T0 + 7,
      })
      expect(await get(child)).toMatchObject({ state: 'cancelled', finishedAt: T0 + 7 })
      expect(await get(grandchild)).toMatchObject({ state: 'cancelled', finishedAt: T0 + 7 })
      expect(await get(child2)).toMatchObject({ state: 'cancelled', finishedAt: T0 + 7 })
      expect((await get(unrelated)).state).toBe('available')
    })

    it("moves a schedule's lastSuccessAt forward to a succeeded job's tick, never back", async () => {
      await store().upsertSchedule({ schedule: scheduleOf('nightly', T0), now: T0 })
      const [newer, older] = (await insertIds(store(), [
        { scheduleName: 'nightly', scheduleTick: T0 - 1000 },
        { scheduleName: 'nightly', scheduleTick: T0 - 2000 },
      ])) as [string, string]
      await claimIds(store())
      await store().completeJobs({ completions: [{ id: newer, outcome: 'succeeded' }], now: T0 })
      expect((await store().listSchedules())[0]?.lastSuccessAt).toBe(T0 - 1000)
      await store().completeJobs({ completions: [{ id: older, outcome: 'succeeded' }], now: T0 })
      expect((await store().listSchedules())[0]?.lastSuccessAt).toBe(T0 - 1000)
    })

    it("leaves a schedule's lastSuccessAt alone when its job retries, fails or is cancelled", async () => {
      await store().upsertSchedule({ schedule: scheduleOf('nightly', T0), now: T0 })
      const [retried, cancelled] = (await insertIds(store(), [
        { scheduleName: 'nightly', scheduleTick: T0 - 1000, maxAttempts: 2 },
        { scheduleName: 'nightly', scheduleTick: T0 - 2000 },
      ])) as [string, string]
      await claimIds(store())
      await store().completeJobs({
        completions: [
          { id: retried, outcome: 'retry', runAt: T0, error: err(1) },
          { id: cancelled, outcome: 'cancelled' },
        ],
        now: T0,
      })
      expect((await store().listSchedules())[0]?.lastSuccessAt).toBeNull()
      expect(await claimIds(store())).toEqual([retried])
      await store().completeJobs({
        completions: [{ id: retried, outcome: 'failed', error: err(2) }],
        now: T0,
      })
      expect(await get(retried)).toMatchObject({ state: 'failed' })
      expect((await store().listSchedules())[0]?.lastSuccessAt).toBeNull()
    })

    it("appends a run's logs, read back by getJob", async () => {
      const [id] = (await insertIds(store(), [{}])) as [string]
      await claimIds(store())
      const line = { at: T0, level: 'info' as const, message: 'hello' }
      await store().completeJobs({
        completions: [
          { id, outcome: 'retry', runAt: T0, error: err(1), logs: { attempt: 1, lines: [line] } },
        ],
        now: T0,
      })
      await claimIds(store())
      await store().completeJobs({
        completions: [{ id, outcome: 'succeeded', logs: { attempt: 2, lines: [], dropped: 3 } }],
        now: T0,
      })
      expect((await get(id)).logs).toEqual([
        { attempt: 1, lines: [line] },
        { attempt: 2, lines: [], dropped: 3 },
      ])
    })

    it('a batch of successes keeps the logs of the runs that logged, beside runs that did not', async () => {
      const [logged, silent] = (await insertIds(store(), [{}, {}])) as [string, string]
      await claimIds(store())
      const run = { attempt: 1, lines: [{ at: T0, level: 'info' as const, message: 'hi' }] }
      await store().completeJobs({
        completions: [
          { id: silent, outcome: 'succeeded' },
          { id: logged, outcome: 'succeeded', logs: run },
        ],
        now: T0 + 1,
      })
      expect(await get(logged)).toMatchObject({ state: 'succeeded', logs: [run] })
      expect((await get(silent)).state).toBe('succeeded')
    })

    it(`keeps the logs of the last ${RUN_LOGS_KEPT} runs, dropping the oldest`, async () => {
      const [id] = (await insertIds(store(), [{ maxAttempts: RUN_LOGS_KEPT + 5 }])) as [string]
      for (let attempt = 1; attempt <= RUN_LOGS_KEPT + 2; attempt++) {
        expect(await claimIds(store())).toEqual([id])
        await store().completeJobs({
          completions: [
            { id, outcome: 'retry', runAt: T0, error: err(attempt), logs: { attempt, lines: [] } },
          ],
          now: T0,
        })
      }
      const kept = (await get(id)).logs?.map((run) => run.attempt)
      expect(kept).toEqual(Array.from({ length: RUN_LOGS_KEPT }, (_, i) => i + 3))
    })

    it('retry, failed and cancelled keep the workflow state unless one is given', async () => {
      const ids = await insertIds(
        store(),
        Array.from({ length: 4 }, () => ({ workflowState: { step: 1 } })),
      )
      const [retried, failed, cancelled, changed] = ids as [string, string, string, string]
      await claimIds(store())
      await store().completeJobs({
        completions: [
          { id: retried, outcome: 'retry', runAt: T0 + 500, error: err(1) },
          { id: failed, outcome: 'failed', error: err(1) },
          { id: cancelled, outcome: 'cancelled' },
          { id: changed, outcome: 'failed', error: err(1), workflowState: { step: 2 } },
        ],
        now: T0 + 1,
      })
      expect(await get(retried)).toMatchObject({ state: 'retryable', workflowState: { step: 1 } })
      expect(await get(failed)).toMatchObject({ state: 'failed', workflowState: { step: 1 } })
      expect(await get(cancelled)).toMatchObject({ state: 'cancelled', workflowState: { step: 1 } })
      expect(await get(changed)).toMatchObject({ state: 'failed', workflowState: { step: 2 } })
    })

    describe('the attempt guard', () => {
      it("ignores a stale attempt's completion and applies the current attempt's", async () => {
        const id = await reclaimed()
        await store().completeJobs({
          completions: [{ id, outcome: 'failed', error: err(1), attempt: 1 }],
          now: T0 + 20,
        })
        expect(await get(id)).toMatchObject({
          state: 'running',
          attempt: 2,
          finishedAt: null,
          errors: [err(1)],
        })
        await store().completeJobs({ completions: [{ id, outcome: 'succeeded', attempt: 2 }], now: T0 + 30 })
        expect(await get(id)).toMatchObject({ state: 'succeeded', attempt: 2, finishedAt: T0 + 30 })
      })

      it('guards each completion of a batch on its own; one without attempt applies to any', async () => {
        const id = await reclaimed()
        const [other, free] = (await insertIds(store(), [{}, {}])) as [string, string]
        await claimIds(store(), { now: T0 + 10 })
        await store().completeJobs({
          completions: [
            { id, outcome: 'succeeded', attempt: 1 },
            { id: other, outcome: 'released', attempt: 1 },
            { id: free, outcome: 'succeeded' },
          ],
          now: T0 + 20,
        })
        expect(await get(id)).toMatchObject({ state: 'running', attempt: 2 })
        expect(await get(other)).toMatchObject({ state: 'available', attempt: 0 })
        expect(await get(free)).toMatchObject({ state: 'succeeded', attempt: 1 })
      })

      it('returns the ids of the completions it skipped (stale, not running, unknown), in both statements', async () => {
        const id = await reclaimed()
        const [other, free, cancelled] = (await insertIds(store(), [{}, {}, {}])) as [string, string, string]
        await claimIds(store(), { now: T0 + 10 })
        await store().cancelJobs({ filter: { ids: [cancelled] }, now: T0 + 15 })
        // Successes only (the common statement): the stale attempt, the cancelled job, an unknown id.
        const ok = await store().completeJobs({
          completions: [
            { id, outcome: 'succeeded', attempt: 1 },
            { id: free, outcome: 'succeeded' },
            { id: cancelled, outcome: 'succeeded', attempt: 1 },
            { id: '987654', outcome: 'succeeded' },
          ],
          now: T0 + 20,
        })
        expect([...ok.skipped].sort()).toEqual([id, cancelled, '987654'].sort())
        // Any outcome: the same, and nothing skipped when every completion applies.
        const mixed = await store().completeJobs({
          completions: [
            { id, outcome: 'failed', error: err(1), attempt: 1 },
            { id: other, outcome: 'released', attempt: 1 },
          ],
          now: T0 + 30,
        })
        expect(mixed.skipped).toEqual([id])
        const all = await store().completeJobs({
          completions: [{ id, outcome: 'retry', runAt: T0, error: err(2), attempt: 2 }],
          now: T0 + 40,
        })
        expect(all.skipped).toEqual([])
        expect((await store().completeJobs({ completions: [], now: T0 + 50 })).skipped).toEqual([])
      })

      it('a stale completion cascades nothing', async () => {
        const id = await reclaimed()
        const [child] = (await insertIds(store(), [{ dependsOn: [id] }])) as [string]
        await store().completeJobs({ completions: [{ id, outcome: 'cancelled', attempt: 1 }], now: T0 + 20 })
        expect((await get(child)).state).toBe('available')
        await store().completeJobs({ completions: [{ id, outcome: 'cancelled', attempt: 2 }], now: T0 + 30 })
        expect(await get(child)).toMatchObject({ state: 'cancelled', finishedAt: T0 + 30 })
      })

      itWith(
        factory,
        'transactionalExecution',
        'completeInTransaction applies only to the running attempt',
        async () => {
          const id = await reclaimed()
          const transactions = transactionalExecutionOf(store())!
          const write = (attempt: number) =>
            transactions.runInTransaction(async (tx) => {
              const ok = await transactions.completeInTransaction({
                completion: { id, outcome: 'succeeded', attempt },
                now: T0 + 40,
                tx,
              })
              return { commit: ok, value: ok }
            })
          expect(await write(1)).toBe(false)
          expect(await get(id)).toMatchObject({ state: 'running', attempt: 2 })
          expect(await write(2)).toBe(true)
          expect(await get(id)).toMatchObject({ state: 'succeeded', finishedAt: T0 + 40 })
        },
      )

      itWith(
        factory,
        'transactionalExecution',
        'completeInTransaction snoozes delayMs after now',
        async () => {
          const [id] = (await insertIds(store(), [{}])) as [string]
          await claimIds(store())
          const transactions = transactionalExecutionOf(store())!
          const ok = await transactions.runInTransaction(async (tx) => {
            const written = await transactions.completeInTransaction({
              completion: { id, outcome: 'snoozed', delayMs: 250, attempt: 1 },
              now: T0 + 40,
              tx,
            })
            return { commit: written, value: written }
          })
          expect(ok).toBe(true)
          expect(await get(id)).toMatchObject({ state: 'scheduled', runAt: T0 + 290, attempt: 0 })
        },
      )
    })
  })
}
