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

/** Where a statement runs: the store's pool, a client of it, or the caller's transaction. */
export type SqlTarget = pg.Pool | pg.PoolClient | TransactionHandle

/** Runs a statement and returns its rows; named statements are prepared where the target is `pg`'s. */
export async function queryRows<R>(target: SqlTarget, statement: Statement): Promise<R[]> {
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
