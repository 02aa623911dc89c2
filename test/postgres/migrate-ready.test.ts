/**
 * Migration 011 (narrow `job_ready` and `job_running` tables beside the job rows) applied to a
 * populated 010 schema while workers of the previous version keep inserting, claiming and completing
 * with 010-era SQL (job rows only), and while another process of the new version waits on the
 * migration lock. The migration is held at its first lock on `processes` (a row lock) until the old
 * workers have claimed more jobs, so they provably run during it; they go on after it, beside a
 * process of the new version (heartbeats, rescue passes with the narrow-table repair, claims and
 * completions through the store). Then the new process pauses between passes, the old workers stop
 * (their last insert coming after the new process's last pass that saw them live, so that only the
 * pass after they went readies it), and the new process drains. Every job runs to success exactly
 * once (runs are recorded in a table), none is lost or left waiting, and the narrow tables agree with
 * the job rows.
 */
import pg from 'pg'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { copyRowsSql, rowWith } from '../../src/adapters/postgres/history-sql.js'
import { loadMigrations, migrate } from '../../src/adapters/postgres/migrate.js'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { type SqlNames, sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { createTestSchema } from '../support/database.js'
import { expectNarrowTablesConsistent, narrowTableMismatches } from '../support/narrow-tables.js'
import { nextTurn, waitFor } from '../support/wait.js'
import { databaseUrl, describePostgres } from './fixture.js'

/** Liveness of heartbeats: the old workers stay live through the held migration. */
const STALE_AFTER_MS = 60_000
const BATCH = 10

/** One recorded run of a job: who ran which attempt, and how it ended. */
interface Run {
  readonly id: string
  readonly attempt: number
  readonly by: string
  readonly outcome: 'succeeded' | 'retry'
}

describePostgres('migration 011 under load', () => {
  let pool: pg.Pool
  let testSchema: ReturnType<typeof createTestSchema>

  beforeAll(() => {
    pool = new pg.Pool({ connectionString: databaseUrl(), max: 8 })
    testSchema = createTestSchema(databaseUrl(), 'conveyor_migrate_ready')
  })
  afterAll(async () => {
    await testSchema.drop()
    await pool.end()
  })

  /** Records runs as they start (before their completion is written). */
  async function recordRuns(target: pg.Pool | pg.Client, runs: string, list: readonly Run[]): Promise<void> {
    if (list.length === 0) return
    await target.query(
      `INSERT INTO ${runs} (job_id, attempt, by, outcome)
       SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[])`,
      [list.map((r) => r.id), list.map((r) => r.attempt), list.map((r) => r.by), list.map((r) => r.outcome)],
    )
  }

  /** Shared state of the old workers. */
  interface OldWorkers {
    readonly claimed: string[]
    readonly inserted: string[]
    producing: boolean
    stop: boolean
  }

  /**
   * A process of the previous version (010 SQL shapes, simplified): heartbeats without a storage
   * version; while producing, inserts `BATCH` jobs per turn into `jobs` only; claims with 010's claim
   * (job rows only, group checks on `jobs` and the group-turn function); completes by moving the row
   * to history. Before its loop, once `ready()` holds, it ends the jobs it was running when the test
   * began (`running`): the first half succeed, the rest are retried as 010's completion did.
   */
  async function oldWorker(
    names: SqlNames,
    runs: string,
    processId: string,
    state: OldWorkers,
    running: { readonly ids: readonly string[]; readonly ready: () => boolean },
  ): Promise<void> {
    const client = new pg.Client({ connectionString: databaseUrl() })
    const beats = new pg.Client({ connectionString: databaseUrl() })
    await client.connect()
    await beats.connect()
    const workerId = `${processId}:w`
    let beating: Promise<unknown> | null = null
    const heartbeat = () => {
      // On its own connection: while the migration waits for `processes`, the heartbeat waits too.
      beating ??= beats
        .query(
          `INSERT INTO ${names.processes} AS p (id, last_heartbeat_at, started_at, workers, kinds)
           VALUES ($1, now(), now(), NULL, '{}')
           ON CONFLICT (id) DO UPDATE SET last_heartbeat_at = excluded.last_heartbeat_at`,
          [processId],
        )
        .finally(() => {
          beating = null
        })
    }
    const complete = async (ids: readonly string[]) => {
      const { rowCount } = await client.query(
        `WITH done AS (
           DELETE FROM ${names.jobs} j WHERE j.id = ANY($1::bigint[]) AND j.state = 'running' AND j.attempted_by = $2
           RETURNING ${rowWith('j', { state: `'succeeded'`, finished_at: 'now()' })}
         ) ${copyRowsSql(names.history, 'done')}`,
        [ids, workerId],
      )
      expect(rowCount, `${processId} completes its jobs`).toBe(ids.length)
    }
    let ended = running.ids.length === 0
    try {
      while (!state.stop) {
        heartbeat()
        if (!ended && running.ready()) {
          const half = Math.ceil(running.ids.length / 2)
          const succeeding = running.ids.slice(0, half)
          const retried = running.ids.slice(half)
          await recordRuns(client, runs, [
            ...succeeding.map((id) => ({ id, attempt: 1, by: workerId, outcome: 'succeeded' as const })),
            ...retried.map((id) => ({ id, attempt: 1, by: workerId, outcome: 'retry' as const })),
          ])
          await complete(succeeding)
          const { rowCount } = await client.query(
            `UPDATE ${names.jobs} j SET state = 'retryable', run_at = now(),
               errors = j.errors || jsonb_build_array(jsonb_build_object('attempt', j.attempt, 'name', 'Error', 'message', 'old'))
             WHERE j.id = ANY($1::bigint[]) AND j.state = 'running' AND j.attempted_by = $2`,
            [retried, workerId],
          )
          expect(rowCount).toBe(retried.length)
          ended = true
        }
        if (state.producing) {
          const added = await client.query<{ id: string }>(
            `INSERT INTO ${names.jobs} (kind, queue, state, payload, run_at, created_at, max_attempts)
             SELECT 'work', 'default', 'available', '{}', now(), now(), 3 FROM generate_series(1, ${BATCH})
             RETURNING id::text AS id`,
          )
          state.inserted.push(...added.rows.map((r) => r.id))
        }
        const { rows } = await client.query<{ id: string; attempt: number }>(
          `UPDATE ${names.jobs} j SET state = 'running', attempt = j.attempt + 1, runs = j.runs + 1, attempted_at = now(), attempted_by = $1
           WHERE j.id = ANY(ARRAY(
             SELECT c.id FROM ${names.jobs} c
             WHERE c.state IN ('scheduled', 'available', 'retryable') AND c.queue = 'default' AND c.kind = 'work'
               AND c.run_at <= now() AND c.attempt < c.max_attempts
               AND (c.depends_on IS NULL OR (NOT EXISTS (
                 SELECT 1 FROM ${names.jobs} d WHERE d.id = ANY(c.depends_on) AND d.state <> 'succeeded'
               ) AND ${names.historyDependenciesMet}(c.depends_on)))
               AND (c.group_key IS NULL OR (
                 NOT EXISTS (
                   SELECT 1 FROM ${names.jobs} g WHERE g.group_key = c.group_key AND g.state = 'running'
                     AND (g.group_lock_timeout_ms IS NULL OR g.attempted_at > now() - g.group_lock_timeout_ms * interval '1 millisecond')
                 )
                 AND (c.group_mode = 'release' OR NOT EXISTS (
                   SELECT 1 FROM ${names.jobs} g WHERE g.group_key = c.group_key AND g.id < c.id
                     AND g.state IN ('scheduled', 'available', 'retryable')
                 ))
                 AND ${names.claimGroupTurn}($2::int, c.group_key, c.id, c.group_mode = 'release', now(), '')
               ))
             ORDER BY c.priority, c.run_at, c.id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED))
           RETURNING j.id::text AS id, j.attempt`,
          [workerId, names.groupLockSpace],
        )
        if (rows.length === 0) {
          await nextTurn()
          continue
        }
        state.claimed.push(...rows.map((r) => r.id))
        await recordRuns(
          client,
          runs,
          rows.map((r) => ({ id: r.id, attempt: r.attempt, by: workerId, outcome: 'succeeded' })),
        )
        await complete(rows.map((r) => r.id))
      }
      await beating
    } finally {
      await client.end()
      await beats.end()
    }
  }

  /** What the test tells the new process: pause between turns (it says when it has), or end. */
  interface NewWorkerControl {
    paused: boolean
    idle: boolean
    done: boolean
  }

  /**
   * A process of the new version, through the store: heartbeat, rescue pass (with the narrow-table
   * repair), claim, record, complete, until told it is done.
   */
  async function newWorker(store: PostgresStore, runs: string, claimed: string[], control: NewWorkerControl) {
    while (!control.done) {
      control.idle = control.paused
      if (control.paused) {
        await nextTurn()
        continue
      }
      await store.recordHeartbeat({ processId: 'new' })
      await store.rescueJobs({ staleAfterMs: STALE_AFTER_MS, limit: 1000 })
      const jobs = await store.claimJobs({
        queues: ['default'],
        kinds: ['work'],
        capacity: BATCH,
        strategy: 'priority',
        workerId: 'new:w',
      })
      if (jobs.length === 0) {
        await nextTurn()
        continue
      }
      claimed.push(...jobs.map((j) => j.id))
      await recordRuns(
        pool,
        runs,
        jobs.map((j) => ({ id: j.id, attempt: j.attempt, by: 'new:w', outcome: 'succeeded' })),
      )
      const { skipped } = await store.completeJobs({
        completions: jobs.map((j) => ({ id: j.id, outcome: 'succeeded', attempt: j.attempt })),
      })
      expect(skipped).toEqual([])
    }
  }

  it('runs every job once while old workers insert, claim and complete during and after the migration', async () => {
    const names = sqlNames(testSchema.schema)
    const all = await loadMigrations()
    await migrate(
      pool,
      names,
      all.filter((m) => m.version <= 10),
    )
    const runs = `${names.quotedSchema}.test_runs`
    await pool.query(
      `CREATE TABLE ${runs} (seq bigserial PRIMARY KEY, job_id bigint NOT NULL, attempt int NOT NULL, by text NOT NULL, outcome text NOT NULL)`,
    )
    const count = async (sql: string) => Number((await pool.query<{ n: string }>(sql)).rows[0]?.n)

    // History; waiting jobs (available, scheduled soon, retryable, paused, in fifo groups, depending
    // on others); running jobs of a dead process and of a live old worker.
    await pool.query(
      `INSERT INTO ${names.history} (id, kind, queue, state, payload, run_at, created_at, attempt, max_attempts, finished_at)
       SELECT nextval(pg_get_serial_sequence($1, 'id')), 'old', 'default', 'succeeded', '{}', now() - interval '1 day', now() - interval '1 day', 1, 3, now() - interval '1 hour'
       FROM generate_series(1, 100)`,
      [names.jobs],
    )
    await pool.query(
      `INSERT INTO ${names.jobs} (kind, queue, state, payload, run_at, created_at, attempt, max_attempts, group_key, attempted_at, attempted_by)
       SELECT 'work', 'default', CASE WHEN s IN ('dead', 'live') THEN 'running' WHEN s = 'grouped' THEN 'available' ELSE s END,
         jsonb_build_object('s', s),
         now() + CASE WHEN s = 'scheduled' THEN interval '1 second' ELSE interval '0' END, now(),
         CASE WHEN s IN ('retryable', 'dead', 'live') THEN 1 ELSE 0 END, 3,
         CASE WHEN s = 'grouped' THEN 'g' || (g % 5) END,
         CASE s WHEN 'dead' THEN now() - interval '1 hour' WHEN 'live' THEN now() END,
         CASE s WHEN 'dead' THEN 'dead:w' WHEN 'live' THEN 'old0:w' END
       FROM unnest(ARRAY['available', 'scheduled', 'retryable', 'paused', 'grouped', 'dead', 'live']) s,
         generate_series(1, 40) g`,
    )
    await pool.query(
      `INSERT INTO ${names.jobs} (kind, queue, state, payload, run_at, created_at, max_attempts, depends_on)
       SELECT 'work', 'default', 'available', '{"s": "dependent"}', now(), now(), 3, ARRAY[p.id]
       FROM ${names.jobs} p WHERE p.payload->>'s' = 'available'`,
    )
    await pool.query(
      `INSERT INTO ${names.processes} (id, last_heartbeat_at, started_at, workers, kinds)
       VALUES ('dead', now() - interval '1 hour', now() - interval '2 hours', NULL, '{}')`,
    )
    const liveRunning = (
      await pool.query<{ id: string }>(
        `SELECT id::text AS id FROM ${names.jobs} WHERE payload->>'s' = 'live' ORDER BY id`,
      )
    ).rows.map((r) => r.id)
    const initial = (await pool.query<{ id: string }>(`SELECT id::text AS id FROM ${names.jobs}`)).rows.map(
      (r) => r.id,
    )

    const old: OldWorkers = { claimed: [], inserted: [], producing: true, stop: false }
    let migrated = false
    const workers = [0, 1].map((i) =>
      oldWorker(names, runs, `old${i}`, old, { ids: i === 0 ? liveRunning : [], ready: () => migrated }),
    )
    await waitFor(() => old.claimed.length >= 50, { timeoutMs: 60_000, message: 'old workers to start' })

    // Hold the migration at its first lock on `processes` (the new column): a transaction locks a row.
    const blocker = await pool.connect()
    await blocker.query('BEGIN')
    await blocker.query(`SELECT 1 FROM ${names.processes} WHERE id = 'dead' FOR UPDATE`)
    const migration = migrate(pool, names).then((r) => {
      migrated = true
      return r
    })
    const [blockerPid] = (await blocker.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows
    await waitFor(
      async () =>
        (
          await pool.query(
            `SELECT 1 FROM pg_stat_activity WHERE query LIKE '-- Conveyor 011%' AND $1::int = ANY(pg_blocking_pids(pid))`,
            [blockerPid?.pid],
          )
        ).rowCount === 1,
      { timeoutMs: 60_000, message: 'the migration to wait for processes' },
    )
    // A process of the new version starting now waits on the migration lock.
    const second = migrate(pool, names)
    const claimedDuring = old.claimed.length
    await waitFor(() => old.claimed.length >= claimedDuring + 100, {
      timeoutMs: 60_000,
      message: 'old workers to claim jobs while the migration is under way',
    })
    expect(migrated).toBe(false)
    await blocker.query('COMMIT')
    blocker.release()
    expect((await migration).applied[0]).toBe('011_ready_and_running')
    expect((await second).applied).toEqual([])

    // The new version starts beside the old workers; it resumes the paused jobs.
    const store = new PostgresStore({ connectionString: databaseUrl(), schema: testSchema.schema })
    const claimedByNew: string[] = []
    const control: NewWorkerControl = { paused: false, idle: false, done: false }
    let lastInserted: string[] = []
    let worker: Promise<void> | null = null
    try {
      expect(await store.resumeJobs({ filter: { states: ['paused'] } })).toHaveLength(40)
      worker = newWorker(store, runs, claimedByNew, control)
      const claimedAfter = old.claimed.length
      const insertedAfter = old.inserted.length
      await waitFor(
        () =>
          old.claimed.length >= claimedAfter + 100 &&
          old.inserted.length >= insertedAfter + 100 &&
          claimedByNew.length >= 100,
        { timeoutMs: 60_000, message: 'old and new workers to run jobs side by side' },
      )
      // The new process pauses between passes; the old ones stop, one last insert coming after the
      // new process's last pass that saw them live: only the pass after they went readies it.
      control.paused = true
      await waitFor(() => control.idle, { message: 'the new process to pause' })
      old.producing = false
      old.stop = true
      await Promise.all(workers)
      lastInserted = (
        await pool.query<{ id: string }>(
          `INSERT INTO ${names.jobs} (kind, queue, state, payload, run_at, created_at, max_attempts)
           SELECT 'work', 'default', 'available', '{}', now(), now(), 3 FROM generate_series(1, ${BATCH})
           RETURNING id::text AS id`,
        )
      ).rows.map((r) => r.id)
      await pool.query(
        `UPDATE ${names.processes} SET last_heartbeat_at = now() - interval '1 hour' WHERE id LIKE 'old%'`,
      )
      const unready = (await narrowTableMismatches(pool, testSchema.schema))
        .filter((m) => m.problem === 'waiting job without its ready row')
        .map((m) => m.id)
      expect(unready).toEqual(expect.arrayContaining(lastInserted))
      control.paused = false
      await waitFor(async () => (await count(`SELECT count(*) AS n FROM ${names.jobs}`)) === 0, {
        timeoutMs: 30_000,
        message: 'the new process to drain every job',
      })
      control.done = true
      await worker
    } finally {
      control.done = true
      old.stop = true
      await Promise.allSettled([worker, ...workers])
      await store.close()
    }

    // Every job once in history, succeeded; one successful run each, no attempt run twice.
    const expected = [...initial, ...old.inserted, ...lastInserted].sort((a, b) => Number(a) - Number(b))
    const finished = (
      await pool.query<{ id: string; state: string; attempt: number }>(
        `SELECT id::text AS id, state, attempt FROM ${names.history} WHERE kind = 'work'`,
      )
    ).rows.sort((a, b) => Number(a.id) - Number(b.id))
    expect(finished.map((r) => r.id)).toEqual(expected)
    expect(finished.filter((r) => r.state !== 'succeeded')).toEqual([])
    const recorded = (
      await pool.query<{ seq: string; id: string; attempt: number; outcome: string }>(
        `SELECT seq::text AS seq, job_id::text AS id, attempt, outcome FROM ${runs} ORDER BY seq`,
      )
    ).rows
    const successes = new Map<string, { seq: number; attempt: number }[]>()
    const attempts = new Set<string>()
    for (const r of recorded) {
      expect(attempts.has(`${r.id}/${r.attempt}`), `job ${r.id} attempt ${r.attempt} ran twice`).toBe(false)
      attempts.add(`${r.id}/${r.attempt}`)
      if (r.outcome === 'succeeded')
        successes.set(r.id, [...(successes.get(r.id) ?? []), { seq: Number(r.seq), attempt: r.attempt }])
    }
    for (const job of finished) {
      expect(successes.get(job.id), `successful runs of job ${job.id}`).toEqual([
        expect.objectContaining({ attempt: job.attempt }),
      ])
    }
    // A dependent job ran after its parent succeeded.
    const dependents = (
      await pool.query<{ id: string; parent: string }>(
        `SELECT id::text AS id, depends_on[1]::text AS parent FROM ${names.history} WHERE depends_on IS NOT NULL`,
      )
    ).rows
    expect(dependents).toHaveLength(40)
    for (const d of dependents)
      expect(successes.get(d.id)![0]!.seq, `job ${d.id} after ${d.parent}`).toBeGreaterThan(
        successes.get(d.parent)![0]!.seq,
      )
    // Both versions ran jobs; the rescued jobs of the dead process ran a second attempt.
    expect(claimedByNew.length).toBeGreaterThan(0)
    expect(
      await count(`SELECT count(*) AS n FROM ${names.history} WHERE payload->>'s' = 'dead' AND attempt = 2`),
    ).toBe(40)
    expect(await count(`SELECT count(*) AS n FROM ${names.history} WHERE kind = 'old'`)).toBe(100)
    await expectNarrowTablesConsistent(pool, testSchema.schema)
    expect(await count(`SELECT count(*) AS n FROM ${names.ready}`)).toBe(0)
    expect(await count(`SELECT count(*) AS n FROM ${names.running}`)).toBe(0)
  }, 120_000)
})
