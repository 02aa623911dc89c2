/**
 * The `time` strategy's claim index, built on demand. Since migration 011 a schema has it only once a
 * process starts or claims with `time`: each waiting job's entry in it costs every enqueue a write,
 * and only `time` claims read it. Built once per schema whatever the number of processes: under a
 * session advisory lock, the catalog checked again once the lock is held.
 *
 * The lock is taken with `pg_try_advisory_lock` and, when another process holds it, tried again after
 * a pause, never waited for in a statement: `CREATE INDEX CONCURRENTLY` waits for every session whose
 * snapshot is older than its own, and a session waiting in `pg_advisory_lock` holds one, so the two
 * would wait for each other until the deadlock detector cancelled one of them.
 */
import type pg from 'pg'
import { IndexBuildPendingError, SchemaPrivilegeError } from '../../core/domain/errors.js'
import { errorCode, translateError } from './errors.js'
import { claimableSql, type SqlNames } from './sql-names.js'

/** The index's name, as migration 001 named it. */
export const TIME_INDEX = 'jobs_claim_time_idx'

/**
 * Below this size of the `jobs` table the index is built with a plain `CREATE INDEX`: it blocks
 * writes to the table while it builds, which at this size is a short moment, and it does not wait,
 * as `CONCURRENTLY` does, for every transaction of the database that is open when it starts (a long
 * one would hold back the worker's start). Above it the build may take seconds: `CONCURRENTLY`,
 * which lets inserts, claims and completions go on meanwhile.
 */
export const PLAIN_BUILD_MAX_BYTES = 4 * 1024 * 1024

/**
 * How long the plain build waits for its lock on `jobs` (writers in flight hold a conflicting one)
 * before it gives up and builds `CONCURRENTLY` instead; the writers queued behind it wait at most this.
 */
const PLAIN_BUILD_LOCK_TIMEOUT = '200ms'

/**
 * How long a queue's start waits for the index to be built (the default of the store's
 * `timeIndexWaitMs`), and how long a claim by time waits once for a build it started: past these the
 * build goes on in the background (see PostgresStore).
 */
export const TIME_INDEX_WAIT_MS = 30_000
export const CLAIM_TIME_INDEX_WAIT_MS = 1000

/** The first and the longest pause between two tries of the lock another process's build holds. */
const LOCK_RETRY_FIRST_MS = 20
const LOCK_RETRY_MAX_MS = 1000

/** The statement that creates the index, with the definition of migration 013. */
export function timeIndexSql(names: SqlNames, concurrently: boolean): string {
  return `CREATE INDEX ${concurrently ? 'CONCURRENTLY ' : ''}${TIME_INDEX} ON ${names.jobs} (queue, run_at, id) WHERE ${claimableSql()}`
}

/** The statement that drops a leftover of a failed concurrent build. */
function dropSql(names: SqlNames): string {
  return `DROP INDEX CONCURRENTLY IF EXISTS ${names.quotedSchema}.${TIME_INDEX}`
}

type IndexState = 'valid' | 'invalid' | 'missing'

/**
 * Whether the schema has the index, and whether it is valid: a failed concurrent build leaves an
 * invalid one, and one built with the predicate before migration 013 (by a process of version 012
 * during an upgrade, or by hand) still holds the jobs set aside behind their groups, so it counts as
 * invalid too and is replaced.
 */
async function indexState(target: pg.Pool | pg.PoolClient, names: SqlNames): Promise<IndexState> {
  const { rows } = await target.query<{ valid: boolean }>(
    `SELECT i.indisvalid AND coalesce(pg_get_expr(i.indpred, i.indrelid) LIKE '%group_behind%', false) AS valid
     FROM pg_index i WHERE i.indexrelid = to_regclass($1::text)`,
    [`${names.quotedSchema}.${TIME_INDEX}`],
  )
  const row = rows[0]
  return row === undefined ? 'missing' : row.valid ? 'valid' : 'invalid'
}

/**
 * Makes sure the schema has a valid `jobs_claim_time_idx`, building it when it is missing (and
 * replacing an invalid one). Returns true when this call built it. Throws `SchemaPrivilegeError`
 * when the role may not create it (it does not own `jobs`), with the statements the owner can run.
 */
export async function ensureTimeIndex(pool: pg.Pool, names: SqlNames): Promise<boolean> {
  if ((await indexState(pool, names)) === 'valid') return false
  const client = await pool.connect()
  let broken: Error | undefined
  // A checked-out client has no 'error' listener of the pool's (see migrate.ts).
  const onClientError = (error: Error) => {
    broken ??= error
  }
  client.on('error', onClientError)
  let state: IndexState = 'missing'
  try {
    // A statement_timeout of the role or the pool would cancel a long concurrent build, leaving an
    // invalid index that every `time` claim would then start building again. The connection is
    // discarded afterwards (below), so the setting does not outlive this build.
    await client.query('SET statement_timeout = 0')
    await lockIndexBuilds(client, names)
    try {
      state = await indexState(client, names)
      if (state === 'valid') return false
      if (state === 'invalid') await client.query(dropSql(names))
      await build(client, names)
      return true
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::int, 0)', [names.indexLockSpace])
    }
  } catch (error) {
    // The connection may still hold the lock or an open transaction: it is discarded.
    broken ??= error instanceof Error ? error : new Error(String(error))
    if (errorCode(error) === '42501') throw privilegeError(names, state, error)
    throw error
  } finally {
    client.removeListener('error', onClientError)
    client.release(broken ?? true)
  }
}

