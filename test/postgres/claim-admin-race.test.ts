/**
 * Claims racing every admin statement that changes waiting jobs (pause, resume, cancel with its
 * cascade, retry, delete, update, orphan failure) on the same jobs, from separate connections. The
 * lock order of migration 011 (a ready row before its job row, a job row before its running row) is
 * what keeps them from deadlocking: a statement that took them the other way round fails here with
 * 40P01 (a `StorageConflictError` out of the store) on one side. Afterwards every job is in exactly
 * one state, no job ran twice at once, and the narrow tables agree with the job rows (the fixture's
 * check after each test).
 */
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import type { Completion } from '../../src/core/ports/store.js'
import { claim, databaseUrl, describePostgres, newJob, T0, useStore } from './fixture.js'

const ROUNDS = 6
const JOBS_PER_ROUND = 60

describePostgres('claims racing admin statements on the same jobs', () => {
  const db = useStore()
  let pools: pg.Pool[] = []
  let stores: PostgresStore[] = []

  beforeAll(() => {
    pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: databaseUrl(), max: 3 }))
    stores = pools.map((pool) => new PostgresStore({ pool, schema: db.schema }))
  })
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()))
    await Promise.all(pools.map((p) => p.end()))
  })

  /** A small deterministic generator (mulberry32), so a failure replays. */
  function random(seed: number): () => number {
    let a = seed
    return () => {
      a = (a + 0x6d2b79f5) | 0
      let t = Math.imul(a ^ (a >>> 15), 1 | a)
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
  }

  it('never deadlocks, and leaves every job in one consistent state', async () => {
    const [claimerA, claimerB, adminA, adminB] = stores as [
      PostgresStore,
      PostgresStore,
      PostgresStore,
      PostgresStore,
    ]
    const next = random(19)
    for (let round = 0; round < ROUNDS; round++) {
      // Every third job depends on the one before it (cancels cascade), every fifth is in a group.
      const first = await db.store.insertJobs({
        jobs: Array.from({ length: JOBS_PER_ROUND }, (_, i) =>
          newJob({ payload: { round, i }, groupKey: i % 5 === 0 ? `g${i % 3}` : null, priority: i % 4 }),
        ),
        now: T0,
      })
      const ids = first.map((o) => o.job.id)
      await db.store.insertJobs({
        jobs: ids.filter((_, i) => i % 3 === 0).map((id) => newJob({ dependsOn: [id], payload: { round } })),
        now: T0,
      })
      const pick = (n: number) => Array.from({ length: n }, () => ids[Math.floor(next() * ids.length)]!)
      let claiming = true
      const claimer = async (store: PostgresStore, workerId: string) => {
        while (claiming) {
          const jobs = await store.claimJobs(claim({ capacity: 4, workerId }))
          if (jobs.length > 0) {
            const error = (attempt: number) => ({ attempt, at: T0, name: 'Error', message: 'again' })
            const completions: Completion[] = jobs.map((job, k) =>
              k % 3 === 0
                ? { id: job.id, attempt: job.attempt, outcome: 'retry', runAt: T0, error: error(job.attempt) }
                : k % 3 === 1
                  ? { id: job.id, attempt: job.attempt, outcome: 'failed', error: error(job.attempt) }
                  : { id: job.id, attempt: job.attempt, outcome: 'succeeded' },
            )
            await store.completeJobs({ completions, now: T0 })
          } else {
            await new Promise((resolve) => setImmediate(resolve))
          }
        }
      }
      const admin = async (store: PostgresStore) => {
        for (let step = 0; step < 24; step++) {
          const target = pick(3)
          switch (step % 7) {
            case 0:
              await store.pauseJobs({ filter: { ids: target } })
              break
            case 1:
              await store.resumeJobs({ filter: { ids: target }, now: T0 })
              break
            case 2:
              await store.cancelJobs({ filter: { ids: target }, now: T0 })
              break
            case 3:
              await store.retryJobs({ filter: { ids: target }, now: T0 })
              break
            case 4:
              await store.updateJob({ id: target[0]!, changes: { priority: 3, runAt: T0 }, now: T0 })
              break
            case 5:
              await store.deleteJobs({ filter: { ids: target } })
              break
            default:
              await store.failOrphans({ now: T0, staleAfterMs: 1, registered: [], failAfterMs: 0, limit: 2 })
          }
        }
      }
      const claimers = Promise.all([claimer(claimerA, 'a'), claimer(claimerB, 'b')])
      try {
        await Promise.all([admin(adminA), admin(adminB)])
      } finally {
        claiming = false
        await claimers
      }
    }
    // No job runs twice at once (one running row per running job is the fixture's check); and each
    // job is in exactly one of the two tables.
    const { rows } = await db.pool.query<{ id: string; n: number }>(
      `SELECT id::text, count(*)::int AS n FROM ${db.everyJob} GROUP BY id HAVING count(*) > 1`,
    )
    expect(rows).toEqual([])
  })
})
