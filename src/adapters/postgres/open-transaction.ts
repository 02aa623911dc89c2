/**
 * The check that a caller's `tx` is inside an open transaction, where the client can tell: a `pg`
 * client (8.21 and later) reports the status the server sent with its last ReadyForQuery. A client
 * outside any transaction would commit the enqueue at once, whatever happens to the caller's work
 * (the same mistake as passing a pool); one whose transaction failed would only get PostgreSQL's
 * "current transaction is aborted". Handles that report nothing (ORM adapters, handles of a job's own
 * transaction, older `pg`) are taken as they are.
 */
import { InvalidOptionsError } from '../../core/domain/errors.js'
import type { TransactionHandle } from '../../core/ports/store.js'
import { pgClientBusy } from './pg-client-state.js'

/** What `pg`'s client exposes of its state: the status the server sent with its last ReadyForQuery. */
interface PgClientState {
  getTransactionStatus?: () => string | null
}

/** Throws `InvalidOptionsError` when `tx` is a `pg` client outside a transaction or in a failed one. */
export function assertOpenTransaction(tx: TransactionHandle): void {
  const client = tx as TransactionHandle & PgClientState
  if (typeof client.getTransactionStatus !== 'function') return
  let status: string | null
  try {
    status = client.getTransactionStatus()
  } catch {
    // pg.native's client asks pg-native, which has no such method before 3.8: status unknown.
    return
  }
  if (status !== 'I' && status !== 'E') return
  // A BEGIN sent without awaiting it is still queued or running: the status is the one before it.
  if (pgClientBusy(client)) return
  if (status === 'I')
    throw new InvalidOptionsError(
      "tx is a pg client outside any transaction (no BEGIN ran on it, or its transaction already ended): the job would be committed at once, whatever happens to your work. Run await client.query('BEGIN') before enqueueing and COMMIT (or ROLLBACK) after; to enqueue outside a transaction, leave tx out.",
    )
  throw new InvalidOptionsError(
    'tx is a pg client whose transaction has failed (an earlier statement in it raised an error), so PostgreSQL ignores every statement until it ends: run ROLLBACK (or ROLLBACK TO a savepoint) and enqueue in a new transaction.',
  )
}
