/**
 * The repair pass of the narrow tables (migration 011), run by the store after its rescue: it puts
 * right what a process of the previous storage version (job rows only) leaves wrong, at the store's
 * first pass, at every pass while such a process is live, and at the pass after the last one went;
 * otherwise it does not run (a mistake made by hand is then left alone, which is how these tests see
 * that it did not run).
 */
import { beforeEach, expect, it } from 'vitest'
import { copyRowsSql, rowWith } from '../../src/adapters/postgres/history-sql.js'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { quoteIdentifier } from '../../src/adapters/postgres/schema-name.js'
import { narrowTableMismatches } from '../support/narrow-tables.js'
import { waitFor } from '../support/wait.js'
import { claim, describePostgres, insert, T0, useStore } from './fixture.js'

/** The time of the rescue passes; `live:*` workers heartbeat at it. */
const NOW = T0 + 20_000
const STALE_AFTER_MS = 10_000

describePostgres('narrow-table repair pass', () => {
  const db = useStore()
  const t = (name: string) => `${quoteIdentifier(db.schema)}.${name}`
  const stores: PostgresStore[] = []

  beforeEach(async () => {
    for (const s of stores.splice(0)) await s.close()
    await db.pool.query(`TRUNCATE ${t('processes')}, ${t('job_ready')}, ${t('job_running')}`)
    await db.store.recordHeartbeat({ processId: 'live', now: NOW })
  })

  /** A store of this version that has not run a rescue pass yet. */
  function freshStore(): PostgresStore {
    const store = new PostgresStore({ pool: db.pool, schema: db.schema })
    stores.push(store)
    return store
  }

  const rescuePass = (store: PostgresStore, limit = 100) =>
    store.rescueJobs({ now: NOW, staleAfterMs: STALE_AFTER_MS, limit })

  const mismatches = async () =>
    (await narrowTableMismatches(db.pool, db.schema)).map((m) => `${m.id}: ${m.problem}`)

  /** What a process of the previous version does on success: the job row moves to history, nothing else. */
  async function legacyFinish(id: string): Promise<void> {
    await db.pool.query(
      `WITH done AS (
         DELETE FROM ${t('jobs')} j WHERE j.id = $1::bigint
         RETURNING ${rowWith('j', { state: `'succeeded'`, finished_at: 'now()' })}
       ) ${copyRowsSql(t('job_history'), 'done')}`,
      [id],
    )
  }

  /** A process of the previous version: its heartbeat row has no storage version. */
  async function legacyHeartbeat(at: number): Promise<void> {
    await db.pool.query(
      `INSERT INTO ${t('processes')} (id, last_heartbeat_at, started_at, workers, kinds)
       VALUES ('legacy', to_timestamp($1::float8 / 1000), to_timestamp($1::float8 / 1000), NULL, '{}')
       ON CONFLICT (id) DO UPDATE SET last_heartbeat_at = excluded.last_heartbeat_at`,
      [at],
    )
  }

  it('puts right every kind of mistake at the first pass', async () => {
    const [running, finished, grouped] = await insert(db.store, [{}, {}, { groupKey: 'G', queue: 'groups' }])
    const taken = [
      ...(await db.store.claimJobs(claim({ workerId: 'live:w' }))),
      ...(await db.store.claimJobs(claim({ queues: ['groups'], workerId: 'live:w' }))),
    ]
    expect(taken.map((j) => j.id).sort()).toEqual([running, finished, grouped].sort())
    const [missing, outdated, paused, deleted, nextInGroup] = await insert(db.store, [
      {},
      {},
      {},
      {},
      { groupKey: 'G', queue: 'groups' },
    ])
    await db.pool.query(`DELETE FROM ${t('job_ready')} WHERE id = $1`, [missing])
    await db.pool.query(`UPDATE ${t('job_ready')} SET run_at = run_at - interval '1 hour' WHERE id = $1`, [
      outdated,
    ])
    await db.pool.query(`UPDATE ${t('jobs')} SET state = 'paused' WHERE id = $1`, [paused])
    await db.pool.query(`DELETE FROM ${t('jobs')} WHERE id = $1`, [deleted])
    await db.pool.query(`DELETE FROM ${t('job_running')} WHERE id = $1`, [running])
    await legacyFinish(finished!)
    await legacyFinish(grouped!)
    expect(await mismatches()).toEqual(
      [
        `${missing}: waiting job without its ready row`,
        `${outdated}: waiting job without its ready row`,
        `${paused}: ready row of a job that does not wait`,
        `${deleted}: ready row of a job that does not wait`,
        `${running}: running job without its running row`,
        `${finished}: running row of a job that does not run`,
        `${grouped}: running row of a job that does not run`,
      ].sort(),
    )
    // The stale running row still holds the group.
    expect(await db.store.claimJobs(claim({ queues: ['groups'], now: NOW, workerId: 'live:w' }))).toEqual([])

    await rescuePass(freshStore())

    expect(await mismatches()).toEqual([])
    const { rows } = await db.pool.query<{ id: string; ready: boolean; running: boolean }>(
      `SELECT j.id::text AS id, EXISTS (SELECT 1 FROM ${t('job_ready')} r WHERE r.id = j.id) AS ready,
         EXISTS (SELECT 1 FROM ${t('job_running')} r WHERE r.id = j.id) AS running
       FROM ${t('jobs')} j ORDER BY j.id`,
    )
    expect(rows).toEqual([
      { id: running, ready: false, running: true },
      { id: missing, ready: true, running: false },
      { id: outdated, ready: true, running: false },
      { id: paused, ready: false, running: false },
      { id: nextInGroup, ready: true, running: false },
    ])
    // The running job's process is alive: it still runs, and its group's next job is free to go.
    expect((await db.store.getJob({ id: running! }))?.state).toBe('running')
    expect(
      (await db.store.claimJobs(claim({ queues: ['groups'], now: NOW, workerId: 'live:w' }))).map(
        (j) => j.id,
      ),
    ).toEqual([nextInGroup])
  })

  it('runs at the first pass, at each pass while an earlier version is live, and after it went', async () => {
    const [id] = await insert(db.store, [{}])
    const unready = () => db.pool.query(`DELETE FROM ${t('job_ready')} WHERE id = $1`, [id])
    const broken = [`${id}: waiting job without its ready row`]
    const store = freshStore()

    await unready()
    await rescuePass(store)
    expect(await mismatches(), 'first pass').toEqual([])
    await rescuePass(store) // it found something: once more, finding nothing

    await unready()
    await rescuePass(store)
    expect(await mismatches(), 'no earlier version live: left alone').toEqual(broken)

    await legacyHeartbeat(NOW)
    await rescuePass(store)
    expect(await mismatches(), 'an earlier version is live').toEqual([])
    await unready()
    await rescuePass(store)
    expect(await mismatches(), 'at every pass while it is live').toEqual([])

    // It restarts on this version: one more pass, then none.
    await db.pool.query(`UPDATE ${t('processes')} SET storage_version = 11 WHERE id = 'legacy'`)
    await unready()
    await rescuePass(store)
    expect(await mismatches(), 'the pass after the last one went').toEqual([])
    await rescuePass(store)
    await unready()
    await rescuePass(store)
    expect(await mismatches(), 'only processes of this version live: left alone').toEqual(broken)

    // An earlier version again, until its heartbeat goes stale: one more pass, then none.
    await db.pool.query(`UPDATE ${t('processes')} SET storage_version = NULL WHERE id = 'legacy'`)
    await rescuePass(store)
    expect(await mismatches(), 'an earlier version is live again').toEqual([])
    await legacyHeartbeat(NOW - STALE_AFTER_MS - 1)
    await unready()
    await rescuePass(store)
    expect(await mismatches(), 'the pass after its heartbeat went stale').toEqual([])
    await rescuePass(store)
    await unready()
    await rescuePass(store)
    expect(await mismatches(), 'no earlier version live since: left alone').toEqual(broken)
    await rescuePass(freshStore())
  })

  it('claims a job that still has a stale running row (an earlier version retried it), replacing the row', async () => {
    // Two jobs that a process of the previous version retried after this version claimed them: no
    // ready rows, stale running rows. A pass of limit 1 removes one running row and readies the other job.
    const ids = await insert(db.store, [{}, {}])
    expect(await db.store.claimJobs(claim({ workerId: 'live:w' }))).toHaveLength(2)
    // The first job's running row last in the table, so that the pass removes the other first.
    await db.pool.query(
      `WITH gone AS (DELETE FROM ${t('job_running')} WHERE id = $1 RETURNING *) INSERT INTO ${t('job_running')} SELECT * FROM gone`,
      [ids[0]],
    )
    for (const id of ids)
      await db.pool.query(`UPDATE ${t('jobs')} SET state = 'retryable', run_at = $2 WHERE id = $1`, [
        id,
        new Date(T0),
      ])
    const store = freshStore()
    await legacyHeartbeat(NOW)
    await rescuePass(store, 1)
    expect(await db.store.claimJobs(claim({ now: NOW, workerId: 'live:w' }))).toHaveLength(1)
    await rescuePass(store, 1)
    await rescuePass(store, 1)
    expect(await db.store.claimJobs(claim({ now: NOW, workerId: 'live:w' }))).toHaveLength(1)
    expect(await mismatches()).toEqual([])
  })

  it('does not run early a job that an earlier version retried with a backoff (its stale ready row is due)', async () => {
    const [id] = await insert(db.store, [{}])
    // Claimed by a process of the previous version (the ready row stays), then retried an hour on.
    await db.pool.query(
      `UPDATE ${t('jobs')} SET state = 'running', attempt = attempt + 1, attempted_at = $2, attempted_by = 'legacy:w' WHERE id = $1`,
      [id, new Date(T0)],
    )
    await db.pool.query(`UPDATE ${t('jobs')} SET state = 'retryable', run_at = $2 WHERE id = $1`, [
      id,
      new Date(T0 + 3600_000),
    ])
    expect(await db.store.claimJobs(claim({ now: NOW, workerId: 'live:w' }))).toEqual([])
    await legacyHeartbeat(NOW)
    await rescuePass(freshStore())
    expect(await db.store.claimJobs(claim({ now: NOW, workerId: 'live:w' }))).toEqual([])
    const due = await db.store.claimJobs(claim({ now: T0 + 3600_000, workerId: 'live:w' }))
    expect(due.map((j) => [j.id, j.attempt])).toEqual([[id, 2]])
  })

  it('leaves alone a running row written for the same id after the pass began (it deletes by tuple)', async () => {
    // Y: claimed by this version, retried by the previous one (stale running row), then retried by an
    // admin (ready row). X: a waiting job without its ready row, whose ready row another transaction
    // is inserting: the pass waits there, after its snapshot, before it removes stale running rows.
    const [y, x] = await insert(db.store, [{}, {}])
    expect(await db.store.claimJobs(claim({ capacity: 1, workerId: 'live:w' }))).toHaveLength(1)
    await db.pool.query(`UPDATE ${t('jobs')} SET state = 'retryable' WHERE id = $1`, [y])
    expect(await db.store.retryJobs({ filter: { ids: [y!] }, now: T0 })).toBe(1)
    await db.pool.query(`DELETE FROM ${t('job_ready')} WHERE id = $1`, [x])
    const inserting = await db.pool.connect()
    try {
      await inserting.query('BEGIN')
      await inserting.query(
        `INSERT INTO ${t('job_ready')} (id, queue, priority, run_at, kind, weight, gated)
         SELECT id, queue, priority, run_at, kind, weight, group_key IS NOT NULL OR depends_on IS NOT NULL
         FROM ${t('jobs')} WHERE id = $1`,
        [x],
      )
      const [{ pid }] = (await inserting.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [
        { pid: number },
      ]
      const pass = rescuePass(freshStore())
      await waitFor(
        async () =>
          (
            await db.pool.query('SELECT 1 FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))', [
              pid,
            ])
          ).rowCount === 1,
        { message: 'the repair pass to wait for the ready row being inserted' },
      )
      // Meanwhile Y is claimed again: its running row is rewritten for the new attempt.
      const again = await db.store.claimJobs(claim({ now: NOW, workerId: 'live:w' }))
      expect(again.map((j) => [j.id, j.attempt])).toEqual([[y, 2]])
      await inserting.query('ROLLBACK')
      await pass
    } finally {
      inserting.release()
    }
    const { rows } = await db.pool.query(
      `SELECT id::text AS id, attempt FROM ${t('job_running')} ORDER BY id`,
    )
    expect(rows).toEqual([{ id: y, attempt: 2 }])
    expect(await mismatches()).toEqual([])
  })

  it('runs again at the next pass while a due pass found more than its limit', async () => {
    // Ready rows missing (each pass adds one), then ready rows of paused jobs (each pass removes one).
    const ids = await insert(db.store, [{}, {}, {}])
    for (const corrupt of [`DELETE FROM ${t('job_ready')}`, `UPDATE ${t('jobs')} SET state = 'paused'`]) {
      await db.pool.query(corrupt)
      const store = freshStore()
      for (const left of [2, 1, 0, 0]) {
        await rescuePass(store, 1)
        expect(await mismatches(), corrupt).toHaveLength(left)
      }
      await db.pool.query(`DELETE FROM ${t('job_ready')} WHERE id = $1`, [ids[0]])
      await db.pool.query(`UPDATE ${t('jobs')} SET state = 'available' WHERE id = $1`, [ids[0]])
      await rescuePass(store, 1)
      expect(await mismatches(), 'a pass that found nothing ends it').toHaveLength(1)
      await rescuePass(freshStore())
    }
  })

  it('runs again at the next pass when a due pass failed', async () => {
    // The first pass waits for a ready row another transaction is inserting, and is cancelled there.
    const [x] = await insert(db.store, [{}])
    await db.pool.query(`DELETE FROM ${t('job_ready')} WHERE id = $1`, [x])
    const store = freshStore()
    const inserting = await db.pool.connect()
    try {
      await inserting.query('BEGIN')
      await inserting.query(
        `INSERT INTO ${t('job_ready')} (id, queue, priority, run_at, kind, weight, gated)
         SELECT id, queue, priority, run_at, kind, weight, group_key IS NOT NULL OR depends_on IS NOT NULL
         FROM ${t('jobs')} WHERE id = $1`,
        [x],
      )
      const [{ pid }] = (await inserting.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [
        { pid: number },
      ]
      const pass = rescuePass(store)
      const failed = pass.then(
        () => false,
        () => true,
      )
      const blocked = await waitFor(
        async () =>
          (
            await db.pool.query<{ pid: number }>(
              'SELECT pid FROM pg_stat_activity WHERE $1::int = ANY(pg_blocking_pids(pid))',
              [pid],
            )
          ).rows[0]?.pid,
        { message: 'the repair pass to wait for the ready row being inserted' },
      )
      await db.pool.query('SELECT pg_cancel_backend($1)', [blocked])
      expect(await failed).toBe(true)
      await inserting.query('ROLLBACK')
    } finally {
      inserting.release()
    }
    expect(await mismatches()).toEqual([`${x}: waiting job without its ready row`])
    await rescuePass(store)
    expect(await mismatches()).toEqual([])
  })

  // Known gap, not fixed here: the claim reads a group's running jobs from `job_running`, and a claim
  // by a process of the previous version writes none, so until the next repair pass (a rescue
  // interval) a new claim runs the group's next job beside it. Remove `.fails` once fixed.
  it.fails('keeps a group held by a job an earlier version claimed (known gap: runs the next job beside it until the repair pass)', async () => {
    const [first] = await insert(db.store, [{ groupKey: 'G' }, { groupKey: 'G' }])
    await legacyHeartbeat(NOW)
    await db.pool.query(
      `UPDATE ${t('jobs')} SET state = 'running', attempt = attempt + 1, attempted_at = $2, attempted_by = 'legacy:w' WHERE id = $1`,
      [first, new Date(NOW)],
    )
    try {
      // The first claim meets the legacy job's stale ready row (and drops it, the job running); the
      // next must still find the group held.
      expect(await db.store.claimJobs(claim({ now: NOW, workerId: 'live:w' }))).toEqual([])
      expect(await db.store.claimJobs(claim({ now: NOW, workerId: 'live:w' }))).toEqual([])
    } finally {
      // The narrow tables put right for the check after each test.
      await rescuePass(freshStore())
    }
  })
})
