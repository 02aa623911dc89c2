/**
 * Transactional enqueue with Drizzle (`pg-core` drivers such as node-postgres): `db.transaction(async
 * (tx) => queue.enqueue(job, payload, { tx: adaptDrizzleTransaction(tx) }))`. The statement runs
 * through `tx.execute` as an object of the shape of Drizzle's `sql` (its `getSQL().toQuery()` gives the
 * text and the values), so Drizzle is not imported; the driver receives the values unchanged.
 * Tested with node-postgres; the postgres.js driver would encode the JSON parameters twice (use
 * `adaptPostgresJsTransaction` on the `sql` of `sql.begin` there).
 */
import type { TransactionHandle } from '../../../core/ports/store.js'
import { notATransaction } from './not-a-transaction.js'

/** The part of a Drizzle transaction (the `tx` of `db.transaction`) the adapter uses. */
export interface DrizzleTransactionLike {
  // `never`: the adapter builds the `SQLWrapper` itself, so any version's parameter type fits.
  execute(query: never): PromiseLike<unknown>
  rollback(): unknown
}

/** Turns a Drizzle transaction (`db.transaction(async (tx) => ...)`) into a transaction handle for `tx`. */
export function adaptDrizzleTransaction(tx: DrizzleTransactionLike): TransactionHandle {
  const t = tx as Partial<DrizzleTransactionLike> | null
  if (typeof t !== 'object' || t === null || typeof t.execute !== 'function')
    throw notATransaction('Drizzle', tx, 'it has no execute(query) method')
  if (typeof t.rollback !== 'function')
    throw notATransaction(
      'Drizzle',
      tx,
      'it is the database, not a transaction, so the job would be enqueued outside it',
    )
  return {
    async query(text, values = []) {
      const query = { sql: text, params: [...values] }
      const statement = { getSQL: () => statement, toQuery: () => query }
      return tx.execute(statement as never)
    },
  }
}
