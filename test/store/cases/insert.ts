/** `insertJobs`: fields, states by run time, batches, unique keys, schedule ticks, dependencies. */
import { describe, expect, it } from 'vitest'
import { InvalidOptionsError } from '../../../src/core/domain/errors.js'
import type { StoreFactory } from '../factory.js'
import {
  attemptError,
  claimIds,
  getJob,
  insert,
  insertIds,
  itConforms,
  newJob,
  T0,
  useStore,
} from '../helpers.js'

export default function insertCases(factory: StoreFactory): void {
  describe('insertJobs', () => {
    const store = useStore(factory)

    it('stores every field, returns outcomes in input order, and getJob reads the same record', async () => {
      const job = newJob({
        kind: 'mail',
        queue: 'q1',
        payload: { to: 'a@b.c', n: [1, 2, { deep: true }] },
        priority: -5,
        maxAttempts: 7,
        timeoutMs: 1500,
        weight: 3,
        uniqueKey: 'u1',
        groupKey: 'g1',
        groupMode: 'release',
        groupLockTimeoutMs: 4000,
        metadata: { source: 'test' },
        tags: ['a', 'b "quoted", {braced}'],
        workflowState: { step: 1 },
        backoff: { baseMs: 1000, factor: 2, maxMs: 60_000, jitter: 0.1 },
        traceContext: { traceparent: '00-abc-def-01' },
      })
      const [first, second] = await store().insertJobs({ jobs: [job, newJob({ runAt: T0 + 1 })], now: T0 })
      expect(first).toEqual({
        duplicate: false,
        job: {
          ...job,
          id: '1',
          state: 'available',
          createdAt: T0,
          attempt: 0,
          runs: 0,
          errors: [],
          attemptedAt: null,
          attemptedBy: null,
          finishedAt: null,
        },
      })
      expect(second?.job).toMatchObject({ id: '2', state: 'scheduled', runAt: T0 + 1 })
      expect(await getJob(store(), '1')).toEqual(first?.job)
      // One job alone (a leaner statement on Postgres): the same fields.
      const [single] = await store().insertJobs({
        jobs: [{ ...job, uniqueKey: 'u2', scheduleName: 's', scheduleTick: T0 }],
        now: T0 + 2,
      })
      expect(single?.job).toMatchObject({
        id: '3',
        state: 'available',
        createdAt: T0 + 2,
        scheduleTick: T0,
        groupMode: 'release',
        groupLockTimeoutMs: 4000,
      })
      expect(await getJob(store(), '3')).toEqual(single?.job)
    })

    it('stores a job due at or before now as available and a later one as scheduled', async () => {
      const jobs = await insert(store(), [{ runAt: T0 - 1 }, { runAt: T0 }, { runAt: T0 + 1 }])
      expect(jobs.map((j) => [j.state, j.runAt])).toEqual([
        ['available', T0 - 1],
        ['available', T0],
        ['scheduled', T0 + 1],
      ])
    })

    it('inserts a large batch in one call, ids increasing in input order', async () => {
      const jobs = Array.from({ length: 2000 }, (_, i) => newJob({ payload: { i } }))
      const outcomes = await store().insertJobs({ jobs, now: T0 })
      expect(outcomes.map((o) => (o.job.payload as { i: number }).i)).toEqual(jobs.map((_, i) => i))
      const numbers = outcomes.map((o) => Number(o.job.id))
      expect(numbers).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1))
    })

    it('returns an empty list for an empty batch', async () => {
      expect(await store().insertJobs({ jobs: [], now: T0 })).toEqual([])
    })

    it('returns the waiting holder of a unique key, in the table or earlier in the batch, per kind', async () => {
      const [held] = await insertIds(store(), [{ uniqueKey: 'k' }])
      const outcomes = await store().insertJobs({
        jobs: [
          newJob({ uniqueKey: 'k', payload: 1 }),
          newJob({ uniqueKey: 'k2', payload: 2 }),
          newJob({ uniqueKey: 'k2', payload: 3 }),
          newJob({ kind: 'other', uniqueKey: 'k' }),
        ],
        now: T0,
      })
      expect(outcomes.map((o) => [o.duplicate, o.job.kind, o.job.uniqueKey, o.job.payload])).toEqual([
        [true, 'test', 'k', {}],
        [false, 'test', 'k2', 2],
        [true, 'test', 'k2', 2],
        [false, 'other', 'k', {}],
      ])
      expect(outcomes[0]?.job.id).toBe(held)
      expect(outcomes[2]?.job.id).toBe(outcomes[1]?.job.id)
      expect(await store().listJobs({ filter: {}, limit: 10 })).toHaveLength(3)
    })

    it('a running job holds its unique key; a finished one frees it', async () => {
      const [id] = await insertIds(store(), [{ uniqueKey: 'k' }])
      await claimIds(store(), { capacity: 1 })
      const [whileRunning] = await store().insertJobs({ jobs: [newJob({ uniqueKey: 'k' })], now: T0 })
      expect(whileRunning).toMatchObject({ duplicate: true, job: { id, state: 'running' } })
      await store().completeJobs({ completions: [{ id: id!, outcome: 'succeeded' }], now: T0 + 1 })
      const [after] = await store().insertJobs({ jobs: [newJob({ uniqueKey: 'k' })], now: T0 + 2 })
      expect(after?.duplicate).toBe(false)
      expect(after?.job.id).not.toBe(id)
    })

    it('skips the duplicate in a batch mixing jobs with and without unique keys, and in a batch of duplicates only', async () => {
      const [held] = await insertIds(store(), [{ uniqueKey: 'k' }])
      const mixed = await store().insertJobs({
        jobs: [newJob({ payload: 1 }), newJob({ uniqueKey: 'k', payload: 2 })],
        now: T0,
      })
      expect(mixed.map((o) => [o.duplicate, o.job.payload])).toEqual([
        [false, 1],
        [true, {}],
      ])
      expect(mixed[1]?.job.id).toBe(held)
      const duplicates = await store().insertJobs({
        jobs: [newJob({ uniqueKey: 'k' }), newJob({ uniqueKey: 'k' })],
        now: T0,
      })
      expect(Object.keys(duplicates)).toEqual(['0', '1'])
      expect(duplicates.map((o) => [o.duplicate, o.job.id])).toEqual([
        [true, held],
        [true, held],
      ])
    })

    itConforms(
      factory,
      'inserts one job per schedule tick: a second job of the same tick is a duplicate',
      async () => {
        const tick = { scheduleName: 'nightly', scheduleTick: T0 }
        const [a] = await store().insertJobs({ jobs: [newJob(tick)], now: T0 })
        const [b] = await store().insertJobs({ jobs: [newJob(tick)], now: T0 })
        expect(a?.duplicate).toBe(false)
        expect(b).toEqual({ duplicate: true, job: a?.job })
      },
    )

    it('refuses a dependency that does not exist, naming it, and inserts nothing of the batch', async () => {
      const [dep] = await insertIds(store(), [{}])
      const attempt = store().insertJobs({
        jobs: [newJob(), newJob({ dependsOn: [dep!, '999999'] })],
        now: T0,
      })
      await expect(attempt).rejects.toBeInstanceOf(InvalidOptionsError)
      await expect(attempt).rejects.toThrow(/999999/)
      // The item that names it: the second (index 1), not the first.
      await expect(attempt).rejects.toThrow(/item 1 \(kind "test"\)/)
      expect(await store().listJobs({ filter: {}, limit: 10 })).toHaveLength(1)
      await expect(
        store().insertJobs({ jobs: [newJob({ dependsOn: ['x1'] })], now: T0 }),
      ).rejects.toBeInstanceOf(InvalidOptionsError)
    })

    it('stores a job whose dependency failed or was cancelled as cancelled, holding no unique key', async () => {
      const [failed, cancelled] = await insertIds(store(), [{}, {}])
      await claimIds(store(), { capacity: 1 })
      await store().completeJobs({
        completions: [{ id: failed!, outcome: 'failed', error: attemptError(1) }],
        now: T0,
      })
      await store().cancelJobs({ filter: { ids: [cancelled!] }, now: T0 })
      const [a, b] = await insert(
        store(),
        [{ dependsOn: [failed!], uniqueKey: 'u' }, { dependsOn: [cancelled!] }],
        T0 + 5,
      )
      expect(a).toMatchObject({ state: 'cancelled', finishedAt: T0 + 5, dependsOn: [failed] })
      expect(b).toMatchObject({ state: 'cancelled', finishedAt: T0 + 5, dependsOn: [cancelled] })
      const [again] = await insert(store(), [{ uniqueKey: 'u' }], T0 + 6)
      expect(again?.state).toBe('available')
    })
  })
}
