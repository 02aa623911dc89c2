/**
 * Migration 011 (the `time` strategy's index only where it is used) applied to two populated 010 schemas while a
 * process of the previous version keeps enqueueing, claiming and completing in each with 010-era SQL
 * (prepared statements, so their cached plans outlive the dropped indexes): in schema `used` its
 * workers claim in `time` order, so `jobs_claim_time_idx` has been scanned and stays; in schema
 * `unused` they claim in `priority` order, and the never-scanned time index goes. The migration of
 * `unused` is held at its table lock until the old process waits behind it. Afterwards every job is
 * present exactly once, none lost, none run twice, and each schema has the indexes it should.
 */
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { loadMigrations, migrate } from '../../src/adapters/postgres/migrate.js'
import { type SqlNames, sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { createTestSchema, dropDatabase } from '../support/database.js'
import { JOB_COLUMNS_012 } from '../support/job-columns-012.js'
import { waitFor } from '../support/wait.js'
import { databaseUrl, describePostgres } from './fixture.js'

const WORK = 1500

type Strategy = 'priority' | 'time'

/** Migrations 011 and 012: what these tests apply to a 010 schema (013 has its own test). */
const through012 = async () => (await loadMigrations()).filter((m) => m.version <= 12)

/** The names of migrations 011 and 012. */
const from011 = async () => (await through012()).filter((m) => m.version >= 11).map((m) => m.name)

/** The job tables' columns, as the previous version's code lists them. */
const COLUMNS_010 = JOB_COLUMNS_012

/** The jobs of both tables, each id once per row found. */
async function everyRow(
  pool: pg.Pool,
  names: SqlNames,
): Promise<{ id: string; state: string; attempt: number; place: string }[]> {
  return (
    await pool.query<{ id: string; state: string; attempt: number; place: string }>(
      `SELECT id::text AS id, state, attempt, 'jobs' AS place FROM ${names.jobs}
       UNION ALL SELECT id::text, state, attempt, 'history' FROM ${names.history}`,
    )
  ).rows.sort((a, b) => Number(a.id) - Number(b.id))
}

/** The schema's indexes on `jobs`: name to definition. */
async function jobIndexes(pool: pg.Pool, schema: string): Promise<Map<string, string>> {
  const { rows } = await pool.query<{ name: string; definition: string }>(
    `SELECT indexname AS name, indexdef AS definition FROM pg_indexes WHERE schemaname = $1::text AND tablename = 'jobs'`,
    [schema],
  )
  return new Map(rows.map((r) => [r.name, r.definition]))
}

const scans = async (pool: pg.Pool, names: SqlNames) =>
  Number(
    (
      await pool.query<{ n: string | null }>(
        `SELECT pg_stat_get_numscans(to_regclass($1::text))::text AS n`,
        [`${names.quotedSchema}.jobs_claim_time_idx`],
      )
    ).rows[0]?.n ?? -1,
  )

/** Whether migration 011's session waits for a lock the session `pid` holds. */
const migrationWaitsFor = async (pool: pg.Pool, pid: number | undefined) =>
  (
    await pool.query(
      `SELECT 1 FROM pg_stat_activity WHERE query LIKE '-- Conveyor 011%' AND $1::int = ANY(pg_blocking_pids(pid))`,
      [pid],
    )
  ).rowCount === 1

describePostgres('migration 011 under load', () => {
  let pool: pg.Pool
  const schemas: ReturnType<typeof createTestSchema>[] = []

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: databaseUrl(), max: 8 })
    for (const name of ['used', 'unused', 'lock', 'held'])
      schemas.push(createTestSchema(databaseUrl(), `conveyor_migrate_011_${name}`))
  })
  afterAll(async () => {
    for (const s of schemas) await s.drop()
    await pool.end()
  })

  /**
   * A process of the previous version on one schema: while `producing()`, enqueues 20 `work` jobs
   * per turn; claims up to 20 in `strategy` order and completes them as 010's code does (the row
   * moves to `job_history`, succeeded), until `done()`. Its statements are prepared once.
   */
  async function oldWorker(
    names: SqlNames,
    strategy: Strategy,
    log: { claimed: string[]; inserted: string[] },
    producing: () => boolean,
    done: () => boolean,
  ): Promise<void> {
    const client = new pg.Client({ connectionString: databaseUrl() })
    await client.connect()
    const order = strategy === 'time' ? 'c.run_at, c.id' : 'c.priority, c.run_at, c.id'
    try {
      while (!done()) {
        if (producing()) {
          const added = await client.query<{ id: string }>({
            name: 'insert',
            text: `INSERT INTO ${names.jobs} (kind, queue, state, payload, run_at, created_at, max_attempts)
              SELECT 'work', 'default', 'available', '{}', now(), now(), 3 FROM generate_series(1, 20)
              RETURNING id::text AS id`,
          })
          log.inserted.push(...added.rows.map((r) => r.id))
        }
        const { rows } = await client.query<{ id: string }>({
          name: 'claim',
          text: `UPDATE ${names.jobs} j SET state = 'running', attempt = j.attempt + 1, attempted_at = now(), attempted_by = 'old:w'
            WHERE j.id = ANY(ARRAY(
              SELECT c.id FROM ${names.jobs} c
              WHERE c.queue = 'default' AND c.state IN ('scheduled', 'available', 'retryable') AND c.kind = ANY($1::text[])
                AND c.run_at <= now()
              ORDER BY ${order} LIMIT 20 FOR UPDATE SKIP LOCKED))
            RETURNING j.id::text AS id`,
          values: [['work']],
        })
        if (rows.length === 0) {
          await new Promise((resolve) => setImmediate(resolve))
          continue
        }
        log.claimed.push(...rows.map((r) => r.id))
        await client.query({
          name: 'complete',
          text: `WITH done AS (
              DELETE FROM ${names.jobs} j WHERE j.id = ANY($1::bigint[]) AND j.state = 'running'
              RETURNING ${COLUMNS_010.map((c) => (c === 'state' ? `'succeeded' AS state` : c === 'finished_at' ? 'now() AS finished_at' : `j.${c}`)).join(', ')}
            ) INSERT INTO ${names.history} (${COLUMNS_010.join(', ')}) SELECT ${COLUMNS_010.join(', ')} FROM done`,
          values: [rows.map((r) => r.id)],
        })
      }
    } finally {
      await client.end()
    }
  }

  it('keeps every job once while old workers run, and leaves each schema the indexes it should have', async () => {
    const all = await loadMigrations()
    const before010 = all.filter((m) => m.version <= 10)
    const setups = schemas.slice(0, 2).map((s, i) => {
      const names = sqlNames(s.schema)
      const strategy: Strategy = i === 0 ? 'time' : 'priority'
      return { names, strategy, log: { claimed: [] as string[], inserted: [] as string[] }, migrated: false }
    })
    for (const s of setups) {
      await migrate(pool, s.names, before010)
      const jobs = s.names.jobs
      // Waiting jobs of several kinds, queues and states, running and paused ones, and the work.
      await pool.query(
        `INSERT INTO ${jobs} (kind, queue, state, payload, run_at, created_at, attempt, max_attempts, attempted_at, attempted_by)
         SELECT k, q, st, '{}', now() + CASE WHEN st = 'scheduled' THEN interval '1 day' ELSE interval '0' END, now(),
           CASE WHEN st IN ('running', 'retryable') THEN 1 ELSE 0 END, 3,
           CASE WHEN st = 'running' THEN now() END, CASE WHEN st = 'running' THEN 'live:w' END
         FROM unnest(ARRAY['mail', 'report', 'resize']) k, unnest(ARRAY['default', 'other']) q,
           unnest(ARRAY['available', 'scheduled', 'retryable', 'paused', 'running']) st, generate_series(1, 10)`,
      )
      await pool.query(
        `INSERT INTO ${jobs} (kind, queue, state, payload, run_at, created_at, max_attempts)
         SELECT 'work', 'default', 'available', '{}', now(), now(), 3 FROM generate_series(1, ${WORK})`,
      )
    }
    const before = await Promise.all(setups.map((s) => everyRow(pool, s.names)))
    const workIds = await Promise.all(
      setups.map(
        async (s) =>
          new Set(
            (
              await pool.query<{ id: string }>(
                `SELECT id::text AS id FROM ${s.names.jobs} WHERE kind = 'work'`,
              )
            ).rows.map((r) => r.id),
          ),
      ),
    )

    let stop = false
    const workers = setups.map((s) =>
      oldWorker(
        s.names,
        s.strategy,
        s.log,
        () => !s.migrated,
        () => stop,
      ),
    )
    try {
      await waitFor(() => setups.every((s) => s.log.claimed.length >= 100), {
        timeoutMs: 60_000,
        message: 'old workers to start',
      })
      const [used, unused] = setups as [(typeof setups)[0], (typeof setups)[0]]
      // The statistics reach other sessions shortly after a transaction ends.
      await waitFor(async () => (await scans(pool, used.names)) > 0, {
        timeoutMs: 30_000,
        message: "the time workers' scans of jobs_claim_time_idx to show in the statistics",
      })
      expect(await scans(pool, unused.names)).toBe(0)

      // `unused`: the drop of its time index waits at the table lock behind a reader, the old process
      // behind it.
      const blocker = await pool.connect()
      await blocker.query('BEGIN')
      await blocker.query(`SELECT 1 FROM ${unused.names.jobs} LIMIT 1`)
      const [blockerPid] = (await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows
      const migration = migrate(pool, unused.names, await through012()).then((r) => {
        unused.migrated = true
        return r
      })
      await waitFor(() => migrationWaitsFor(pool, blockerPid?.pid), {
        timeoutMs: 60_000,
        message: 'the migration to wait for its lock',
      })
      await waitFor(
        async () =>
          (
            await pool.query(
              `SELECT 1 FROM pg_stat_activity WHERE query NOT LIKE '-- Conveyor%' AND query LIKE $1::text AND wait_event_type = 'Lock'`,
              [`%${unused.names.jobs}%`],
            )
          ).rowCount! >= 1,
        { timeoutMs: 60_000, message: 'the old process to wait behind the migration' },
      )
      await blocker.query('COMMIT')
      blocker.release()
      expect((await migration).applied).toEqual(await from011())
      // `used`: migrated while its old process runs (its time index stays: nothing to lock).
      expect((await migrate(pool, used.names, await through012())).applied).toEqual(await from011())
      used.migrated = true

      // The old processes go on with their prepared statements on the migrated schemas.
      const claimedAt = setups.map((s) => s.log.claimed.length)
      await waitFor(() => setups.every((s, i) => s.log.claimed.length >= claimedAt[i]! + 100), {
        timeoutMs: 60_000,
        message: 'old workers to claim and complete on the migrated schemas',
      })
      for (const s of setups)
        await waitFor(
          async () =>
            Number(
              (
                await pool.query<{ n: string }>(
                  `SELECT count(*) AS n FROM ${s.names.jobs} WHERE kind = 'work' AND state IN ('available', 'running')`,
                )
              ).rows[0]?.n,
            ) === 0,
          { timeoutMs: 120_000, message: 'the work to drain' },
        )
    } finally {
      stop = true
      await Promise.all(workers)
    }

    for (const [i, s] of setups.entries()) {
      // Every job exactly once; each work job ran once and succeeded; the others are untouched.
      const after = await everyRow(pool, s.names)
      const work = workIds[i]!
      for (const id of s.log.inserted) work.add(id)
      const expected = [...before[i]!.map((r) => r.id), ...s.log.inserted].sort(
        (a, b) => Number(a) - Number(b),
      )
      expect(
        after.map((r) => r.id),
        s.strategy,
      ).toEqual(expected)
      const stateBefore = new Map(before[i]!.map((r) => [r.id, r.state]))
      for (const row of after) {
        if (work.has(row.id))
          expect([row.state, row.attempt, row.place], `work job ${row.id}`).toEqual([
            'succeeded',
            1,
            'history',
          ])
        else expect([row.state, row.place], `job ${row.id}`).toEqual([stateBefore.get(row.id), 'jobs'])
      }
      expect(s.log.claimed.length).toBe(work.size)
      expect(new Set(s.log.claimed).size).toBe(work.size)
    }

    // The indexes: the time index stays where it was scanned and goes where it never was; the
    // claim, kind and finished_at indexes are untouched.
    for (const s of setups) {
      const indexes = await jobIndexes(pool, s.names.schema)
      expect(indexes.get('jobs_claim_priority_idx'), s.strategy).toBe(
        `CREATE INDEX jobs_claim_priority_idx ON ${s.names.schema}.jobs USING btree (queue, priority, run_at, id) WHERE (state = ANY (ARRAY['scheduled'::text, 'available'::text, 'retryable'::text]))`,
      )
      expect(indexes.has('jobs_waiting_kind_idx'), s.strategy).toBe(true)
      expect(indexes.has('jobs_finished_at_idx'), s.strategy).toBe(true)
      expect(indexes.has('jobs_claim_time_idx'), s.strategy).toBe(s.strategy === 'time')
      const invalid = await pool.query(
        `SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1::text AND NOT i.indisvalid`,
        [s.names.schema],
      )
      expect(invalid.rowCount, s.strategy).toBe(0)
    }
  }, 300_000)

  // Counters of index scans start again at zero after pg_stat_reset (and a crash, a restore): an
  // unscanned time index is dropped only where the database's statistics are a week old, or where
  // `jobs` is empty (a new schema: a process that claims by time builds it again in a moment). In a
  // database of its own, as resetting statistics is database-wide.
  it('drops the time index of an empty schema even when scanned; keeps an unscanned one when the statistics were reset this week', async () => {
    const admin = new pg.Client({ connectionString: databaseUrl() })
    await admin.connect()
    const database = `conveyor_m011_${process.pid}_${Date.now()}`
    await admin.query(`CREATE DATABASE ${database}`)
    const url = new URL(databaseUrl())
    url.pathname = `/${database}`
    const other = new pg.Pool({ connectionString: url.toString(), max: 2 })
    try {
      const before010 = (await loadMigrations()).filter((m) => m.version <= 10)
      const empty = sqlNames('empty_scanned')
      const reset = sqlNames('populated_reset')
      for (const names of [empty, reset]) await migrate(other, names, before010)
      // A scan of the empty schema's time index, shown in the statistics.
      const client = await other.connect()
      try {
        await client.query('SET enable_seqscan = off')
        await client.query(
          `SELECT id FROM ${empty.jobs} WHERE queue = 'q' AND state IN ('scheduled', 'available', 'retryable') ORDER BY run_at, id LIMIT 1`,
        )
        await client.query('SELECT pg_stat_force_next_flush()')
      } finally {
        client.release()
      }
      await waitFor(async () => (await scans(other, empty)) > 0, {
        timeoutMs: 30_000,
        message: "the scan of the empty schema's time index to show in the statistics",
      })
      await other.query(
        `INSERT INTO ${reset.jobs} (kind, queue, state, payload, run_at, created_at, max_attempts)
         VALUES ('work', 'default', 'available', '{}', now(), now(), 3)`,
      )
      // Resetting one table's counters marks the database's statistics as reset now.
      await other.query(`SELECT pg_stat_reset_single_table_counters($1::text::regclass)`, [reset.jobs])
      for (const names of [empty, reset])
        expect((await migrate(other, names, await through012())).applied).toEqual(await from011())
      expect((await jobIndexes(other, 'empty_scanned')).has('jobs_claim_time_idx')).toBe(false)
      expect((await jobIndexes(other, 'populated_reset')).has('jobs_claim_time_idx')).toBe(true)
    } finally {
      await other.end()
      await dropDatabase(admin, database)
      await admin.end()
    }
  })

  // The drop needs ACCESS EXCLUSIVE on jobs, and every insert, claim and completion would queue
  // behind it while it waits: it waits at most 10 s, then keeps the index and the migration goes on.
  it('keeps the time index when a transaction holds jobs for longer than the drop may wait', async () => {
    const names = sqlNames(schemas[3]!.schema)
    await migrate(
      pool,
      names,
      (await loadMigrations()).filter((m) => m.version <= 10),
    )
    const reader = await pool.connect()
    try {
      await reader.query('BEGIN')
      await reader.query(`SELECT count(*) FROM ${names.jobs}`)
      // Applied while the reader still holds its lock (it commits only after): the drop gave up.
      expect((await migrate(pool, names, await through012())).applied).toEqual(await from011())
      await reader.query('COMMIT')
    } finally {
      reader.release()
    }
    expect((await jobIndexes(pool, names.schema)).has('jobs_claim_time_idx')).toBe(true)
  }, 60_000)

  // A claim reads (ROW SHARE) before it writes (ROW EXCLUSIVE). The migration's drop of the unused
  // time index needs ACCESS EXCLUSIVE, so it waits for the claim; the claim, which already holds a
  // lock on the table, goes on to write and commit, and then the migration runs. (The branch's first
  // version also rebuilt the claim index, and taking its SHARE lock before ACCESS EXCLUSIVE deadlocked
  // with such a claim.)
  it('waits for a claim that read jobs before the migration and writes after it began, without a deadlock', async () => {
    const names = sqlNames(schemas[2]!.schema)
    await migrate(
      pool,
      names,
      (await loadMigrations()).filter((m) => m.version <= 10),
    )
    await pool.query(
      `INSERT INTO ${names.jobs} (kind, queue, state, payload, run_at, created_at, max_attempts)
       SELECT 'work', 'default', 'available', '{}', now(), now(), 3 FROM generate_series(1, 10)`,
    )
    const claimer = await pool.connect()
    try {
      await claimer.query('BEGIN')
      const { rows } = await claimer.query<{ id: string }>(
        `SELECT id::text AS id FROM ${names.jobs} WHERE state = 'available' ORDER BY id LIMIT 5 FOR UPDATE SKIP LOCKED`,
      )
      const [pid] = (await claimer.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows
      const migration = migrate(pool, names, await through012())
      await waitFor(() => migrationWaitsFor(pool, pid?.pid), {
        timeoutMs: 30_000,
        message: 'the migration to wait for the claim',
      })
      await claimer.query(
        `UPDATE ${names.jobs} SET state = 'running', attempt = 1, attempted_at = now() WHERE id = ANY($1::bigint[])`,
        [rows.map((r) => r.id)],
      )
      await claimer.query('COMMIT')
      expect((await migration).applied).toEqual(await from011())
    } finally {
      claimer.release()
    }
    const states = await pool.query<{ state: string; n: number }>(
      `SELECT state, count(*)::int AS n FROM ${names.jobs} GROUP BY state ORDER BY state`,
    )
    expect(states.rows).toEqual([
      { state: 'available', n: 5 },
      { state: 'running', n: 5 },
    ])
  })
})
