/**
 * Transactional enqueue with Kysely: `db.transaction().execute(async (trx) => queue.enqueue(job,
 * payload, { tx: adaptKyselyTransaction(trx) }))`. The statement runs as a compiled raw query on the
 * transaction without its plugins (a `CamelCasePlugin` would rename the columns the store reads);
 * the values reach the dialect's driver unchanged: tested with `PostgresDialect` (`pg`); a dialect on
 * postgres.js would encode the JSON parameters twice (use `adaptPostgresJsTransaction` on its `sql`).
 */
import type { TransactionHandle } from '../../../core/ports/store.js'
import { notATransaction } from './not-a-transaction.js'

/** The part of a Kysely transaction (the `trx` of `db.transaction().execute`) the adapter uses. */
export interface KyselyTransactionLike {
  readonly isTransaction: boolean
  // `never`: the adapter builds the compiled query itself, so any version's parameter type fits.
  withoutPlugins(): { executeQuery(query: never): PromiseLike<{ rows: unknown[] }> }
}

/** Turns a Kysely transaction (`db.transaction().execute(async (trx) => ...)`) into a transaction handle for `tx`. */
export function adaptKyselyTransaction(trx: KyselyTransactionLike): TransactionHandle {
  const t = trx as Partial<KyselyTransactionLike> | null
  if (typeof t !== 'object' || t === null || typeof t.withoutPlugins !== 'function')
    throw notATransaction('Kysely', trx, 'it has no withoutPlugins() and executeQuery(query) methods')
  if (t.isTransaction !== true)
    throw notATransaction(
      'Kysely',
      trx,
      'it is the Kysely instance, not a transaction, so the job would be enqueued outside it',
    )
  return {
    async query(text, values = []) {
      // The shape of Kysely's `CompiledQuery.raw(text, values)`, built here so Kysely is not imported.
      const compiled = {
        sql: text,
        parameters: Object.freeze([...values]),
        query: Object.freeze({
          kind: 'RawNode',
          sqlFragments: Object.freeze([text]),
          parameters: Object.freeze([]),
        }),
        queryId: Object.freeze({ queryId: 'conveyor' }),
      }
      return trx.withoutPlugins().executeQuery(compiled as never)
    },
  }
}
