/**
 * Upkeep of `job_history` (migration 009): day partitions created ahead, retention by dropping the
 * days wholly past the cutoff (and deleting rows only in the boundary day, the DEFAULT partition and
 * any finished rows still in `jobs`), and the sweep that moves finished rows an older process left
 * in `jobs` into history.
 *
 * Partitions are named by their range: `job_history_<yyyymmdd>` holds that UTC day,
 * `job_history_before_<yyyymmdd>` everything before that day (made by the migration for old rows),
 * `job_history_default` whatever no range holds. DDL runs under a short `lock_timeout`: attaching a
 * partition locks the parent in SHARE ROW EXCLUSIVE mode (completions wait for the attach: one routed
 * with the partitions of before it would put a row of the new day into DEFAULT and fail) and DEFAULT
 * in ACCESS EXCLUSIVE mode while the attach checks DEFAULT holds none of the day's rows (a day whose
 * rows are there is not tried at all), dropping one takes ACCESS
 * EXCLUSIVE on the parent and the DEFAULT partition for a moment (completions wait at most the
 * timeout; a drop that cannot get its lock is left to the next pass, and the rows stay until then).
 */
import type pg from 'pg'
import { copyRowsSql, JOB_TABLE_COLUMN_LIST } from './history-sql.js'
import { queryRows, type SqlTarget } from './queryable.js'
import { lockSpace, quoteIdentifier } from './schema-name.js'
import { fromMs, type SqlNames } from './sql-names.js'

const DAY_MS = 86_400_000
/** Days after today that get their partition ahead of time. */
export const PARTITION_DAYS_AHEAD = 2
/** How long partition DDL waits for its lock before giving up until the next pass. */
const DDL_LOCK_TIMEOUT = '200ms'

/** A history partition and the range its name gives (`upperMs` null: the DEFAULT partition). */
interface Partition {
  readonly name: string
  readonly attached: boolean
  readonly lowerMs: number
  readonly upperMs: number | null
}

/** `yyyymmdd` of the UTC day of `ms`. */
function dayName(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10).replaceAll('-', '')
}

/** Epoch ms of the start of UTC day `yyyymmdd`. */
function dayStart(yyyymmdd: string): number {
  return Date.UTC(
    Number(yyyymmdd.slice(0, 4)),
    Number(yyyymmdd.slice(4, 6)) - 1,
    Number(yyyymmdd.slice(6, 8)),
  )
}

/** The schema's `job_history_*` tables, attached or not, with the range their names give. */
export async function listPartitions(target: SqlTarget, names: SqlNames): Promise<Partition[]> {
  const rows = await queryRows<{ name: string; attached: boolean }>(target, {
    text: `SELECT c.relname AS name, c.relispartition AS attached FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1::text AND c.relkind = 'r' AND c.relname LIKE 'job\\_history\\_%'`,
    values: [names.schema],
  })
  const partitions: Partition[] = []
  for (const { name, attached } of rows) {
    const day = /^job_history_(\d{8})$/.exec(name)?.[1]
    const before = /^job_history_before_(\d{8})$/.exec(name)?.[1]
    if (day) partitions.push({ name, attached, lowerMs: dayStart(day), upperMs: dayStart(day) + DAY_MS })
    else if (before) partitions.push({ name, attached, lowerMs: -Infinity, upperMs: dayStart(before) })
    else if (name === 'job_history_default')
      partitions.push({ name, attached, lowerMs: -Infinity, upperMs: null })
  }
  return partitions
}

/** The database's time in epoch ms. */
async function databaseNow(target: SqlTarget): Promise<number> {
  const [row] = await queryRows<{ now: number }>(target, {
    text: `SELECT date_part('epoch', now()) * 1000 AS now`,
    values: [],
  })
  return row?.now ?? Date.now()
}

/** Runs `work` in a transaction on one pooled connection under `lock_timeout`; false when it failed. */
async function ddl(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<void>): Promise<boolean> {
  const client = await pool.connect()
  let broken = false
  const onError = () => {
    broken = true
  }
  client.on('error', onError)
  try {
    await client.query('BEGIN')
    await client.query(`SET LOCAL lock_timeout = '${DDL_LOCK_TIMEOUT}'`)
    await work(client)
    await client.query('COMMIT')
    return true
  } catch {
    await client.query('ROLLBACK').catch(() => {
      broken = true
    })
    return false
  } finally {
    client.removeListener('error', onError)
    client.release(broken)
  }
}

