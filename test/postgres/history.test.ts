/**
 * The history table on PostgreSQL (migration 009): where rows live after each way a job can finish,
 * retention by day partitions, the sweep of finished rows an older process left in `jobs`, and the
 * plans of reads over many finished jobs. The rules every store keeps are in
 * test/store/cases/finished-jobs.ts; here: the tables themselves.
 */
import pg from 'pg'
import { expect, it } from 'vitest'
import { claimSql } from '../../src/adapters/postgres/claim.js'
import { FRONT } from '../../src/adapters/postgres/claim-cursor.js'
import {
  ensurePartitions,
  listPartitions,
  PARTITION_DAYS_AHEAD,
} from '../../src/adapters/postgres/history-maintenance.js'
import { PostgresStore } from '../../src/adapters/postgres/postgres-store.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { waitFor } from '../support/wait.js'
import { claim, databaseUrl, describePostgres, insert, T0, useStore } from './fixture.js'

const DAY = 86_400_000

describePostgres('the history table', () => {
  const db = useStore()
  const names = () => sqlNames(db.schema)

  /** Ids by table: where each job's row is. */
  async function placement(): Promise<{ jobs: string[]; history: string[] }> {
    const read = async (table: string) =>
      (await db.pool.query<{ id: string }>(`SELECT id::text AS id FROM ${table} ORDER BY id`)).rows.map(
        (r) => r.id,
      )
    return { jobs: await read(db.table('jobs')), history: await read(db.table('job_history')) }
  }

  it('moves a job at each way of finishing, and keeps retries, snoozes and waiting jobs in jobs', async () => {
    const [ok, failed, cancelled, retried, snoozed, dependant, waiting, dead, rescued] = await insert(
      db.store,
      [{}, {}, {}, {}, {}, {}, { runAt: T0 + 60_000 }, { maxAttempts: 1 }, {}],
    )
    await db.pool.query(
      `UPDATE ${db.table('jobs')} SET depends_on = ARRAY[$1::bigint] WHERE id = $2::bigint`,
      [failed, dependant],
    )
    await db.store.claimJobs(claim({ capacity: 5 }))
    const error = { attempt: 1, at: T0, name: 'Error', message: 'no' }
    await db.store.completeJobs({
      completions: [
        { id: ok!, outcome: 'succeeded' },
        { id: failed!, outcome: 'failed', error },
        { id: cancelled!, outcome: 'cancelled' },
        { id: retried!, outcome: 'retry', error, delayMs: 1000 },
        { id: snoozed!, outcome: 'snoozed', delayMs: 1000 },
      ],
      now: T0 + 1,
    })
    await db.store.claimJobs(claim({ capacity: 2, workerId: 'gone:w', now: T0 + 2 }))
    expect(await db.store.rescueJobs({ now: T0 + 600_000, staleAfterMs: 1000, limit: 10 })).toHaveLength(2)
    const where = await placement()
    expect(where.history).toEqual([ok, failed, cancelled, dependant, dead])
    expect(where.jobs).toEqual([retried, snoozed, waiting, rescued])
    // Nothing is in both tables, and every read finds each job once.
    expect((await db.store.listJobs({ filter: {}, limit: 100 })).map((j) => j.id).sort()).toEqual(
      [...where.jobs, ...where.history].sort(),
    )
    await db.store.cancelJobs({ filter: { ids: [waiting!] }, now: T0 + 3 })
    expect((await placement()).history).toContain(waiting)
    await db.store.retryJobs({ filter: { ids: [dead!, waiting!] }, now: T0 + 4 })
    expect((await placement()).jobs).toEqual([retried, snoozed, waiting, dead, rescued].sort(byNumber))
  })

  it('drops the day partitions wholly before the cutoff, and deletes rows only in the boundary day', async () => {
    const day0 = T0 + 10 * DAY
    expect(await ensurePartitions(db.pool, names(), day0)).toHaveLength(PARTITION_DAYS_AHEAD + 1)
    const ids = await insert(db.store, [{}, {}, {}, {}], day0)
    await db.store.claimJobs(claim({ capacity: 4, now: day0 }))
    const finishAt = [day0 + 1000, day0 + DAY + 1000, day0 + DAY + 5 * 3600_000, day0 + 2 * DAY]
    for (const [i, id] of ids.entries()) {
      await db.store.completeJobs({ completions: [{ id, outcome: 'succeeded' }], now: finishAt[i]! })
    }
    const partitionOf = async (id: string) =>
      (
        await db.pool.query<{ p: string }>(
          `SELECT tableoid::regclass::text AS p FROM ${db.table('job_history')} WHERE id = $1`,
          [id],
        )
      ).rows[0]?.p
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10).replaceAll('-', '')
    expect(await partitionOf(ids[0]!)).toContain(`job_history_${day(day0)}`)
    // Cut off in the middle of the second day: the first day goes whole, one row of the second day.
    const pruned = await db.store.pruneJobs({ finishedBefore: day0 + DAY + 3600_000, limit: 100 })
    expect(pruned).toBe(2)
    const left = (await listPartitions(db.pool, names())).map((p) => p.name)
    expect(left).not.toContain(`job_history_${day(day0)}`)
    expect(left).toContain(`job_history_${day(day0 + DAY)}`)
    expect((await placement()).history).toEqual(ids.slice(2))
  })

  /** The schema's history tables, read from the catalog (not through `listPartitions`). */
  async function historyTables(): Promise<string[]> {
    const { rows } = await db.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind = 'r' AND c.relname LIKE 'job_history%' ORDER BY 1`,
      [db.schema],
    )
    return rows.map((r) => r.name)
  }
  const partitionName = (ms: number) =>
    `job_history_${new Date(ms).toISOString().slice(0, 10).replaceAll('-', '')}`

  it('prunes nothing with a limit below 1; a day ending exactly at the cutoff is dropped whole', async () => {
    const day0 = T0 + 10 * DAY
    await ensurePartitions(db.pool, names(), day0)
    const [id] = await insert(db.store, [{}], day0)
    await db.store.claimJobs(claim({ now: day0 }))
    await db.store.completeJobs({ completions: [{ id: id!, outcome: 'succeeded' }], now: day0 + 1000 })
    expect(await db.store.pruneJobs({ finishedBefore: day0 + DAY, limit: 0 })).toBe(0)
    expect(await historyTables()).toContain(partitionName(day0))
    expect(await db.store.pruneJobs({ finishedBefore: day0 + DAY, limit: 1 })).toBe(1)
    expect(await historyTables()).not.toContain(partitionName(day0))
    expect(await historyTables()).toContain(partitionName(day0 + DAY))
  })

  /** A new store on this file's schema: its history upkeep has not run yet (the file's store has). */
  async function withFreshStore(work: (store: PostgresStore) => Promise<void>): Promise<void> {
    const store = new PostgresStore({ pool: db.pool, schema: db.schema })
    try {
      await work(store)
    } finally {
      await store.close()
    }
  }

  it("pruning creates the database's coming days first, and drops a before_ partition once past it", async () => {
    const { rows } = await db.pool.query<{ now: number }>(`SELECT date_part('epoch', now()) * 1000 AS now`)
    const today = Math.floor(rows[0]!.now / DAY) * DAY
    // The empty partitions earlier cases left, replaced by one the migration makes: before today.
    for (const table of await historyTables())
      if (table !== 'job_history' && table !== 'job_history_default')
        await db.pool.query(`DROP TABLE "${db.schema}".${table}`)
    const before = `job_history_before_${partitionName(today).slice('job_history_'.length)}`
    await db.pool.query(
      `CREATE TABLE "${db.schema}".${before} PARTITION OF ${db.table('job_history')}
       FOR VALUES FROM (MINVALUE) TO (to_timestamp(${today / 1000}))`,
    )
    await withFreshStore(async (store) => {
      expect(await store.pruneJobs({ finishedBefore: today, limit: 10 })).toBe(0)
    })
    const tables = await historyTables()
    expect(tables).not.toContain(before)
    for (let k = 0; k <= PARTITION_DAYS_AHEAD; k++) expect(tables).toContain(partitionName(today + k * DAY))
  })

  it('creates the day that starts where a before_ partition ends', async () => {
    const day = T0 + 500 * DAY
    const before = `job_history_before_${partitionName(day).slice('job_history_'.length)}`
    for (const table of await historyTables())
      if (table !== 'job_history' && table !== 'job_history_default')
        await db.pool.query(`DROP TABLE "${db.schema}".${table}`)
    await db.pool.query(
      `CREATE TABLE "${db.schema}".${before} PARTITION OF ${db.table('job_history')}
       FOR VALUES FROM (MINVALUE) TO (to_timestamp(${day / 1000}))`,
    )
    expect(await ensurePartitions(db.pool, names(), day)).toEqual([
      partitionName(day),
      partitionName(day + DAY),
      partitionName(day + 2 * DAY),
    ])
    // It covers the days of the cases after this one.
    await db.pool.query(`DROP TABLE "${db.schema}".${before}`)
  })

  it('gives up on a day whose lock it does not get within the lock timeout, and creates it on a later pass', async () => {
    const day = T0 + 600 * DAY
    // An open transaction writing history (as a completion does) holds the parent's ROW EXCLUSIVE lock.
    const writer = new pg.Client({ connectionString: databaseUrl() })
    await writer.connect()
    try {
      await writer.query('BEGIN')
      await writer.query(`LOCK TABLE ${db.table('job_history')} IN ROW EXCLUSIVE MODE`)
      expect(await ensurePartitions(db.pool, names(), day)).toEqual([])
    } finally {
      await writer.query('ROLLBACK')
      await writer.end()
    }
    expect(await ensurePartitions(db.pool, names(), day)).toHaveLength(PARTITION_DAYS_AHEAD + 1)
  })

  it('a partition whose drop is refused keeps its rows for the row deletes, and they are counted once', async () => {
    const day0 = T0 + 700 * DAY
    await ensurePartitions(db.pool, names(), day0)
    const ids = await insert(db.store, [{}, {}], day0)
    await db.store.claimJobs(claim({ capacity: 2, now: day0 }))
    for (const id of ids)
      await db.store.completeJobs({ completions: [{ id, outcome: 'succeeded' }], now: day0 + 1000 })
    // A reader of the day's partition in an open transaction: the drop waits past the lock timeout.
    const reader = new pg.Client({ connectionString: databaseUrl() })
    await reader.connect()
    try {
      await reader.query('BEGIN')
      await reader.query(`SELECT count(*) FROM "${db.schema}".${partitionName(day0)}`)
      expect(await db.store.pruneJobs({ finishedBefore: day0 + DAY, limit: 10 })).toBe(2)
    } finally {
      await reader.query('ROLLBACK')
      await reader.end()
    }
    expect(await historyTables()).toContain(partitionName(day0))
    expect((await placement()).history).toEqual([])
  })

  /**
   * Runs `ensurePartitions(day)` while another session's open transaction has run `hold` (taking a
   * lock); returns what it created and whether it queued a lock request on table `waitedOn`.
   */
  async function ensureBeside(
    hold: (client: pg.Client) => Promise<unknown>,
    waitedOn: string,
    day: number,
  ): Promise<{ created: string[]; queued: boolean }> {
    const holder = new pg.Client({ connectionString: databaseUrl() })
    await holder.connect()
    try {
      await holder.query('BEGIN')
      await hold(holder)
      let done = false
      const ensuring = ensurePartitions(db.pool, names(), day).finally(() => {
        done = true
      })
      let queued = false
      await waitFor(async () => {
        const { rows } = await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
           WHERE c.relname = $2 AND c.relnamespace = $1::regnamespace AND NOT l.granted`,
          [db.schema, waitedOn],
        )
        if ((rows[0]?.n ?? 0) > 0) queued = true
        return done || queued
      })
      return { created: await ensuring, queued }
    } finally {
      await holder.query('ROLLBACK')
      await holder.end()
    }
  }

  /** `ensureBeside` a transaction holding `job_history`'s ROW EXCLUSIVE lock, as a completion does. */
  const ensureBesideAWriter = (day: number) =>
    ensureBeside(
      (writer) => writer.query(`LOCK TABLE ${db.table('job_history')} IN ROW EXCLUSIVE MODE`),
      'job_history',
      day,
    )

  it('does not try days whose partitions exist, or that a before_ partition covers (a try waits for the lock completions hold)', async () => {
    const day = T0 + 800 * DAY
    await ensurePartitions(db.pool, names(), day)
    expect(await ensureBesideAWriter(day)).toEqual({ created: [], queued: false })
    // Every partition replaced by one before day + 3: the three days are covered.
    for (const table of await historyTables())
      if (table !== 'job_history' && table !== 'job_history_default')
        await db.pool.query(`DROP TABLE "${db.schema}".${table}`)
    const before = `job_history_before_${partitionName(day + 3 * DAY).slice('job_history_'.length)}`
    await db.pool.query(
      `CREATE TABLE "${db.schema}".${before} PARTITION OF ${db.table('job_history')}
       FOR VALUES FROM (MINVALUE) TO (to_timestamp(${(day + 3 * DAY) / 1000}))`,
    )
    try {
      expect(await ensureBesideAWriter(day)).toEqual({ created: [], queued: false })
    } finally {
      await db.pool.query(`DROP TABLE "${db.schema}".${before}`)
    }
  })

  it('the rescue pass creates the coming days of its time, at most once a minute (process time)', async () => {
    const day = T0 + 300 * DAY
    await withFreshStore(async (store) => {
      await store.rescueJobs({ now: day, staleAfterMs: 1000, limit: 10 })
      const tables = await historyTables()
      for (let k = 0; k <= PARTITION_DAYS_AHEAD; k++) expect(tables).toContain(partitionName(day + k * DAY))
      await store.rescueJobs({ now: day + 10 * DAY, staleAfterMs: 1000, limit: 10 })
      expect(await historyTables()).not.toContain(partitionName(day + 10 * DAY))
    })
  })

  it('keeps rows of a day with no partition in the DEFAULT partition, and creates that day only once it is empty there', async () => {
    const day = T0 + 40 * DAY
    const [id] = await insert(db.store, [{}], day)
    await db.store.claimJobs(claim({ now: day }))
    await db.store.completeJobs({ completions: [{ id: id!, outcome: 'succeeded' }], now: day + 10 })
    const where = async () =>
      (
        await db.pool.query<{ p: string }>(
          `SELECT tableoid::regclass::text AS p FROM ${db.table('job_history')} WHERE id = $1`,
          [id],
        )
      ).rows[0]?.p
    expect(await where()).toContain('job_history_default')
    // The day's partition cannot be attached over its rows in DEFAULT: skipped, the next days made.
    const dayName = (ms: number) =>
      `job_history_${new Date(ms).toISOString().slice(0, 10).replaceAll('-', '')}`
    expect(await ensurePartitions(db.pool, names(), day)).toEqual([
      dayName(day + DAY),
      dayName(day + 2 * DAY),
    ])
    expect(await db.store.getJob({ id: id! })).toMatchObject({ state: 'succeeded', finishedAt: day + 10 })
    // Pruned row by row from DEFAULT; then the day can have its partition.
    expect(await db.store.pruneJobs({ finishedBefore: day + 11, limit: 10 })).toBe(1)
    expect(await ensurePartitions(db.pool, names(), day)).toEqual([dayName(day)])
  })

  it('does not even try to attach a day whose rows sit in DEFAULT (the attempt would queue a lock ahead of completions)', async () => {
    const day = T0 + 50 * DAY
    const [id] = await insert(db.store, [{}], day)
    await db.store.claimJobs(claim({ now: day }))
    await db.store.completeJobs({ completions: [{ id: id!, outcome: 'succeeded' }], now: day + 10 })
    await ensurePartitions(db.pool, names(), day + DAY) // the next days exist: only this day is missing
    // A reader of DEFAULT in an open transaction: an attach would wait on it, its lock request queued.
    const beside = await ensureBeside(
      (reader) => reader.query(`SELECT count(*) FROM "${db.schema}".job_history_default`),
      'job_history_default',
      day,
    )
    expect(beside).toEqual({ created: [], queued: false })
  })

  it('reads, sweeps and prunes finished rows a process of the previous version left in jobs', async () => {
    const [legacy, live] = await insert(db.store, [{ uniqueKey: 'old' }, {}])
    // A process of that version is live (it writes no ready or running rows: the leader repairs them).
    await db.pool.query(
      `INSERT INTO ${db.table('processes')} (id, last_heartbeat_at, started_at) VALUES ('old', to_timestamp($1::float8 / 1000), to_timestamp($1::float8 / 1000))`,
      [T0],
    )
    // What 008-era code wrote at completion: the row stays in jobs, succeeded.
    await db.pool.query(
      `UPDATE ${db.table('jobs')} SET state = 'succeeded', attempt = 1, finished_at = to_timestamp($2::float8 / 1000) WHERE id = $1`,
      [legacy, T0 + 5],
    )
    expect(await db.store.getJob({ id: legacy! })).toMatchObject({ state: 'succeeded', finishedAt: T0 + 5 })
    expect((await db.store.getJobsByKey({ uniqueKey: 'old' })).map((j) => j.id)).toEqual([legacy])
    await db.store.rescueJobs({ now: T0 + 10, staleAfterMs: 1000, limit: 10 })
    expect(await placement()).toEqual({ jobs: [live], history: [legacy] })
    expect(await db.store.getJob({ id: legacy! })).toMatchObject({ state: 'succeeded', finishedAt: T0 + 5 })
    // And one left in jobs is pruned there too.
    await db.pool.query(
      `UPDATE ${db.table('jobs')} SET state = 'cancelled', finished_at = to_timestamp($2::float8 / 1000) WHERE id = $1`,
      [live, T0 + 6],
    )
    expect(await db.store.pruneJobs({ finishedBefore: T0 + 100, limit: 10 })).toBe(2)
    expect(await placement()).toEqual({ jobs: [], history: [] })
    // The ready row the old process left goes with the leader's next repair.
    await db.store.rescueJobs({ now: T0 + 20, staleAfterMs: 1000, limit: 10 })
  })

  it('lists and finds jobs through indexes among many finished ones (no sequential scan of history)', async () => {
    await ensurePartitions(db.pool, names(), Date.now() - 2 * DAY)
    await db.pool.query(
      `INSERT INTO ${db.table('job_history')} (id, kind, queue, state, payload, run_at, created_at, finished_at, max_attempts, unique_key)
       SELECT g, 'k', 'default', 'succeeded', '{}', now(), now(), now() - (g % 3) * interval '1 day', 3, 'key-' || (g % 500)
       FROM generate_series(1, 30000) g`,
    )
    await db.pool.query(`SELECT setval($1::text::regclass, 30000)`, [names().jobIdSequence])
    await db.pool.query(`ANALYZE ${db.table('job_history')}`)
    const client = new pg.Client({
      connectionString: databaseUrl(),
      options: '-c jit=off -c plan_cache_mode=force_generic_plan',
    })
    await client.connect()
    try {
      for (const [label, sql] of [
        ['getJob', `SELECT * FROM ${db.table('job_history')} WHERE id = $1::bigint`],
        [
          'newest first',
          `SELECT id FROM (SELECT id, state FROM ${db.table('jobs')} UNION ALL SELECT id, state FROM ${db.table('job_history')}) j ORDER BY id DESC LIMIT 20`,
        ],
      ] as const) {
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(
          `EXPLAIN ${sql.replace('$1::bigint', '1234')}`,
        )
        const text = rows.map((r) => r['QUERY PLAN']).join('\n')
        expect(text, label).toMatch(/Index (Only )?Scan( Backward)? using job_history_\d{8}_id_idx/)
        // Only empty partitions (the planner's choice for a table of no pages) are scanned in full.
        const scanned = [...text.matchAll(/Seq Scan on (job_history\w*)/g)].map((m) => m[1])
        const full = await client.query<{ relname: string }>(
          `SELECT relname FROM pg_class WHERE relname = ANY($1::text[]) AND relnamespace = $2::regnamespace AND relpages > 0`,
          [scanned, db.schema],
        )
        expect(full.rows, `${label}\n${text}`).toEqual([])
      }
    } finally {
      await client.end()
    }
    expect(await db.store.getJob({ id: '1234' })).toMatchObject({ state: 'succeeded' })
    expect((await db.store.listJobs({ filter: {}, limit: 3 })).map((j) => j.id)).toEqual([
      '30000',
      '29999',
      '29998',
    ])
    expect((await db.store.getJobsByKey({ uniqueKey: 'key-7' })).map((j) => j.id)).toEqual(['29507'])
  })

  it('a claim takes no lock on the history partitions (it reads history only for jobs with dependencies)', async () => {
    const [dep] = await insert(db.store, [{}])
    await insert(db.store, [{}, { dependsOn: [dep!] }])
    const client = new pg.Client({ connectionString: databaseUrl() })
    await client.connect()
    try {
      await client.query('BEGIN')
      const n = names()
      const { rows } = await client.query(claimSql(n)['priority:one'], [
        ['default'],
        ['test'],
        T0,
        null,
        10,
        T0,
        'p:w',
        n.groupLockSpace,
        false,
        null,
        [FRONT.runAt],
        [FRONT.priority],
      ])
      expect(rows).toHaveLength(2)
      const locked = await client.query<{ rel: string }>(
        `SELECT relation::regclass::text AS rel FROM pg_locks WHERE pid = pg_backend_pid() AND relation IS NOT NULL`,
      )
      expect(locked.rows.map((r) => r.rel).filter((r) => r.includes('job_history'))).toEqual([])
      await client.query('ROLLBACK')
    } finally {
      await client.end()
    }
  })

  it('storage health shows the history as one table, its partitions summed', async () => {
    const ids = await insert(db.store, [{}, {}])
    await db.store.claimJobs(claim({ capacity: 2 }))
    await db.store.completeJobs({
      completions: ids.map((id) => ({ id, outcome: 'succeeded' as const })),
      now: T0,
    })
    await db.pool.query(`ANALYZE ${db.table('job_history')}`)
    // Table statistics reach the shared view shortly after the writing transaction ends.
    const tables = await waitFor(async () => {
      const read = (await db.store.storageHealth()).tables
      return (read.find((t) => t.name === 'job_history')?.liveTuples ?? 0) >= 2 ? read : null
    })
    expect(tables.filter((t) => t.name.startsWith('job_history')).map((t) => t.name)).toEqual(['job_history'])
    expect(tables.find((t) => t.name === 'job_history')?.totalBytes).toBeGreaterThan(0)
  })
})

function byNumber(a: string | undefined, b: string | undefined): number {
  return Number(a) - Number(b)
}
