/**
 * Migration 009 (finished jobs move to `job_history`) applied to a populated 008 schema while
 * workers of the previous version keep claiming and completing with 008-era SQL, and while another
 * process of the new version waits on the migration lock. The migration is held mid-way (a row lock
 * on one finished job makes its move wait) until the old workers have completed more jobs, so they
 * provably run during it. Afterwards every job is present exactly once, in the right table and state,
 * none lost, none run twice; the finished rows the old workers left in `jobs` are swept by the new
 * code's maintenance.
 */
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { loadMigrations, migrate } from '../../src/adapters/postgres/migrate.js'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { createTestSchema } from '../support/database.js'
import { waitFor } from '../support/wait.js'
import { databaseUrl, describePostgres } from './fixture.js'

const FINISHED = 3000
const WORK = 1500

describePostgres('migration 009 under load', () => {
  let pool: pg.Pool
  let testSchema: ReturnType<typeof createTestSchema>

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: databaseUrl(), max: 8 })
    testSchema = createTestSchema(databaseUrl(), 'conveyor_migrate_history')
  })
  afterAll(async () => {
    await testSchema.drop()
    await pool.end()
  })

  /**
   * A process of the previous version: enqueues 20 `work` jobs per turn while `producing()` (008's
   * insert), claims up to 20 with 008's claim shape and completes them with 008's completion (the row
   * stays in `jobs`, succeeded), until `done()`.
   */
  async function oldWorker(
    jobs: string,
    claimed: string[],
    inserted: string[],
    producing: () => boolean,
    done: () => boolean,
  ): Promise<void> {
    const client = new pg.Client({ connectionString: databaseUrl() })
    await client.connect()
    try {
      while (!done()) {
        if (producing()) {
          const added = await client.query<{ id: string }>(
            `INSERT INTO ${jobs} (kind, queue, state, payload, run_at, created_at, max_attempts)
             SELECT 'work', 'default', 'available', '{}', now(), now(), 3 FROM generate_series(1, 20)
             RETURNING id::text AS id`,
          )
          inserted.push(...added.rows.map((r) => r.id))
        }
        const { rows } = await client.query<{ id: string }>(
          `UPDATE ${jobs} j SET state = 'running', attempt = j.attempt + 1, runs = j.runs + 1, attempted_at = now(), attempted_by = 'old:w'
           WHERE j.id = ANY(ARRAY(
             SELECT c.id FROM ${jobs} c WHERE c.state IN ('scheduled', 'available', 'retryable') AND c.kind = 'work'
               AND c.run_at <= now() ORDER BY c.priority, c.run_at, c.id LIMIT 20 FOR UPDATE SKIP LOCKED))
           RETURNING j.id::text AS id`,
        )
        if (rows.length === 0) {
          await new Promise((resolve) => setImmediate(resolve))
          continue
        }
        claimed.push(...rows.map((r) => r.id))
        await client.query(
          `UPDATE ${jobs} j SET state = 'succeeded', finished_at = now()
           WHERE j.id = ANY($1::bigint[]) AND j.state = 'running'`,
          [rows.map((r) => r.id)],
        )
      }
    } finally {
      await client.end()
    }
  }

  it('moves every finished job once while old workers complete jobs and a new process waits', async () => {
    const names = sqlNames(testSchema.schema)
    const all = await loadMigrations()
    await migrate(
      pool,
      names,
      all.filter((m) => m.version <= 8),
    )
    const jobs = names.jobs
    // Finished jobs over the last 40 days (older than the migration's daily partitions too), and
    // every unfinished state.
    await pool.query(
      `INSERT INTO ${jobs} (kind, queue, state, payload, run_at, created_at, attempt, max_attempts, finished_at)
       SELECT 'old', 'default', (ARRAY['succeeded', 'failed', 'cancelled'])[g % 3 + 1], jsonb_build_object('g', g),
         now() - interval '41 days', now() - interval '41 days', 1, 3, now() - (g % 40) * interval '1 day' - interval '1 minute'
       FROM generate_series(1, ${FINISHED}) g`,
    )
    await pool.query(
      `INSERT INTO ${jobs} (kind, queue, state, payload, run_at, created_at, attempt, max_attempts, attempted_at, attempted_by)
       SELECT 'other', 'default', s, '{}', now() + CASE WHEN s = 'scheduled' THEN interval '1 day' ELSE interval '0' END,
         now(), CASE WHEN s IN ('running', 'retryable') THEN 1 ELSE 0 END, 3,
         CASE WHEN s = 'running' THEN now() END, CASE WHEN s = 'running' THEN 'live:w' END
       FROM unnest(ARRAY['available', 'scheduled', 'retryable', 'paused', 'running']) s, generate_series(1, 20)`,
    )
    await pool.query(
      `INSERT INTO ${jobs} (kind, queue, state, payload, run_at, created_at, max_attempts)
       SELECT 'work', 'default', 'available', '{}', now(), now(), 3 FROM generate_series(1, ${WORK})`,
    )
    const before = (
      await pool.query<{ id: string; state: string }>(`SELECT id::text AS id, state FROM ${jobs} ORDER BY id`)
    ).rows
    const workIds = new Set(
      (await pool.query<{ id: string }>(`SELECT id::text AS id FROM ${jobs} WHERE kind = 'work'`)).rows.map(
        (r) => r.id,
      ),
    )

    const inserted: string[] = []
    // Old workers run from here to the end of the test's load.
    let migrated = false
    const claimed: string[] = []
    const workLeft = async () =>
      Number(
        (
          await pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM ${jobs} WHERE kind = 'work' AND state IN ('available', 'running')`,
          )
        ).rows[0]?.n,
      )
    let stop = false
    const workers = [0, 1].map(() =>
      oldWorker(
        jobs,
        claimed,
        inserted,
        () => !migrated,
        () => stop,
      ),
    )
    await waitFor(() => claimed.length >= 100, { timeoutMs: 60_000, message: 'old workers to start' })

    // Hold the migration at its move: a transaction locks one finished row.
    const blocker = await pool.connect()
    await blocker.query('BEGIN')
    const [held] = (
      await blocker.query<{ id: string }>(
        `SELECT id::text AS id FROM ${jobs} WHERE kind = 'old' ORDER BY id LIMIT 1 FOR UPDATE`,
      )
    ).rows
    const migration = migrate(pool, names).then((r) => {
      migrated = true
      return r
    })
    const [blockerPid] = (await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows
    await waitFor(
      async () =>
        (
          await pool.query(
            `SELECT 1 FROM pg_stat_activity WHERE query LIKE '-- Conveyor 009%' AND $1::int = ANY(pg_blocking_pids(pid))`,
            [blockerPid?.pid],
          )
        ).rowCount === 1,
      { timeoutMs: 60_000, message: 'the migration to wait at its move' },
    )
    // A process of the new version starting now waits on the migration lock.
    const second = migrate(pool, names)
    const claimedDuring = claimed.length
    await waitFor(() => claimed.length >= claimedDuring + 200, {
      timeoutMs: 60_000,
      message: 'old workers to complete jobs while the migration is under way',
    })
    expect(migrated).toBe(false)
    await blocker.query('COMMIT')
    blocker.release()
    // 009 first, then any later migration of this code.
    expect((await migration).applied[0]).toBe('009_job_history')
    expect((await second).applied).toEqual([])

    // Old workers finish the work on the migrated schema; then the new code's maintenance sweeps.
    await waitFor(async () => (await workLeft()) === 0, { timeoutMs: 120_000, message: 'the work to drain' })
    stop = true
    await Promise.all(workers)
    const leftInJobs = async () =>
      Number(
        (await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${jobs} WHERE finished_at IS NOT NULL`))
          .rows[0]?.n,
      )
    expect(await leftInJobs()).toBeGreaterThan(0)
    const store = new PostgresStore({ pool, schema: testSchema.schema })
    try {
      // The process running the `running` jobs is alive: the rescue pass leaves them alone.
      await store.recordHeartbeat({ processId: 'live' })
      await waitFor(
        async () => {
          await store.rescueJobs({ staleAfterMs: 3600_000, limit: 500 })
          return (await leftInJobs()) === 0
        },
        { timeoutMs: 60_000, message: 'the sweep to move every finished row' },
      )
      expect(await store.getJob({ id: held!.id })).toMatchObject({ kind: 'old' })
    } finally {
      await store.close()
    }

    // Every job exactly once, in the right table and state; each work job ran once.
    const after = (
      await pool.query<{ id: string; state: string; attempt: number; place: string }>(
        `SELECT id::text AS id, state, attempt, 'jobs' AS place FROM ${jobs}
         UNION ALL SELECT id::text, state, attempt, 'history' FROM ${names.history}`,
      )
    ).rows.sort((a, b) => Number(a.id) - Number(b.id))
    for (const id of inserted) workIds.add(id)
    const expected = [...before.map((r) => r.id), ...inserted].sort((a, b) => Number(a) - Number(b))
    expect(after.map((r) => r.id)).toEqual(expected)
    const final = new Set(['succeeded', 'failed', 'cancelled'])
    for (const row of after)
      expect(row.place, `job ${row.id} (${row.state})`).toBe(final.has(row.state) ? 'history' : 'jobs')
    const stateBefore = new Map(before.map((r) => [r.id, r.state]))
    for (const row of after) {
      if (workIds.has(row.id))
        expect([row.state, row.attempt], `work job ${row.id}`).toEqual(['succeeded', 1])
      else expect(row.state, `job ${row.id}`).toBe(stateBefore.get(row.id))
    }
    expect(claimed.length).toBe(workIds.size)
    expect(new Set(claimed).size).toBe(workIds.size)
    // The old rows spread over 40 days landed in day partitions and the partition before them.
    const partitions = (
      await pool.query<{ p: string; n: number }>(
        `SELECT tableoid::regclass::text AS p, count(*)::int AS n FROM ${names.history} WHERE kind = 'old' GROUP BY 1`,
      )
    ).rows
    expect(partitions.some((r) => r.p.includes('job_history_before_'))).toBe(true)
    expect(partitions.filter((r) => /job_history_\d{8}/.test(r.p)).length).toBeGreaterThanOrEqual(30)
  }, 300_000)
})
