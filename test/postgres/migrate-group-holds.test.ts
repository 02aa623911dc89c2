/**
 * Migration 013 (jobs set aside behind their group) applied to a populated 012 schema while a worker
 * of the previous version claims and completes with 012's statements: its claims know nothing of
 * `group_behind` and its completions release nothing. New workers start once the schema is migrated
 * and set jobs aside; the old worker completes group jobs after that, so jobs set aside behind them
 * are released by the new code's rescue pass (the sweep), never lost. Afterwards every job ran once,
 * each group in id order, and the claim index leaves jobs set aside out.
 */
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { loadMigrations, migrate } from '../../src/adapters/postgres/migrate.js'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { type SqlNames, sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { createTestSchema } from '../support/database.js'
import { JOB_COLUMNS_012 } from '../support/job-columns-012.js'
import { waitFor } from '../support/wait.js'
import { claim, databaseUrl, describePostgres } from './fixture.js'

/** Groups `g1` to `g3`, each with as many jobs as there are without a group. */
const GROUPS = 3
const PER_GROUP = 150

/** The job tables' columns, as the previous version's code lists them. */
const COLUMNS_012 = JOB_COLUMNS_012

describePostgres('migration 013 under load', () => {
  let pool: pg.Pool
  let testSchema: ReturnType<typeof createTestSchema>

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: databaseUrl(), max: 8 })
    testSchema = createTestSchema(databaseUrl(), 'conveyor_migrate_013')
  })
  afterAll(async () => {
    await testSchema.drop()
    await pool.end()
  })

  /**
   * A worker of the previous version: claims up to 5 `work` jobs with 012's group checks (the
   * stale-snapshot pre-check, then `claim_group_turn`) and completes them as 012's code does (the row
   * moves to history, succeeded, and nothing is released), logging each completion, until `done()`.
   */
  async function oldWorker(names: SqlNames, completed: string[], done: () => boolean): Promise<void> {
    const client = new pg.Client({ connectionString: databaseUrl() })
    await client.connect()
    try {
      while (!done()) {
        const { rows } = await client.query<{ id: string }>({
          name: 'claim',
          text: `UPDATE ${names.jobs} j SET state = 'running', attempt = j.attempt + 1, runs = j.runs + 1, attempted_at = now(), attempted_by = 'old:w'
            WHERE j.id = ANY(ARRAY(
              SELECT c.id FROM ${names.jobs} c
              WHERE c.queue = 'default' AND c.state IN ('scheduled', 'available', 'retryable') AND c.kind = 'work'
                AND c.run_at <= now()
                AND (c.group_key IS NULL OR (
                  NOT EXISTS (SELECT 1 FROM ${names.jobs} g WHERE g.group_key = c.group_key AND g.state = 'running')
                  AND NOT EXISTS (SELECT 1 FROM ${names.jobs} g WHERE g.group_key = c.group_key
                    AND g.state IN ('scheduled', 'available', 'retryable') AND g.id < c.id)
                  AND ${names.claimGroupTurn}($1::int, c.group_key, c.id, false, now(), '')))
              ORDER BY c.priority, c.run_at, c.id LIMIT 5 FOR UPDATE SKIP LOCKED))
            RETURNING j.id::text AS id`,
          values: [names.groupLockSpace],
        })
        if (rows.length === 0) {
          await new Promise((resolve) => setImmediate(resolve))
          continue
        }
        const columns = COLUMNS_012.map((c) =>
          c === 'state' ? `'succeeded' AS state` : c === 'finished_at' ? 'now() AS finished_at' : `j.${c}`,
        ).join(', ')
        await client.query({
          name: 'complete',
          text: `WITH done AS (
              DELETE FROM ${names.jobs} j WHERE j.id = ANY($1::bigint[]) AND j.state = 'running' RETURNING ${columns}
            ) INSERT INTO ${names.history} (${COLUMNS_012.join(', ')}) SELECT ${COLUMNS_012.join(', ')} FROM done`,
          values: [rows.map((r) => r.id)],
        })
        completed.push(...rows.map((r) => r.id))
      }
    } finally {
      await client.end()
    }
  }

  it('runs every job once, each group in order, while a worker of 012 runs through the migration', async () => {
    const names = sqlNames(testSchema.schema)
    await migrate(
      pool,
      names,
      (await loadMigrations()).filter((m) => m.version <= 12),
    )
    // Each group's jobs interleaved with the others' and with ungrouped ones, in claim order.
    await pool.query(
      `INSERT INTO ${names.jobs} (kind, queue, state, payload, run_at, created_at, max_attempts, group_key)
       SELECT 'work', 'default', 'available', '{}', now() - interval '1 hour', now(), 3,
         CASE WHEN i % ${GROUPS + 1} = 0 THEN NULL ELSE 'g' || (i % ${GROUPS + 1}) END
       FROM generate_series(1, ${(GROUPS + 1) * PER_GROUP}) i`,
    )
    const all = (
      await pool.query<{ id: string; group_key: string | null }>(
        `SELECT id::text AS id, group_key FROM ${names.jobs}`,
      )
    ).rows
    const completed: string[] = []
    const oldCompleted: string[] = []
    let stopOld = false
    const old = oldWorker(names, oldCompleted, () => stopOld)

    const store = new PostgresStore({ pool, schema: names.schema })
    let stopNew = false
    const newWorker = async () => {
      while (!stopNew) {
        const jobs = await store.claimJobs(
          claim({ kinds: ['work'], capacity: 5, now: undefined, workerId: 'new:w' }),
        )
        if (jobs.length === 0) {
          // The maintenance loop's rescue pass, which releases jobs set aside behind old completions
          // (both workers' processes are alive: none of their jobs is rescued).
          for (const processId of ['old', 'new']) await store.recordHeartbeat({ processId })
          await store.rescueJobs({ staleAfterMs: 60_000, limit: 100 })
          await new Promise((resolve) => setImmediate(resolve))
          continue
        }
        await store.completeJobs({
          completions: jobs.map((j) => ({ id: j.id, outcome: 'succeeded' as const })),
        })
        completed.push(...jobs.map((j) => j.id))
      }
    }
    let news: Promise<void>[] = []
    try {
      await waitFor(() => oldCompleted.length >= 50, {
        timeoutMs: 60_000,
        message: 'the old worker to start',
      })
      expect((await migrate(pool, names)).applied).toEqual(
        (await loadMigrations()).filter((m) => m.version >= 13).map((m) => m.name),
      )
      news = [newWorker(), newWorker()]
      // The new workers set jobs aside; the old one completes jobs of their groups after that.
      await waitFor(
        async () =>
          Number(
            (await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${names.jobs} WHERE group_behind`))
              .rows[0]!.n,
          ) > 0,
        { timeoutMs: 60_000, message: 'new claims to set jobs aside' },
      )
      const oldBefore = oldCompleted.length
      await waitFor(() => oldCompleted.length >= oldBefore + 30, {
        timeoutMs: 60_000,
        message: 'the old worker to complete more jobs beside the new ones',
      })
      stopOld = true
      await old
      await waitFor(
        async () =>
          Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${names.jobs}`)).rows[0]!.n) ===
          0,
        { timeoutMs: 120_000, message: 'every job to run' },
      )
    } finally {
      stopOld = true
      stopNew = true
      await old
      await Promise.all(news)
      await store.close()
    }

    // Every job once, succeeded on its first attempt, in history.
    const history = (
      await pool.query<{ id: string; state: string; attempt: number }>(
        `SELECT id::text AS id, state, attempt FROM ${names.history}`,
      )
    ).rows
    expect(history.map((r) => r.id).sort()).toEqual(all.map((r) => r.id).sort())
    expect(history.every((r) => r.state === 'succeeded' && r.attempt === 1)).toBe(true)
    expect([...oldCompleted, ...completed].sort()).toEqual(all.map((r) => r.id).sort())
    // Each group in id order: a group's next job is claimed only once the one before has completed,
    // so the claim times (the database's clock) order each group's runs.
    for (let g = 1; g <= GROUPS; g++) {
      const { rows: runs } = await pool.query<{ id: string }>(
        `SELECT id::text AS id FROM ${names.history} WHERE group_key = $1::text ORDER BY attempted_at, id`,
        [`g${g}`],
      )
      const order = runs.map((r) => Number(r.id))
      expect(order.length).toBe(PER_GROUP)
      expect(order).toEqual(order.toSorted((a, b) => a - b))
    }
    const { rows } = await pool.query<{ definition: string }>(
      `SELECT indexdef AS definition FROM pg_indexes WHERE schemaname = $1::text AND indexname = 'jobs_claim_priority_idx'`,
      [names.schema],
    )
    expect(rows[0]?.definition).toContain('(NOT group_behind)')
  }, 300_000)
})