/** Whether the DEFAULT partition holds a row finished in [lowerMs, upperMs) (one probe of its BRIN index). */
async function defaultHolds(
  target: SqlTarget,
  names: SqlNames,
  lowerMs: number,
  upperMs: number,
): Promise<boolean> {
  const [row] = await queryRows<{ found: boolean }>(target, {
    text: `SELECT EXISTS (SELECT 1 FROM ${names.quotedSchema}.job_history_default
      WHERE finished_at >= ${fromMs('$1')} AND finished_at < ${fromMs('$2')}) AS found`,
    values: [lowerMs, upperMs],
  })
  return row?.found ?? false
}

/**
 * Creates the partitions of the UTC days from `now`'s to `PARTITION_DAYS_AHEAD` later that are
 * missing (and not covered by a `before_` partition). Each is created empty and then attached, so
 * the parent is only SHARE UPDATE EXCLUSIVE locked; the attach scans the DEFAULT partition for rows
 * of that day (normally none) and fails when it finds some, leaving them there. Returns the names
 * created. One process at a time (a transaction-level advisory lock; the others skip).
 */
export async function ensurePartitions(pool: pg.Pool, names: SqlNames, now?: number): Promise<string[]> {
  const at = now ?? (await databaseNow(pool))
  const existing = await listPartitions(pool, names)
  const created: string[] = []
  for (let k = 0; k <= PARTITION_DAYS_AHEAD; k++) {
    const lower = Math.floor(at / DAY_MS) * DAY_MS + k * DAY_MS
    const name = `job_history_${dayName(lower)}`
    if (
      existing.some(
        (p) => p.name === name || (p.upperMs !== null && p.lowerMs < lower + DAY_MS && p.upperMs > lower),
      )
    )
      continue
    // A day whose rows already sit in DEFAULT cannot be attached (the attach would fail after its scan);
    // and trying queues the ACCESS EXCLUSIVE lock it needs on DEFAULT ahead of the completions writing
    // there. It keeps its rows in DEFAULT until they are pruned (see `pruneHistory`).
    if (await defaultHolds(pool, names, lower, lower + DAY_MS)) continue
    const table = `${names.quotedSchema}.${quoteIdentifier(name)}`
    const ok = await ddl(pool, async (client) => {
      const [lock] = (
        await client.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1::int, 0) AS ok', [
          lockSpace(names.schema, 'history'),
        ])
      ).rows
      if (!lock?.ok) throw new Error('another process maintains the partitions')
      // Writers of history wait for the attach (at most the lock timeout to get in, then the attach
      // itself): an insert that routed its row with the partitions of before the attach would put a
      // row of the new day into DEFAULT and fail DEFAULT's new constraint.
      await client.query(`LOCK TABLE ${names.history} IN SHARE ROW EXCLUSIVE MODE`)
      await client.query(
        `CREATE TABLE ${table} (LIKE ${names.history} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)`,
      )
      await client.query(
        `ALTER TABLE ${names.history} ATTACH PARTITION ${table} FOR VALUES FROM (${fromMs(String(lower))}) TO (${fromMs(String(lower + DAY_MS))})`,
      )
    })
    if (ok) created.push(name)
  }
  return created
}

/**
 * Drops every history partition whose whole range is before `finishedBefore` (the DEFAULT partition
 * never), counting its rows first under a SHARE lock (nothing can change them between the count and
 * the drop). Returns the rows dropped. A partition whose lock is not granted within the timeout stays
 * for the next pass.
 */
