import { expect, it } from 'vitest'
import { claim, describeStore, insert, T0, useStore } from './fixture.js'

describeStore('PostgresStore.claimJobs', () => {
  const db = useStore()
  const ids = (jobs: { id: string }[]) => jobs.map((j) => j.id)

  it('claims due jobs by priority, then run-at, then id, and marks them running', async () => {
    const [late, urgent, early, future] = await insert(db.store, [
      { runAt: T0 - 10 },
      { priority: -1, runAt: T0 },
      { runAt: T0 - 20 },
      { runAt: T0 + 1 },
    ])
    const claimed = await db.store.claimJobs(claim({ now: T0 + 0, workerId: 'w-9' }))
    expect(ids(claimed)).toEqual([urgent, early, late])
    expect(claimed[0]).toMatchObject({ state: 'running', attempt: 1, attemptedAt: T0, attemptedBy: 'w-9' })
    expect((await db.store.getJob({ id: future! }))?.state).toBe('scheduled')
  })

  it('claims by run-at then id with the time strategy', async () => {
    const [a, b, c] = await insert(db.store, [
      { priority: 5, runAt: T0 - 30 },
      { priority: -5, runAt: T0 - 10 },
      { runAt: T0 - 20 },
    ])
    expect(ids(await db.store.claimJobs(claim({ strategy: 'time' })))).toEqual([a, c, b])
  })

  it('claims jobs due by dueBy, including Infinity', async () => {
    const [soon, later] = await insert(db.store, [{ runAt: T0 + 1000 }, { runAt: T0 + 10 ** 9 }])
    expect(ids(await db.store.claimJobs(claim({ dueBy: T0 + 1000 })))).toEqual([soon])
    expect(ids(await db.store.claimJobs(claim({ dueBy: Number.POSITIVE_INFINITY })))).toEqual([later])
  })

  it('respects queues, kinds and maxId', async () => {
    const [a, , c, d] = await insert(db.store, [{}, { kind: 'other' }, { queue: 'q2' }, {}])
    expect(ids(await db.store.claimJobs(claim({ queues: ['default', 'q2'], maxId: c })))).toEqual([a, c])
    expect(ids(await db.store.claimJobs(claim()))).toEqual([d])
    expect(await db.store.claimJobs(claim({ kinds: [] }))).toEqual([])
  })

  it('takes jobs in order while their weights fit, stopping at the first that does not', async () => {
    const [a, b] = await insert(db.store, [{ weight: 2 }, { weight: 3 }, { weight: 1 }])
    expect(ids(await db.store.claimJobs(claim({ capacity: 5 })))).toEqual([a, b])
    await insert(db.store, [{ weight: 4 }, { weight: 1 }])
    const claimed = await db.store.claimJobs(claim({ capacity: 3 }))
    expect(claimed.map((j) => j.weight)).toEqual([1])
  })

  it('skips paused queues until resumed', async () => {
    const [a, b] = await insert(db.store, [{}, { queue: 'q2' }])
    await db.store.setQueuePaused({ queue: 'default', paused: true, now: T0 })
    expect(ids(await db.store.claimJobs(claim()))).toEqual([])
    expect(ids(await db.store.claimJobs(claim({ queues: ['default', 'q2'] })))).toEqual([b])
    await db.store.setQueuePaused({ queue: 'default', paused: false, now: T0 })
    expect(ids(await db.store.claimJobs(claim()))).toEqual([a])
  })

  it('runs one job per group at a time, in id order, even when a later one is due first', async () => {
    const [g1, g2, other, g3] = await insert(db.store, [
      { groupKey: 'g', runAt: T0 },
      { groupKey: 'g', runAt: T0 - 100, priority: -10 },
      { groupKey: 'h' },
      { groupKey: 'g' },
    ])
    expect(ids(await db.store.claimJobs(claim()))).toEqual([g1, other])
    expect(await db.store.claimJobs(claim())).toEqual([])
    await db.store.completeJobs({ completions: [{ id: g1!, outcome: 'succeeded' }], now: T0 })
    expect(ids(await db.store.claimJobs(claim()))).toEqual([g2])
    await db.store.completeJobs({
      completions: [{ id: g2!, outcome: 'retry', runAt: T0 + 50, error: err(1) }],
      now: T0,
    })
    expect(await db.store.claimJobs(claim())).toEqual([])
    expect(ids(await db.store.claimJobs(claim({ now: T0 + 50 })))).toEqual([g2])
    await db.store.completeJobs({
      completions: [{ id: g2!, outcome: 'failed', error: err(2) }],
      now: T0 + 50,
    })
    expect(ids(await db.store.claimJobs(claim({ now: T0 + 50 })))).toEqual([g3])
  })

  it('waits for every dependency to succeed; a deleted dependency counts as met', async () => {
    const [a, b] = await insert(db.store, [{}, {}])
    const [child] = await insert(db.store, [{ dependsOn: [a!, b!] }])
    expect(ids(await db.store.claimJobs(claim()))).toEqual([a, b])
    await db.store.completeJobs({ completions: [{ id: a!, outcome: 'succeeded' }], now: T0 })
    expect(await db.store.claimJobs(claim())).toEqual([])
    await db.store.completeJobs({ completions: [{ id: b!, outcome: 'succeeded' }], now: T0 })
    expect(ids(await db.store.claimJobs(claim()))).toEqual([child])

    const [c] = await insert(db.store, [{ runAt: T0 + 10 ** 6 }])
    const [d] = await insert(db.store, [{ dependsOn: [c!] }])
    expect(await db.store.claimJobs(claim())).toEqual([])
    await db.store.deleteJobs({ filter: { ids: [c!] } })
    expect(ids(await db.store.claimJobs(claim()))).toEqual([d])
  })

  it('does not claim a job whose attempts are used up', async () => {
    const [a] = await insert(db.store, [{ maxAttempts: 1 }])
    await db.store.claimJobs(claim())
    await db.store.completeJobs({
      completions: [{ id: a!, outcome: 'retry', runAt: T0, error: err(1) }],
      now: T0,
    })
    expect(await db.store.claimJobs(claim())).toEqual([])
  })

  it('uses the partial claim index (no scan of finished rows)', async () => {
    const plan = await db.pool.query(
      `EXPLAIN SELECT id FROM ${db.table('jobs')} WHERE state IN ('scheduled', 'available', 'retryable') AND queue = 'default' ORDER BY priority, run_at, id LIMIT 10`,
    )
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/jobs_claim_priority_idx/)
  })
})

function err(attempt: number) {
  return { attempt, at: T0, name: 'Error', message: `attempt ${attempt} failed` }
}
