import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { waitFor } from '../support/wait.js'
import { claim, databaseUrl, describePostgres, insert, newJob, T0, useStore } from './fixture.js'

describePostgres('several connections at once', () => {
  const db = useStore()
  let pools: pg.Pool[] = []
  let stores: PostgresStore[] = []

  beforeAll(() => {
    pools = Array.from({ length: 6 }, () => new pg.Pool({ connectionString: databaseUrl(), max: 2 }))
    stores = pools.map((pool) => new PostgresStore({ pool, schema: db.schema }))
  })
  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()))
    await Promise.all(pools.map((p) => p.end()))
  })

  it('inserts exactly one job per unique key under concurrent enqueue', async () => {
    for (let round = 0; round < 20; round++) {
      const outcomes = (
        await Promise.all(
          stores.map((s) =>
            s.insertJobs({ jobs: [newJob({ uniqueKey: `key-${round}`, payload: { round } })], now: T0 }),
          ),
        )
      ).flat()
      expect(outcomes.filter((o) => !o.duplicate)).toHaveLength(1)
      expect(new Set(outcomes.map((o) => o.job.id)).size).toBe(1)
    }
    expect(await db.store.listJobs({ filter: {}, limit: 100 })).toHaveLength(20)
  })

  it('claims every job exactly once across concurrent claimers', async () => {
    await db.store.insertJobs({
      jobs: Array.from({ length: 600 }, (_, i) => newJob({ payload: { i } })),
      now: T0,
    })
    const seen = new Map<string, number>()
    await Promise.all(
      stores.map(async (store, w) => {
        for (;;) {
          const jobs = await store.claimJobs(claim({ capacity: 7, workerId: `w${w}` }))
          if (jobs.length === 0) return
          for (const j of jobs) seen.set(j.id, (seen.get(j.id) ?? 0) + 1)
          await store.completeJobs({
            completions: jobs.map((j) => ({ id: j.id, outcome: 'succeeded' as const })),
            now: T0,
          })
        }
      }),
    )
    expect(seen.size).toBe(600)
    expect([...seen.values()].every((n) => n === 1)).toBe(true)
  })

  it('never runs two jobs of one group at once across concurrent claimers, and runs them in id order', async () => {
    const groups = 8
    const perGroup = 12
    const jobs = Array.from({ length: groups * perGroup }, (_, i) =>
      newJob({ groupKey: `g${i % groups}`, priority: (i * 7) % 5 }),
    )
    await db.store.insertJobs({ jobs: [...jobs, ...Array.from({ length: 20 }, () => newJob())], now: T0 })
    const order = new Map<string, number[]>()
    let violations = 0
    let done = false
    const monitor = (async () => {
      while (!done) {
        const r = await db.pool.query(
          `SELECT group_key FROM ${db.table('jobs')} WHERE state = 'running' AND group_key IS NOT NULL GROUP BY group_key HAVING count(*) > 1`,
        )
        violations += r.rowCount ?? 0
      }
    })()
    const waiting = async () =>
      (await db.store.listJobs({ filter: { states: ['available', 'running'] }, limit: 1 })).length > 0
    await Promise.all(
      stores.map(async (store, w) => {
        for (;;) {
          const claimed = await store.claimJobs(claim({ capacity: 3, workerId: `w${w}` }))
          if (claimed.length === 0) {
            if (!(await waiting())) return
            await new Promise((resolve) => setImmediate(resolve))
            continue
          }
          for (const j of claimed)
            if (j.groupKey) order.set(j.groupKey, [...(order.get(j.groupKey) ?? []), Number(j.id)])
          await store.completeJobs({
            completions: claimed.map((j) => ({ id: j.id, outcome: 'succeeded' as const })),
            now: T0,
          })
        }
      }),
    )
    done = true
    await monitor
    expect(violations).toBe(0)
    expect([...order.values()].flat()).toHaveLength(groups * perGroup)
    for (const ids of order.values()) expect(ids).toEqual([...ids].sort((a, b) => a - b))
    const left = await db.store.listJobs({ filter: { states: ['available'] }, limit: 10 })
    expect(left).toEqual([])
  })

  it('jobs set aside behind their group are always released while producers, claimers and retries race (no rescue pass)', async () => {
    const groups = 5
    let produced = 0
    let producing = 2
    const producers = [0, 1].map(async (p) => {
      for (let batch = 0; batch < 15; batch++) {
        await stores[p]!.insertJobs({
          jobs: Array.from({ length: 6 }, (_, i) =>
            newJob({ groupKey: `g${(batch + i) % groups}`, payload: { p, batch, i } }),
          ),
          now: T0,
        })
        produced += 6
        await new Promise((resolve) => setImmediate(resolve))
      }
      producing--
    })
    const succeeded = new Map<string, number>()
    let violations = 0
    let lastProgress = performance.now()
    const workers = stores.slice(2).map(async (store, w) => {
      for (;;) {
        const claimed = await store.claimJobs(claim({ capacity: 3, workerId: `w${w}` }))
        if (claimed.length === 0) {
          const left = await db.pool.query<{ n: string; behind: string; running: string }>(
            `SELECT count(*) AS n, count(*) FILTER (WHERE group_behind) AS behind,
               count(*) FILTER (WHERE state = 'running') AS running FROM ${db.table('jobs')}`,
          )
          const { n, behind, running } = left.rows[0]!
          if (producing === 0 && n === '0') return
          // Every job enqueued, some left, none running and none taken for a while: a job set aside
          // that nothing released.
          if (producing === 0 && n !== '0' && running === '0' && performance.now() - lastProgress > 5000)
            throw new Error(`stalled with ${n} jobs left, ${behind} of them set aside`)
          await new Promise((resolve) => setImmediate(resolve))
          continue
        }
        lastProgress = performance.now()
        const running = await db.pool.query(
          `SELECT group_key FROM ${db.table('jobs')} WHERE state = 'running' AND group_key IS NOT NULL GROUP BY group_key HAVING count(*) > 1`,
        )
        violations += running.rowCount ?? 0
        await store.completeJobs({
          completions: claimed.map((j) =>
            j.attempt === 1 && Number(j.id) % 4 === 0
              ? {
                  id: j.id,
                  outcome: 'retry' as const,
                  runAt: T0,
                  error: { attempt: 1, at: T0, name: 'E', message: 'again' },
                }
              : { id: j.id, outcome: 'succeeded' as const },
          ),
          now: T0,
        })
        for (const j of claimed)
          if (!(j.attempt === 1 && Number(j.id) % 4 === 0))
            succeeded.set(j.id, (succeeded.get(j.id) ?? 0) + 1)
      }
    })
    await Promise.all([...producers, ...workers])
    expect(violations).toBe(0)
    expect(succeeded.size).toBe(produced)
    expect([...succeeded.values()].every((n) => n === 1)).toBe(true)
  })

  it('skips a group while another transaction holds its claim lock', async () => {
    const [grouped, plain] = await insert(db.store, [{ groupKey: 'locked' }, {}])
    const holder = await db.pool.connect()
    try {
      await holder.query('BEGIN')
      await holder.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [
        sqlNames(db.schema).groupLockSpace,
        'locked',
      ])
      expect((await db.store.claimJobs(claim())).map((j) => j.id)).toEqual([plain])
      await holder.query('COMMIT')
      expect((await db.store.claimJobs(claim())).map((j) => j.id)).toEqual([grouped])
    } finally {
      holder.release()
    }
  })

  it('keeps one job per group running when a smaller id commits late', async () => {
    const late = await db.pool.connect()
    try {
      await late.query('BEGIN')
      const [early] = await db.store.insertJobs({ jobs: [newJob({ groupKey: 'g' })], now: T0, tx: late })
      const [later] = await insert(db.store, [{ groupKey: 'g' }])
      expect(Number(early!.job.id)).toBeLessThan(Number(later))
      expect((await db.store.claimJobs(claim())).map((j) => j.id)).toEqual([later])
      await late.query('COMMIT')
      expect(await db.store.claimJobs(claim())).toEqual([])
      await db.store.completeJobs({ completions: [{ id: later!, outcome: 'succeeded' }], now: T0 })
      expect((await db.store.claimJobs(claim())).map((j) => j.id)).toEqual([early!.job.id])
    } finally {
      late.release()
    }
  })

  it('checks a group with a fresh snapshot, seeing a claim committed after the claiming statement began', async () => {
    const [waiting] = await insert(db.store, [{ groupKey: 'g' }])
    const names = sqlNames(db.schema)
    const other = await db.pool.connect()
    const claimer = await db.pool.connect()
    try {
      // Another "claimer" has marked a job of the group running but not committed yet, and holds a gate.
      await other.query('BEGIN')
      await other.query('SELECT pg_advisory_xact_lock(4242)')
      await other.query(
        `INSERT INTO ${db.table('jobs')} (kind, queue, state, payload, run_at, created_at, max_attempts, attempt, group_key)
         VALUES ('test', 'default', 'running', '{}', now(), now(), 3, 1, 'g')`,
      )
      // This statement takes its snapshot now, then waits at the gate until the other one commits.
      const checked = claimer.query(
        `SELECT ${names.claimGroupTurn}($1::int, 'g', $2::bigint) AS fresh,
           NOT EXISTS (SELECT 1 FROM ${db.table('jobs')} WHERE group_key = 'g' AND state = 'running') AS stale
         FROM (SELECT pg_advisory_xact_lock(4242)) AS gate`,
        [names.groupLockSpace, waiting],
      )
      await waitFor(async () => {
        const r = await db.pool.query(
          `SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`,
          [(claimer as unknown as { processID: number }).processID],
        )
        return r.rowCount === 1
      })
      await other.query('COMMIT')
      const { rows } = await checked
      expect(rows).toEqual([{ fresh: false, stale: true }])
    } finally {
      other.release()
      claimer.release()
    }
  })

  it('release mode: never runs two jobs of one group at once across concurrent claimers, while failed jobs retry', async () => {
    const groups = 6
    const perGroup = 12
    const jobs = Array.from({ length: groups * perGroup }, (_, i) =>
      newJob({ groupKey: `r${i % groups}`, groupMode: 'release', priority: (i * 7) % 5 }),
    )
    await db.store.insertJobs({ jobs, now: T0 })
    let violations = 0
    let done = false
    const monitor = (async () => {
      while (!done) {
        const r = await db.pool.query(
          `SELECT group_key FROM ${db.table('jobs')} WHERE state = 'running' AND group_key IS NOT NULL GROUP BY group_key HAVING count(*) > 1`,
        )
        violations += r.rowCount ?? 0
      }
    })()
    const waiting = async () =>
      (await db.store.listJobs({ filter: { states: ['available', 'retryable', 'running'] }, limit: 1 }))
        .length > 0
    let retried = 0
    await Promise.all(
      stores.map(async (store, w) => {
        for (;;) {
          const claimed = await store.claimJobs(claim({ capacity: 3, workerId: `w${w}` }))
          if (claimed.length === 0) {
            if (!(await waiting())) return
            await new Promise((resolve) => setImmediate(resolve))
            continue
          }
          // Every third job fails its first attempt and is due again at once: in release mode it
          // competes with the rest of its group instead of holding it.
          const completions = claimed.map((j) =>
            j.attempt === 1 && Number(j.id) % 3 === 0
              ? {
                  id: j.id,
                  outcome: 'retry' as const,
                  runAt: T0,
                  error: { attempt: 1, at: T0, name: 'Error', message: 'retry me' },
                }
              : { id: j.id, outcome: 'succeeded' as const },
          )
          retried += completions.filter((c) => c.outcome === 'retry').length
          await store.completeJobs({ completions, now: T0 })
        }
      }),
    )
    done = true
    await monitor
    expect(violations).toBe(0)
    expect(retried).toBe(jobs.filter((_, i) => (i + 1) % 3 === 0).length)
    const ended = await db.store.listJobs({ filter: { states: ['succeeded'] }, limit: 1000 })
    expect(ended).toHaveLength(groups * perGroup)
  })

  it('release mode: a job running in another, just committed claim still holds the group (fresh snapshot); one past its lock timeout does not', async () => {
    const [waiting] = await insert(db.store, [{ groupKey: 'g', groupMode: 'release' }])
    const names = sqlNames(db.schema)
    for (const [lockTimeout, fresh] of [
      [null, false],
      [1, true],
    ] as const) {
      await db.pool.query(`DELETE FROM ${db.table('jobs')} WHERE state = 'running'`)
      const other = await db.pool.connect()
      const claimer = await db.pool.connect()
      try {
        await other.query('BEGIN')
        await other.query('SELECT pg_advisory_xact_lock(4243)')
        await other.query(
          `INSERT INTO ${db.table('jobs')} (kind, queue, state, payload, run_at, created_at, max_attempts, attempt, group_key, attempted_at, group_lock_timeout_ms)
           VALUES ('test', 'default', 'running', '{}', now(), now(), 3, 1, 'g', now() - interval '1 second', $1::int)`,
          [lockTimeout],
        )
        const checked = claimer.query(
          `SELECT ${names.claimGroupTurn}($1::int, 'g', $2::bigint, true, now()) AS fresh
           FROM (SELECT pg_advisory_xact_lock(4243)) AS gate`,
          [names.groupLockSpace, waiting],
        )
        await waitFor(async () => {
          const r = await db.pool.query(
            `SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'`,
            [(claimer as unknown as { processID: number }).processID],
          )
          return r.rowCount === 1
        })
        await other.query('COMMIT')
        const { rows } = await checked
        expect(rows).toEqual([{ fresh }])
      } finally {
        other.release()
        claimer.release()
      }
    }
  })
})
