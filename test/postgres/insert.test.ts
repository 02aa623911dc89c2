import { expect, it } from 'vitest'
import { InvalidOptionsError, InvalidPayloadError } from '../../src/core/domain/errors.js'
import { claim, describeStore, insert, newJob, T0, useStore } from './fixture.js'

describeStore('PostgresStore.insertJobs', () => {
  const db = useStore()

  it('stores every field and returns outcomes in input order', async () => {
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
      metadata: { source: 'test' },
      tags: ['a', 'b "quoted", {braced}'],
      workflowState: { step: 1 },
      backoff: { baseMs: 1000, factor: 2, maxMs: 60_000, jitter: 0.1 },
      traceContext: { traceparent: '00-abc-def-01' },
    })
    const [first, second] = await db.store.insertJobs({ jobs: [job, newJob({ runAt: T0 + 1 })], now: T0 })
    expect(first).toEqual({
      duplicate: false,
      job: {
        ...job,
        id: '1',
        state: 'available',
        createdAt: T0,
        attempt: 0,
        errors: [],
        attemptedAt: null,
        attemptedBy: null,
        finishedAt: null,
        dependsOn: [],
      },
    })
    expect(second?.job).toMatchObject({ id: '2', state: 'scheduled', runAt: T0 + 1 })
    expect(await db.store.getJob({ id: '1' })).toEqual(first?.job)
    // One job at a time takes a leaner statement: same fields.
    const [single] = await db.store.insertJobs({
      jobs: [{ ...job, uniqueKey: 'u2', scheduleName: 's', scheduleTick: T0 }],
      now: T0 + 2,
    })
    expect(single?.job).toMatchObject({
      id: '3',
      state: 'available',
      createdAt: T0 + 2,
      tags: job.tags,
      scheduleTick: T0,
    })
    expect(await db.store.getJob({ id: '3' })).toEqual(single?.job)
  })

  it('inserts a large batch in one call, ids ascending in input order', async () => {
    const jobs = Array.from({ length: 2000 }, (_, i) => newJob({ payload: { i } }))
    const outcomes = await db.store.insertJobs({ jobs, now: T0 })
    expect(outcomes.map((o) => (o.job.payload as { i: number }).i)).toEqual(jobs.map((_, i) => i))
    const ids = outcomes.map((o) => Number(o.job.id))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
  })

  it('skips a duplicate unique key, in the table or earlier in the same batch, returning the holder', async () => {
    const [held] = await insert(db.store, [{ uniqueKey: 'k' }])
    const outcomes = await db.store.insertJobs({
      jobs: [
        newJob({ uniqueKey: 'k' }),
        newJob({ uniqueKey: 'k2' }),
        newJob({ uniqueKey: 'k2' }),
        newJob({ kind: 'other', uniqueKey: 'k' }),
      ],
      now: T0,
    })
    expect(outcomes.map((o) => [o.duplicate, o.job.kind, o.job.uniqueKey])).toEqual([
      [true, 'test', 'k'],
      [false, 'test', 'k2'],
      [true, 'test', 'k2'],
      [false, 'other', 'k'],
    ])
    expect(outcomes[0]?.job.id).toBe(held)
    expect(outcomes[2]?.job.id).toBe(outcomes[1]?.job.id)
  })

  it('frees a unique key once its holder has finished', async () => {
    await insert(db.store, [{ uniqueKey: 'k' }])
    const [running] = await db.store.claimJobs(claim())
    await db.store.completeJobs({ completions: [{ id: running!.id, outcome: 'succeeded' }], now: T0 })
    const [again] = await db.store.insertJobs({ jobs: [newJob({ uniqueKey: 'k' })], now: T0 })
    expect(again?.duplicate).toBe(false)
    expect(again?.job.id).not.toBe(running?.id)
  })

  it('inserts one job per schedule tick', async () => {
    const tick = { scheduleName: 'nightly', scheduleTick: T0 }
    const [a] = await db.store.insertJobs({ jobs: [newJob(tick)], now: T0 })
    const [b] = await db.store.insertJobs({ jobs: [newJob(tick)], now: T0 })
    expect(a?.duplicate).toBe(false)
    expect(b).toEqual({ duplicate: true, job: a?.job })
  })

  it('rejects a dependency on a job that does not exist, inserting nothing', async () => {
    const [dep] = await insert(db.store, [{}])
    const attempt = db.store.insertJobs({
      jobs: [newJob(), newJob({ dependsOn: [dep!, '999999'] })],
      now: T0,
    })
    await expect(attempt).rejects.toBeInstanceOf(InvalidOptionsError)
    await expect(attempt).rejects.toThrow(/999999/)
    expect(await db.store.listJobs({ filter: {}, limit: 10 })).toHaveLength(1)
  })

  it('stores a job whose dependency failed or was cancelled as cancelled', async () => {
    const [dep] = await insert(db.store, [{}])
    await db.store.cancelJobs({ filter: { ids: [dep!] }, now: T0 })
    const [child] = await db.store.insertJobs({ jobs: [newJob({ dependsOn: [dep!] })], now: T0 + 5 })
    expect(child?.job).toMatchObject({ state: 'cancelled', finishedAt: T0 + 5, dependsOn: [dep] })
  })

  it('rejects a payload PostgreSQL cannot store with InvalidPayloadError', async () => {
    const attempt = db.store.insertJobs({ jobs: [newJob({ payload: { text: 'nul \u0000 byte' } })], now: T0 })
    await expect(attempt).rejects.toBeInstanceOf(InvalidPayloadError)
  })

  it('returns an empty list for an empty batch', async () => {
    expect(await db.store.insertJobs({ jobs: [], now: T0 })).toEqual([])
  })
})
