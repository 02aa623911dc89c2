/**
 * The ambient transaction: `withTransaction(tx, fn)` makes `tx` the transaction of every
 * `enqueue`/`enqueueMany` of a Postgres queue that `fn` runs (directly or through awaited calls)
 * and that passes no `tx` of its own, so producer code deep in a call tree need not carry it.
 * It lives in Node's `AsyncLocalStorage`: scoped to the callback's async context, so concurrent
 * and nested callbacks each see their own transaction and nothing outside sees any.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { looksLikeConnectionPool, poolAsTransactionMessage } from '../../core/domain/enqueue-options.js'
import { InvalidArgumentError } from '../../core/domain/errors.js'
import { describe } from '../../core/domain/validation.js'
import type { TransactionHandle } from '../../core/ports/store.js'
import { adapterHint } from './clients/not-a-transaction.js'

/**
 * The async context holding the ambient transaction. One per module, like any async context key:
 * it holds nothing itself, only each callback's own value for that callback's async context.
 */
const ambient = new AsyncLocalStorage<TransactionHandle>()

/**
 * Runs `fn` with `tx` as the ambient transaction: enqueues on a Postgres queue inside `fn` that pass
 * no `tx` option run in `tx` (an explicit `tx` still wins). `tx` is a `pg` client or any transaction
 * handle, such as `adaptKnexTransaction(trx)`; call this inside the client's transaction callback,
 * and await everything that enqueues before it returns (work `fn` leaves running keeps the context
 * after the transaction ended). The memory adapter ignores it: there, pass `{ tx }` explicitly.
 */
export async function withTransaction<T>(tx: TransactionHandle, fn: () => T | Promise<T>): Promise<T> {
  if (looksLikeConnectionPool(tx))
    throw new InvalidArgumentError(poolAsTransactionMessage('withTransaction(tx, fn): tx'))
  if (typeof tx !== 'object' || tx === null || typeof (tx as Partial<TransactionHandle>).query !== 'function')
    throw new InvalidArgumentError(
      `withTransaction(tx, fn) needs a transaction handle with a query(text, values) method (a pg client inside BEGIN ... COMMIT, or an adapted client transaction); got ${describe(tx)}.${adapterHint(tx)}`,
    )
  if (typeof fn !== 'function')
    throw new InvalidArgumentError(`withTransaction(tx, fn) needs a function to run; got ${describe(fn)}.`)
  return await ambient.run(tx, fn)
}

/** The ambient transaction of the current async context (see `withTransaction`), if any. */
export function ambientTransaction(): TransactionHandle | undefined {
  return ambient.getStore()
}

/**
 * Enqueue options with the ambient transaction as `tx` when they set none; anything that is not an
 * options object is returned as it is, for the queue to reject.
 */
export function withAmbientTransaction<O>(options: O): O | { tx: TransactionHandle } {
  const tx = ambient.getStore()
  if (tx === undefined) return options
  if (options === undefined) return { tx }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return options
  if ((options as { tx?: unknown }).tx !== undefined) return options
  return { ...options, tx }
}
