/**
 * Transactional enqueue with Knex: `knex.transaction(async (trx) => queue.enqueue(job, payload,
 * { tx: adaptKnexTransaction(trx) }))`. Knex binds `?` placeholders, so the store's `$n` ones are
 * rewritten in order of appearance (values repeated where a placeholder is); Knex passes the values
 * on to `pg` unchanged. A `postProcessResponse` hook that renames result keys is not supported.
 */
import type { TransactionHandle } from '../../../core/ports/store.js'
import { notATransaction } from './not-a-transaction.js'

/** The part of a Knex transaction (the `trx` of `knex.transaction`) the adapter uses. */
export interface KnexTransactionLike {
  raw(sql: string, bindings: readonly unknown[]): PromiseLike<unknown>
  readonly isTransaction?: boolean
}

/** Turns a Knex transaction (`knex.transaction(async (trx) => ...)`) into a transaction handle for `tx`. */
export function adaptKnexTransaction(trx: KnexTransactionLike): TransactionHandle {
  const t = trx as unknown as Partial<KnexTransactionLike> & ((...args: never[]) => unknown)
  if (typeof t !== 'function' || typeof t.raw !== 'function')
    throw notATransaction('Knex', trx, 'it has no raw(sql, bindings) method')
  if (t.isTransaction !== true)
    throw notATransaction(
      'Knex',
      trx,
      'it is the knex instance, not a transaction, so the job would be enqueued outside it',
    )
  return {
    async query(text, values = []) {
      const { sql, bindings } = toKnexBindings(text, values)
      return trx.raw(sql, bindings)
    },
  }
}

/** Rewrites `$n` placeholders to Knex's `?` (escaping literal `?`) with the values in the same order. */
export function toKnexBindings(
  text: string,
  values: readonly unknown[],
): { sql: string; bindings: unknown[] } {
  const bindings: unknown[] = []
  const sql = text.replace(/\?|\$(\d+)/g, (_match, n: string | undefined) => {
    if (n === undefined) return '\\?'
    bindings.push(values[Number(n) - 1])
    return '?'
  })
  return { sql, bindings }
}
