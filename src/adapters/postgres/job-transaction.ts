/**
 * Transactional execution: a job's own transaction on one pooled connection. `runInTransaction`
 * checks a client out, `BEGIN`s, hands the caller a guarded handle, then `COMMIT`s or `ROLLBACK`s
 * and always gives the client back (destroyed when its state is unknown).
 *
 * The handle, not the client, is what handlers get as `ctx.tx`: the core stops waiting for a
 * handler that timed out or was cancelled while the handler may still run, and its late queries
 * must not land on a connection the pool has since handed to someone else (outside any transaction,
 * or inside another job's). Once the transaction has ended, the handle refuses every query.
 *
 * A statement such a handler left running (a lock wait, a slow report, an open cursor) is cancelled
 * and its connection destroyed instead of rolled back (`endWithoutCommit`), so neither the job's
 * retry, its worker's slot nor shutdown waits for it, and the transaction's locks go at once.
 */
import type pg from 'pg'
import { ConveyorError, LifecycleError } from '../../core/domain/errors.js'
import type { TransactionHandle } from '../../core/ports/store.js'
import { sendCancelRequest } from './cancel-request.js'
import { pgClientBusy } from './pg-client-state.js'

/** `COMMIT` ended in a rollback (a statement of the transaction had failed); nothing was written. */
export class TransactionRolledBackError extends ConveyorError {
  constructor(message: string) {
    super('TRANSACTION_ROLLED_BACK', message)
  }
}

/** The `ctx.tx` of a transactional job: forwards `query` to the transaction's connection while it is open. */
export class JobTransaction implements TransactionHandle {
  #client: pg.PoolClient | null
  /** Work for after the commit, on other connections (see `afterCommit`). */
  readonly #afterCommit: (() => Promise<unknown>)[] = []
  /** Set the session's default isolation level back before the connection returns to the pool. */
  #resetIsolation = false
  /** Queries sent through the handle that have not settled (promise-style calls only). */
  #inFlight = 0

  /** Wraps a client on which `BEGIN` has run. */
  constructor(client: pg.PoolClient) {
    this.#client = client
  }

  /**
   * Runs `work` once the transaction of `handle` has committed (not if it rolls back), before
   * `runInTransaction` returns; its failure goes to `onError`, since the transaction's writes stand.
   * False when `handle` is not a `JobTransaction` (nothing is registered).
   */
  static afterCommit(handle: TransactionHandle, work: () => Promise<unknown>): boolean {
    if (!(handle instanceof JobTransaction)) return false
    handle.#afterCommit.push(work)
    return true
  }

  /**
   * Sets the connection's default isolation level back to its session's start value after the
   * commit (a handler ran `SET SESSION CHARACTERISTICS AS TRANSACTION ...` in it): the pool's next
   * user of the connection, Conveyor's own statements included, must not inherit it.
   */
  static resetIsolationAfterCommit(handle: TransactionHandle): void {
    if (handle instanceof JobTransaction) handle.#resetIsolation = true
  }

  /** Whether `resetIsolationAfterCommit` was asked for. */
  static resetsIsolation(tx: JobTransaction): boolean {
    return tx.#resetIsolation
  }

  /** Runs the work registered with `afterCommit`, in order; failures go to `onError`. */
  static async runAfterCommit(tx: JobTransaction, onError?: (error: unknown) => void): Promise<void> {
    for (const work of tx.#afterCommit.splice(0)) {
      try {
        await work()
      } catch (error) {
        onError?.(error)
      }
    }
  }

  /** Runs a query in the transaction, with `pg`'s arguments and result; rejects once it has ended. */
  query(...args: unknown[]): Promise<unknown> {
    const client = this.#client
    if (!client) {
      return Promise.reject(
        new LifecycleError(
          "This job's transaction has already ended (the attempt finished, timed out or was cancelled), so the query was not run: a handler must not use ctx.tx after it returns or after ctx.signal aborts.",
        ),
      )
    }
    const result = (client.query as (...a: unknown[]) => unknown)(...args)
    // Callback-style calls and submittables (cursors) return no promise, and are not counted.
    if (!isThenable(result)) return result as Promise<unknown>
    this.#inFlight++
    const settled = () => {
      this.#inFlight--
    }
    result.then(settled, settled)
    return result as Promise<unknown>
  }

