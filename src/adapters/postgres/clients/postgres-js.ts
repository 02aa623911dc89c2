/**
 * Transactional enqueue with postgres.js: `sql.begin(async (sql) => queue.enqueue(job, payload,
 * { tx: adaptPostgresJsTransaction(sql) }))`. postgres.js serializes a parameter by the type the
 * server describes for it (a JSON string bound to `jsonb` would be encoded twice), so every value
 * is sent as text, formatted as `pg` formats it, and the store's explicit casts convert it. Result
 * keys renamed by a `transform` (`postgres.camel`, `pascal`, `kebab`) are read back in snake_case.
 */
import { createRequire } from 'node:module'
import type { TransactionHandle } from '../../../core/ports/store.js'
import { notATransaction } from './not-a-transaction.js'

/** The part of a postgres.js transaction (the `sql` of `sql.begin`) the adapter uses. */
export interface PostgresJsTransactionLike {
  unsafe(query: string, parameters: never[]): PromiseLike<unknown>
  typed(value: string, oid: number): unknown
  savepoint: unknown
}

/** `pg`'s own formatting of a value as query text (arrays as array literals, objects as JSON). */
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue(value: unknown): unknown
}

/** The OID of `text`. */
const TEXT_OID = 25

/** Turns a postgres.js transaction (`sql.begin(async (sql) => ...)`) into a transaction handle for `tx`. */
export function adaptPostgresJsTransaction(sql: PostgresJsTransactionLike): TransactionHandle {
  const s = sql as unknown as Partial<PostgresJsTransactionLike> & ((...args: never[]) => unknown)
  if (typeof s !== 'function' || typeof s.unsafe !== 'function' || typeof s.typed !== 'function')
    throw notATransaction(
      'postgres.js',
      sql,
      'it has no unsafe(query, parameters) and typed(value, oid) methods',
    )
  if (typeof s.savepoint !== 'function')
    throw notATransaction(
      'postgres.js',
      sql,
      'it is the root sql, not a transaction, so the job would be enqueued outside it',
    )
  return {
    async query(text, values = []) {
      const parameters = values.map((v) => {
        const value = prepareValue(v)
        return value === null ? null : sql.typed(String(value), TEXT_OID)
      })
      const rows = (await sql.unsafe(text, parameters as never[])) as Record<string, unknown>[]
      return rows.map(snakeCaseKeys)
    },
  }
}

/** The row with its keys back in snake_case (the store's column names are lowercase snake_case). */
function snakeCaseKeys(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(row)) {
    out[
      key
        .replace(/-/g, '_')
        .replace(/(?<!^)[A-Z]/g, (c) => `_${c}`)
        .toLowerCase()
    ] = value
  }
  return out
}