export async function dropExpiredPartitions(
  pool: pg.Pool,
  names: SqlNames,
  finishedBefore: number,
): Promise<number> {
  const expired = (await listPartitions(pool, names)).filter(
    (p) => p.upperMs !== null && p.upperMs <= finishedBefore,
  )
  let dropped = 0
  for (const p of expired) {
    const table = `${names.quotedSchema}.${quoteIdentifier(p.name)}`
    let rows = 0
    const ok = await ddl(pool, async (client) => {
      await client.query(`LOCK TABLE ${table} IN SHARE MODE`)
      const [count] = (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows
      rows = count?.n ?? 0
      await client.query(`DROP TABLE ${table}`)
    })
    if (ok) dropped += rows
  }
  return dropped
}

/**
 * Deletes up to `limit` rows finished before `finishedBefore`, oldest first, from the history
 * partitions still there (the boundary day, the DEFAULT partition, a day whose drop was refused) and
 * then from `jobs` (finished rows an older process left there). Returns the count.
 */
export async function deleteExpiredRows(
  target: SqlTarget,
  names: SqlNames,
  finishedBefore: number,
  limit: number,
): Promise<number> {
  const [row] = await queryRows<{ count: number }>(target, {
    name: `${names.statementPrefix}prune`,
    text: `WITH old AS (
        SELECT o.id FROM ${names.history} o
        WHERE o.finished_at < ${fromMs('$1')}
        ORDER BY o.finished_at
        LIMIT $2::int
        FOR UPDATE SKIP LOCKED
      ), deleted AS (
        DELETE FROM ${names.history} h
        WHERE h.id = ANY(ARRAY(SELECT id FROM old)) AND h.finished_at < ${fromMs('$1')}
        RETURNING 1
      ), deleted_live AS (
        DELETE FROM ${names.jobs} j
        WHERE j.id = ANY(ARRAY(
          SELECT o.id FROM ${names.jobs} o
          WHERE o.finished_at < ${fromMs('$1')}
          ORDER BY o.finished_at
          LIMIT greatest($2::int - (SELECT count(*) FROM old), 0)
          FOR UPDATE SKIP LOCKED
        ))
        RETURNING 1
      )
      SELECT ((SELECT count(*) FROM deleted) + (SELECT count(*) FROM deleted_live))::int AS count`,
    values: [finishedBefore, Math.floor(limit)],
  })
  return row?.count ?? 0
}

/**
 * Moves up to `limit` finished rows from `jobs` to history, oldest first (rows a process of the
 * previous version completed after the migration). Locked rows are skipped. Returns the count.
 */
export async function sweepFinished(target: SqlTarget, names: SqlNames, limit: number): Promise<number> {
  const [row] = await queryRows<{ count: number }>(target, {
    name: `${names.statementPrefix}sweep_finished`,
    text: `WITH moved AS (
        DELETE FROM ${names.jobs} j
        WHERE j.id = ANY(ARRAY(
          SELECT o.id FROM ${names.jobs} o WHERE o.finished_at IS NOT NULL
          ORDER BY o.finished_at LIMIT $1::int FOR UPDATE SKIP LOCKED
        )) AND j.finished_at IS NOT NULL
        RETURNING ${JOB_TABLE_COLUMN_LIST}
      ), archived AS (
        ${copyRowsSql(names.history, 'moved')}
        RETURNING 1
      )
      SELECT count(*)::int AS count FROM archived`,
    values: [Math.floor(limit)],
  })
  return row?.count ?? 0
}

/** At most this often (process time, a rate limit only) a store checks for the coming days' partitions. */
const ENSURE_INTERVAL_MS = 60_000

/**
 * The history upkeep one store runs from its maintenance calls: `prune` (retention) and `afterRescue`
 * (the rescue pass, which every process runs every few seconds whether or not retention is on).
 */
export class HistoryUpkeep {
  readonly #pool: pg.Pool
  readonly #names: SqlNames
  #ensuredAt = Number.NEGATIVE_INFINITY

  constructor(pool: pg.Pool, names: SqlNames) {
    this.#pool = pool
    this.#names = names
  }

  /** Retention: drops the expired days, then deletes up to `limit` expired rows; returns the count. */
  async prune(target: SqlTarget, finishedBefore: number, limit: number): Promise<number> {
    if (!(limit >= 1)) return 0
    await this.#ensure(undefined)
    const dropped = await dropExpiredPartitions(this.#pool, this.#names, finishedBefore)
    return dropped + (await deleteExpiredRows(target, this.#names, finishedBefore, limit))
  }

  /** Sweeps up to `limit` finished rows out of `jobs` and, at most once a minute, creates partitions ahead. */
  async afterRescue(target: SqlTarget, now: number | undefined, limit: number): Promise<void> {
    await sweepFinished(target, this.#names, limit)
    await this.#ensure(now)
  }

  async #ensure(now: number | undefined): Promise<void> {
    const at = performance.now()
    if (at - this.#ensuredAt < ENSURE_INTERVAL_MS) return
    this.#ensuredAt = at
    await ensurePartitions(this.#pool, this.#names, now)
  }
}