  /** Whether a query sent through the handle is still running (the handler did not wait for it). */
  static hasQueryInFlight(handle: JobTransaction): boolean {
    return handle.#inFlight > 0
  }

  /** The connection of an open `JobTransaction`, so the store can run its prepared statements on it. */
  static clientOf(handle: TransactionHandle): pg.PoolClient | null {
    return handle instanceof JobTransaction ? handle.#client : null
  }

  /** Closes the handle for good; the caller then commits or rolls back on the client itself. */
  end(): void {
    this.#client = null
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof (value as PromiseLike<unknown>)?.then === 'function'
}

/**
 * Ends a transaction whose attempt did not commit. When nothing of the handler's still runs on
 * `client` (the usual case), a ROLLBACK; true if the connection may be reused. When a statement it
 * sent through `ctx.tx` (a query, an enqueue with `tx: ctx.tx`, a cursor between reads) still runs
 * or waits, no ROLLBACK is queued behind it (it could wait for as long as the statement, or for
 * ever for a cursor): PostgreSQL's CancelRequest stops the statement on the server
 * (`cancel-request.ts`; best effort: none on PGlite or through a custom stream), and the connection is
 * destroyed, which ends the session and rolls its transaction back. Never reused: a cancel a pooler
 * delivers late (PgBouncer up to 1.17 closes the cancel socket before it forwards the request) must
 * not reach another statement.
 */
async function endWithoutCommit(
  client: pg.PoolClient,
  tx: JobTransaction,
  onError?: (error: unknown) => void,
): Promise<boolean> {
  if (!(pgClientBusy(client) || JobTransaction.hasQueryInFlight(tx))) {
    return client.query('ROLLBACK').then(
      () => true,
      () => false,
    )
  }
  const outcome = await sendCancelRequest(client)
  if (outcome === 'unknown')
    onError?.(
      new Error("cancelling the statement a job's handler left running got no answer from the server"),
    )
  return false
}

/** Runs `fn` in a new transaction as `JobStore.runInTransaction` describes; errors are passed on as thrown. */
export async function runInTransaction<T>(
  pool: pg.Pool,
  fn: (tx: TransactionHandle) => Promise<{ readonly commit: boolean; readonly value: T }>,
  onError?: (error: unknown) => void,
): Promise<T> {
  const client = await pool.connect()
  // While checked out the pool does not listen for the client's errors; an unheard 'error' (the
  // server ending the connection while a handler runs) would crash the process.
  let broken: unknown = null
  const onClientError = (error: unknown) => {
    broken = error
    onError?.(error)
  }
  client.on('error', onClientError)
  // True only while the connection is known to be outside any transaction (safe to reuse).
  let clean = false
  let tx: JobTransaction
  let value: T
  try {
    await client.query('BEGIN')
    tx = new JobTransaction(client)
    let result: { readonly commit: boolean; readonly value: T }
    try {
      result = await fn(tx)
    } catch (error) {
      tx.end()
      clean = broken === null && (await endWithoutCommit(client, tx, onError))
      throw error
    }
    tx.end()
    if (!result.commit) {
      // A failed ROLLBACK only discards the connection: the attempt's outcome stands.
      clean = broken === null && (await endWithoutCommit(client, tx, onError))
      return result.value
    }
    const committed = await client.query('COMMIT')
    clean = true
    if (committed.command === 'ROLLBACK') {
      throw new TransactionRolledBackError(
        'The transaction was rolled back at COMMIT because one of its statements had failed; nothing it wrote was kept.',
      )
    }
    value = result.value
    if (JobTransaction.resetsIsolation(tx)) {
      // The transaction has committed: a connection that cannot be set back is discarded, the job's
      // outcome stands.
      clean = await client.query('RESET default_transaction_isolation').then(
        () => true,
        () => false,
      )
    }
  } finally {
    client.removeListener('error', onClientError)
    client.release(clean && broken === null ? undefined : true)
  }
  // After the connection went back: the work runs on connections of its own.
  await JobTransaction.runAfterCommit(tx, onError)
  return value
}
