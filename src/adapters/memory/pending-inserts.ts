import type { StoredJob } from './job-record.js'

/** Jobs enqueued in one open `MemoryTransaction`, waiting for its commit. */
export class PendingInserts {
  /** The store's reset count when the first job was buffered: a reset in between drops them all. */
  readonly epoch: number
  /** Buffered rows in enqueue order, with their already allocated ids. */
  readonly rows: { readonly record: StoredJob; readonly seq: number }[] = []
  readonly #ids = new Set<string>()
  readonly #unique = new Map<string, StoredJob>()

  /** Starts an empty buffer for the store at `epoch`. */
  constructor(epoch: number) {
    this.epoch = epoch
  }

  /** True when a job with this id is buffered. */
  has(id: string): boolean {
    return this.#ids.has(id)
  }

  /** The buffered waiting job of `kind` holding `uniqueKey`, if any. */
  uniqueHolder(kind: string, uniqueKey: string): StoredJob | undefined {
    return this.#unique.get(`${kind}\u0000${uniqueKey}`)
  }

  /** Buffers a row. */
  add(record: StoredJob, seq: number): void {
    this.rows.push({ record, seq })
    this.#ids.add(record.id)
    if (record.uniqueKey !== null && record.state !== 'cancelled') {
      this.#unique.set(`${record.kind}\u0000${record.uniqueKey}`, record)
    }
  }
}
