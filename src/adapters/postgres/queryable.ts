/**
 * How the store runs SQL: on its pool with named prepared statements, or on a caller's transaction
 * handle (any object with `query(text, values)`) with plain text, whichever shape of result it returns.
 */
import pg from 'pg'
import { InvalidArgumentError } from '../../core/domain/errors.js'
import type { TransactionHandle } from '../../core/ports/store.js'

/** One SQL statement: a stable name (prepared once per connection) unless run ad hoc, text and values. */
export interface Statement {
  readonly name?: string
  readonly text: string
  readonly values: readonly unknown[]
}

/** The level a statement of a session runs at when it begins no transaction of its own. */
export const ISOLATION_SQL = `SELECT current_setting('transaction_isolation') AS level`

/**
 * A pool whose sessions default to an isolation level above READ COMMITTED (a database's or role's
 * default), seen as one that runs each statement in a `BEGIN ISOLATION LEVEL READ COMMITTED`
 * transaction of its own: Conveyor's group checks and releases must read what committed before they
 * took a group's lock (docs/postgres.md, "Isolation levels"). Each statement stays its own
 * transaction, as on the pool itself; it costs two more round trips, only on such a pool.
 */
export class ReadCommittedPool {
  constructor(readonly pool: pg.Pool) {}

  /** Runs `statement` at READ COMMITTED on a connection of the pool; returns its rows. */
  rows<R>(statement: Statement): Promise<R[]> {
    return inReadCommitted(this.pool, (db) => queryRows<R>(db, statement))
  }

  /** `rows` for code that calls `query(text, values)` on a caller's transaction handle. */
  async query(text: string, values?: readonly unknown[]): Promise<{ rows: unknown[] }> {
    return { rows: await this.rows({ text, values: values ?? [] }) }
  }
}

/**
 * Where a statement runs: the store's pool (as it is, or each statement at READ COMMITTED), a client
 * of it, or the caller's transaction.
 */
export type SqlTarget = pg.Pool | pg.PoolClient | ReadCommittedPool | TransactionHandle

/** Runs a statement and returns its rows; named statements are prepared where the target is `pg`'s. */
export async function queryRows<R>(target: SqlTarget, statement: Statement): Promise<R[]> {
  if (target instanceof ReadCommittedPool) return target.rows<R>(statement)
  if (target instanceof pg.Pool || target instanceof pg.Client) {
    const result = await (target as pg.Pool).query({
      name: statement.name,
      text: statement.text,
      values: statement.values as unknown[],
    })
    return result.rows as R[]
  }
  const result = await target.query(statement.text, statement.values as unknown[])
  return rowsOf<R>(result)
}

/** Extracts rows from the result of a caller's `query`: `pg`'s `{ rows }` or a plain array. */
function rowsOf<R>(result: unknown): R[] {
  if (Array.isArray(result)) return result as R[]
  const rows = (result as { rows?: unknown } | null | undefined)?.rows
  if (Array.isArray(rows)) return rows as R[]
  throw new InvalidArgumentError(
    'The transaction handle passed as tx returned no rows: its query(text, values) must resolve to { rows: [...] } (like pg) or an array of rows.',
  )
}

/**
 * Runs `fn` in a READ COMMITTED transaction of its own when `target` is a pool (a checked-out
 * connection); on a connection or a caller's transaction, as it is.
 */
export async function inReadCommitted<T>(target: SqlTarget, fn: (db: SqlTarget) => Promise<T>): Promise<T> {
  if (!(target instanceof pg.Pool)) return fn(target)
  const client = await target.connect()
  // While checked out the pool does not listen for the client's errors; an unheard 'error' (the
  // server ending the connection) would crash the process. A broken connection is discarded.
  let broken: Error | undefined
  const onClientError = (error: Error) => {
    broken ??= error
  }
  client.on('error', onClientError)
  let clean = false
  try {
    await client.query('BEGIN ISOLATION LEVEL READ COMMITTED')
    const result = await fn(client)
    await client.query('COMMIT')
    clean = true
    return result
  } finally {
    if (!clean) await client.query('ROLLBACK').catch(() => {})
    client.removeListener('error', onClientError)
    client.release(clean && broken === undefined ? undefined : (broken ?? true))
  }
}
