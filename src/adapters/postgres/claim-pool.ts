/**
 * A small pool used only for claims, with `synchronous_commit = off` on its sessions. A claim
 * needs no durability: if the server crashes before the claim reaches disk, the job simply was
 * never claimed and stays available. Skipping the WAL flush makes a claim a fraction of a
 * millisecond instead of a disk sync, the largest single cost of a claim. JIT is off on these
 * sessions, and their plans are fixed (see below). Completions and inserts stay on the caller's pool
 * with full durability.
 */
import pg from 'pg'
import { ISOLATION_SQL, queryRows, ReadCommittedPool, type SqlTarget } from './queryable.js'

/**
 * Session settings of the claim pool (server-side options at connection start).
 * JIT off: the claim's LIMIT makes it cheap, but with many rows in the table the planner's total
 * cost estimate passes jit_above_cost and every claim paid a JIT compilation far dearer than the claim.
 * One generic plan per session: each claim otherwise planned itself again (custom plans win the
 * planner's comparison), a large share of its server time. Sequential scans off: a generic plan
 * made while the table was empty or never analyzed (autovacuum off) otherwise stays a full scan
 * per claim for the life of the session; every statement run here has an index path. Sorts off: a
 * plan made while the statistics show a few waiting jobs (a held xmin horizon: the claimed ones left,
 * their dead versions stay) read another index of waiting jobs and sorted what it found, so the claim
 * could not start at its cursor and walked every dead entry; the claim index gives the claim's order
 * without a sort, and the sorts every plan shares (over the few locked rows) cost each plan the same.
 * READ COMMITTED whatever the database's or role's default: a claim's group checks (`claim_group_turn`)
 * must read what committed before they took the group's lock, which a REPEATABLE READ snapshot, taken
 * when the statement starts, does not show (two jobs of a `release` group could start at once).
 */
export const CLAIM_SESSION_SETTINGS =
  '-c synchronous_commit=off -c jit=off -c plan_cache_mode=force_generic_plan -c enable_seqscan=off -c enable_sort=off -c default_transaction_isolation=read\\ committed'

/** Creates the claim pool from the main pool's settings, or returns null where that is not possible. */
export function createClaimPool(
  main: pg.Pool,
  onError: ((error: unknown) => void) | undefined,
): pg.Pool | null {
  const options = (main as { options?: pg.PoolConfig & { Client?: unknown } }).options
  // A pool with its own Client class (e.g. an embedded database) cannot be duplicated safely.
  if (!options || (options.Client !== undefined && options.Client !== pg.Client)) return null
  // `pg` lets the connection string's `options` parameter replace the `options` field: taken out of
  // the URL, it comes first and the claim settings after it, so they win.
  const url = withoutUrlOptions(options.connectionString)
  const startup = [url.options ?? options.options, CLAIM_SESSION_SETTINGS].filter(Boolean).join(' ')
  const pool = new pg.Pool({
    ...options,
    ...(url.connectionString === undefined ? {} : { connectionString: url.connectionString }),
    max: 2,
    options: startup,
    allowExitOnIdle: true,
  })
  pool.on('error', (error) => onError?.(error))
  return pool
}

/**
 * A URL connection string without its `options` query parameter, and that parameter's value; a
 * string that is not a URL (or has no `options`) as it is.
 */
export function withoutUrlOptions(connectionString: string | undefined): {
  connectionString?: string
  options?: string
} {
  if (connectionString === undefined) return {}
  let url: URL
  try {
    url = new URL(connectionString)
  } catch {
    return { connectionString }
  }
  const options = url.searchParams.get('options')
  if (options === null) return { connectionString }
  url.searchParams.delete('options')
  return { connectionString: url.toString(), options }
}

/**
 * Where claims run: `pool` (the claim pool, whose sessions start at READ COMMITTED), its level
 * checked once, on the first claim, since settings a connection string forces could still override
 * it; then each claim runs in a READ COMMITTED transaction of its own there (`ReadCommittedPool`).
 */
export function claimTarget(pool: pg.Pool): () => Promise<SqlTarget> {
  let checked: Promise<SqlTarget> | null = null
  return () => {
    if (!checked) {
      const check = (async () => {
        const [row] = await queryRows<{ level: string }>(pool, { text: ISOLATION_SQL, values: [] })
        return row?.level === 'read committed' ? pool : new ReadCommittedPool(pool)
      })()
      checked = check
      check.catch(() => {
        if (checked === check) checked = null
      })
    }
    return checked
  }
}
