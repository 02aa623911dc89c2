import { InvalidArgumentError } from '../../core/domain/errors.js'
import type { TransactionHandle } from '../../core/ports/store.js'

/** Something that buffers work in a transaction and applies or drops it when the transaction ends. */
export interface TransactionParticipant {
  /** Applies the buffered work (called once, on commit). */
  commit(): void
  /** Drops the buffered work (called once, on rollback). */
  rollback(): void
}

/** Where a memory transaction is in its life. */
export type MemoryTransactionState = 'open' | 'committed' | 'rolledBack'

/**
 * A stand-in for a database transaction in tests: jobs enqueued with `{ tx }` exist only after
 * `commit()` (or `query('COMMIT')`) and vanish on `rollback()`. It starts open; `query('BEGIN')`
 * opens it again after it ended, like a reused connection. Other statements resolve to no rows.
 */
export class MemoryTransaction implements TransactionHandle {
  #state: MemoryTransactionState = 'open'
  #participants: TransactionParticipant[] = []

  /** `open` until committed or rolled back. */
  get state(): MemoryTransactionState {
    return this.#state
  }

  /** Understands `BEGIN`, `COMMIT` and `ROLLBACK` (case-insensitive); anything else returns no rows. */
  async query(text: string, _values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number }> {
    const statement = text.trim().replace(/;$/, '').trim().toUpperCase()
    if (statement === 'BEGIN' || statement === 'START TRANSACTION') {
      if (this.#state !== 'open') {
        this.#state = 'open'
        this.#participants = []
      }
    } else if (statement === 'COMMIT') {
      await this.commit()
    } else if (statement === 'ROLLBACK') {
      await this.rollback()
    }
    return { rows: [], rowCount: 0 }
  }

  /** Makes the jobs enqueued in this transaction visible. Throws if it is not open. */
  async commit(): Promise<void> {
    const participants = this.#end('committed')
    for (const participant of participants) participant.commit()
  }

  /** Discards the jobs enqueued in this transaction. Throws if it is not open. */
  async rollback(): Promise<void> {
    const participants = this.#end('rolledBack')
    for (const participant of participants) participant.rollback()
  }

  /** Registers work to apply on commit or drop on rollback (used by `MemoryStore`); needs an open transaction. */
  enlist(participant: TransactionParticipant): void {
    this.assertOpen()
    this.#participants.push(participant)
  }

  /** Throws `InvalidArgumentError` unless the transaction is open. */
  assertOpen(): void {
    if (this.#state !== 'open') {
      const ended = this.#state === 'committed' ? 'committed' : 'rolled back'
      throw new InvalidArgumentError(
        `This transaction was already ${ended}; enqueue with an open transaction (start a new one, or call query('BEGIN') first).`,
      )
    }
  }

  #end(state: MemoryTransactionState): TransactionParticipant[] {
    this.assertOpen()
    const participants = this.#participants
    this.#state = state
    this.#participants = []
    return participants
  }
}
