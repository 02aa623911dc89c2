import pg from 'pg'
import { beforeEach, expect, it } from 'vitest'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { quoteIdentifier } from '../../src/adapters/postgres/schema-name.js'
import { waitFor } from '../support/wait.js'
import { claim, databaseUrl, describePostgres, insert, T0, useStore } from './fixture.js'

/** The rescue time of these tests; processes silent since before `STALE` are dead. */
const NOW = T0 + 20_000
const STALE = T0 + 5_000

// The rescue's rules are in the store-level suite (test/store/cases/rescue.ts); here: the processes table, order, notifications, races.
describePostgres('PostgresStore heartbeats and rescue', () => {
  const db = useStore()
  const processes = () => `${quoteIdentifier(db.schema)}.processes`

  beforeEach(async () => {
    await db.pool.query(`TRUNCATE ${processes()}`)
  })

  it('records heartbeats with one upsert per call, keeping the start time', async () => {
    await db.store.recordHeartbeat({ processId: 'p1', now: T0 })
    await db.store.recordHeartbeat({ processId: 'p1', now: T0 + 2000 })
    await db.store.recordHeartbeat({ processId: 'p2', now: T0 + 1000 })
    const rows = await db.pool.query(
      `SELECT id, round(date_part('epoch', last_heartbeat_at) * 1000) AS beat,
        round(date_part('epoch', started_at) * 1000) AS started FROM ${processes()} ORDER BY id`,
    )
    expect(rows.rows).toEqual([
      { id: 'p1', beat: T0 + 2000, started: T0 },
      { id: 'p2', beat: T0 + 1000, started: T0 + 1000 },
    ])
  })

  it('takes at most `limit` jobs, longest running first', async () => {
    const ids = await insert(db.store, [{}, {}, {}])
    for (const [i, at] of [T0 + 300, T0 + 100, T0 + 200].entries()) {
      await db.store.claimJobs(claim({ capacity: 1, now: at, workerId: `dead:w${i}` }))
    }
    const first = await db.store.rescueJobs({ now: NOW, staleAfterMs: NOW - STALE, limit: 2 })
    expect(first.map((j) => j.attemptedAt)).toEqual([T0 + 100, T0 + 200])
    const rest = await db.store.rescueJobs({ now: NOW, staleAfterMs: NOW - STALE, limit: 2 })
    expect(rest.map((j) => j.id)).toEqual([ids[0]])
  })

  it('wakes the workers of the queues whose jobs it made available', async () => {
    const woken: (readonly string[])[] = []
    const unsubscribe = db.store.onJobsAvailable((queues) => woken.push(queues))
    try {
      await db.store.whenListening()
      await insert(db.store, [{ queue: 'mail' }])
      await waitFor(() => woken.length === 1)
      await db.store.claimJobs(claim({ queues: ['mail'], workerId: 'dead:w' }))
      await db.store.rescueJobs({ now: NOW, staleAfterMs: NOW - STALE, limit: 10 })
      await waitFor(() => woken.length === 2)
      expect(woken).toEqual([['mail'], ['mail']])
    } finally {
      unsubscribe()
    }
  })

  it('forgets processes silent for a day, in the same call', async () => {
    const day = 24 * 3600_000
    await db.store.recordHeartbeat({ processId: 'ancient', now: NOW - day - 1 })
    await db.store.recordHeartbeat({ processId: 'yesterday', now: NOW - day + 1 })
    await db.store.recordHeartbeat({ processId: 'live', now: NOW })
    await db.store.rescueJobs({ now: NOW, staleAfterMs: NOW - STALE, limit: 10 })
    const rows = await db.pool.query(`SELECT id FROM ${processes()} ORDER BY id`)
    expect(rows.rows.map((r) => r.id)).toEqual(['live', 'yesterday'])
  })

  it('rescues each job once when several processes rescue at the same time', async () => {
    const jobs = 300
    await insert(
      db.store,
      Array.from({ length: jobs }, () => ({})),
    )
    await db.store.claimJobs(claim({ capacity: jobs, workerId: 'dead:w' }))
    const pools = [1, 2].map(() => new pg.Pool({ connectionString: databaseUrl(), max: 2 }))
    const stores = pools.map((pool) => new PostgresStore({ pool, schema: db.schema }))
    try {
      const rescueAll = async (store: PostgresStore) => {
        const ids: string[] = []
        for (;;) {
          const batch = await store.rescueJobs({ now: NOW, staleAfterMs: NOW - STALE, limit: 7 })
          if (batch.length === 0) return ids
          ids.push(...batch.map((j) => j.id))
        }
      }
      const [a, b] = await Promise.all(stores.map(rescueAll))
      const all = [...a!, ...b!]
      expect(all).toHaveLength(jobs)
      expect(new Set(all).size).toBe(jobs)
      const counts = await db.pool.query(
        `SELECT jsonb_array_length(errors) AS errors, attempt, state, count(*)::int AS n
         FROM ${db.table('jobs')} GROUP BY 1, 2, 3`,
      )
      expect(counts.rows).toEqual([{ errors: 1, attempt: 1, state: 'retryable', n: jobs }])
    } finally {
      await Promise.all(stores.map((s) => s.close()))
      await Promise.all(pools.map((p) => p.end()))
    }
  })
})