/** Takes the schema's index-build lock on `client`, trying again with growing pauses while another session holds it. */
async function lockIndexBuilds(client: pg.PoolClient, names: SqlNames): Promise<void> {
  for (let pauseMs = LOCK_RETRY_FIRST_MS; ; pauseMs = Math.min(pauseMs * 2, LOCK_RETRY_MAX_MS)) {
    const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::int, 0) AS ok', [
      names.indexLockSpace,
    ])
    if (rows[0]?.ok) return
    await new Promise((resolve) => setTimeout(resolve, pauseMs))
  }
}

/** Builds the index: plainly on a small table if its lock comes within the timeout, else concurrently. */
async function build(client: pg.PoolClient, names: SqlNames): Promise<void> {
  const { rows } = await client.query<{ bytes: string }>(
    'SELECT pg_relation_size($1::text::regclass)::text AS bytes',
    [names.jobs],
  )
  if (Number(rows[0]?.bytes) < PLAIN_BUILD_MAX_BYTES) {
    await client.query('BEGIN')
    try {
      await client.query(`SET LOCAL lock_timeout = '${PLAIN_BUILD_LOCK_TIMEOUT}'`)
      await client.query(timeIndexSql(names, false))
      await client.query('COMMIT')
      return
    } catch (error) {
      await client.query('ROLLBACK')
      if (errorCode(error) !== '55P03') throw error
    }
  }
  try {
    await client.query(timeIndexSql(names, true))
  } catch (error) {
    // A failed concurrent build leaves an invalid index behind; the next ensure drops it if this cannot.
    await client.query(dropSql(names)).catch(() => {})
    throw error
  }
}

/** The error for a role that may not create (or drop) the index, with what the table's owner can run instead. */
function privilegeError(names: SqlNames, state: IndexState, cause: unknown): SchemaPrivilegeError {
  const detail = cause instanceof Error ? cause.message : String(cause)
  const statements = [...(state === 'invalid' ? [`${dropSql(names)};`] : []), `${timeIndexSql(names, true)};`]
  return new SchemaPrivilegeError(
    `Workers with strategy 'time' need the index ${TIME_INDEX} on ${names.jobs}, and this database role cannot create it (${detail}; only the table's owner can). ` +
      `Have the owner of table ${names.jobs} run once: ${statements.join(' ')} Then start again (workers with strategy 'priority' do not need it).`,
    { cause },
  )
}

/**
 * One store's view of the index: builds it once (again after a failure) and waits for the build at
 * most as long as each caller says. Past that the build goes on in the background: `onError` hears
 * of it (`IndexBuildPendingError`, and the build's own error if it then fails), and until it ends no
 * caller waits for it again (claims by time run without the index meanwhile). An error of the build
 * within the wait is thrown to the caller.
 */
export class TimeIndexKeeper {
  readonly #pool: pg.Pool
  readonly #names: SqlNames
  readonly #onError: (error: unknown) => void
  #build: Promise<void> | null = null
  /** Whether this store saw the index built (or already there). */
  #built = false
  /** The build nothing waits for any more (it outlasted a wait), while it goes on. */
  #pending: Promise<void> | null = null

  constructor(pool: pg.Pool, names: SqlNames, onError: (error: unknown) => void) {
    this.#pool = pool
    this.#names = names
    this.#onError = onError
  }

  /** Makes sure the schema has the index, waiting for a build at most `waitMs`. */
  async wait(waitMs: number): Promise<void> {
    if (this.#built) return
    const build = this.#ensure()
    if (this.#pending === build) return
    let timer: ReturnType<typeof setTimeout> | undefined
    const timedOut = new Promise<'pending'>((resolve) => {
      timer = setTimeout(() => resolve('pending'), waitMs)
    })
    try {
      if ((await Promise.race([build, timedOut])) !== 'pending') return
    } finally {
      clearTimeout(timer)
    }
    this.#pending = build
    this.#onError(
      new IndexBuildPendingError(
        `The index ${this.#names.quotedSchema}.${TIME_INDEX}, which workers with strategy 'time' claim through, is still being built after ${waitMs} ms: CREATE INDEX CONCURRENTLY waits for every transaction that was open when it began (look for long-running or idle-in-transaction sessions in pg_stat_activity). Until it is built, claims by time read the claim index and sort.`,
      ),
    )
    build.then(
      () => {
        if (this.#pending === build) this.#pending = null
      },
      (error: unknown) => {
        if (this.#pending === build) this.#pending = null
        this.#onError(translateError(error, this.#names.schema, "creating the 'time' strategy's index"))
      },
    )
  }

  /** The build (or check) in progress or done; a failed one is forgotten, so the next call tries again. */
  #ensure(): Promise<void> {
    if (!this.#build) {
      const build = ensureTimeIndex(this.#pool, this.#names).then(() => {
        this.#built = true
      })
      this.#build = build
      build.catch(() => {
        if (this.#build === build) this.#build = null
      })
    }
    return this.#build
  }
}
