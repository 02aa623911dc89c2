import { InvalidOptionsError } from '../../core/domain/errors.js'
import type { JobState } from '../../core/domain/job.js'
import type { InsertOutcome, NewJob } from '../../core/ports/store.js'
import { copyJobRecord, createJobRecord } from './job-record.js'
import type { JobTable } from './job-table.js'
import type { MemoryTransaction } from './memory-transaction.js'
import { PendingInserts } from './pending-inserts.js'

/**
 * Inserts jobs into a `JobTable`, at once or buffered in a `MemoryTransaction` until it commits.
 * Unique keys are checked at enqueue (against the table and the transaction's own buffer) and again
 * at commit, where a row that became a duplicate meanwhile is dropped, as a unique index would.
 */
export class JobInserter {
  readonly #jobs: JobTable
  /** Time of a commit (a transaction carries none): the store's latest `now`. */
  readonly #now: () => number
  /** Called after a commit inserted rows, so the store can notify workers. */
  readonly #afterCommit: (now: number) => void
  readonly #pending = new WeakMap<MemoryTransaction, PendingInserts>()
  /** Counts resets, so a transaction opened before a reset cannot commit ids from before it. */
  #epoch = 0

  /** Creates an inserter for `jobs`. */
  constructor(jobs: JobTable, now: () => number, afterCommit: (now: number) => void) {
    this.#jobs = jobs
    this.#now = now
    this.#afterCommit = afterCommit
  }

  /** Inserts jobs now; throws before inserting any when one depends on a job that does not exist. */
  insert(jobs: readonly NewJob[], now: number): InsertOutcome[] {
    this.checkDependencies(jobs)
    return jobs.map((job) => this.#insertOne(job, now))
  }

  /** Buffers jobs in an open transaction: ids are allocated now, rows are inserted on commit. */
  buffer(tx: MemoryTransaction, jobs: readonly NewJob[], now: number): InsertOutcome[] {
    tx.assertOpen()
    const existing = this.#pending.get(tx)
    this.checkDependencies(jobs, existing)
    const pending = existing ?? this.#open(tx)
    return jobs.map((job) => {
      const state = this.#initialState(job, now)
      if (state !== 'cancelled' && job.uniqueKey !== null) {
        const stored = this.#jobs.uniqueHolder(job.kind, job.uniqueKey)?.record
        const holder = stored ?? pending.uniqueHolder(job.kind, job.uniqueKey)
        if (holder) return { job: copyJobRecord(holder), duplicate: true }
      }
      const seq = this.#jobs.allocateSeq()
      const record = createJobRecord(String(seq), job, state, now)
      pending.add(record, seq)
      return { job: copyJobRecord(record), duplicate: false }
    })
  }

  /** Throws `InvalidOptionsError` when a job depends on an id that is neither stored nor buffered. */
  checkDependencies(jobs: readonly NewJob[], pending?: PendingInserts): void {
    jobs.forEach((job, index) => {
      for (const id of job.dependsOn) {
        if (this.#jobs.get(id) || pending?.has(id)) continue
        throw new InvalidOptionsError(
          `dependsOn of item ${index} (kind ${JSON.stringify(job.kind)}) names job ${JSON.stringify(id)}, which does not exist. ` +
            'Enqueue the dependency first and pass the id it returned (a job that was deleted or pruned cannot be depended on).',
        )
      }
    })
  }

  /** Forgets every open transaction's buffer (their commits will insert nothing). */
  reset(): void {
    this.#epoch++
  }

  #insertOne(job: NewJob, now: number): InsertOutcome {
    const state = this.#initialState(job, now)
    if (state !== 'cancelled' && job.uniqueKey !== null) {
      const holder = this.#jobs.uniqueHolder(job.kind, job.uniqueKey)
      if (holder) return { job: copyJobRecord(holder.record), duplicate: true }
    }
    const seq = this.#jobs.allocateSeq()
    const entry = this.#jobs.insert(createJobRecord(String(seq), job, state, now), seq, now)
    return { job: copyJobRecord(entry.record), duplicate: false }
  }

  /** A job is cancelled at once when a dependency failed or was cancelled, as the port requires. */
  #initialState(job: NewJob, now: number): JobState {
    if (this.#jobs.anyEndedBadly(job.dependsOn)) return 'cancelled'
    return job.runAt > now ? 'scheduled' : 'available'
  }

  #open(tx: MemoryTransaction): PendingInserts {
    const pending = new PendingInserts(this.#epoch)
    tx.enlist({ commit: () => this.#commit(tx), rollback: () => this.#pending.delete(tx) })
    this.#pending.set(tx, pending)
    return pending
  }

  #commit(tx: MemoryTransaction): void {
    const pending = this.#pending.get(tx)
    this.#pending.delete(tx)
    if (!pending || pending.epoch !== this.#epoch) return
    const now = this.#now()
    for (const { record: row, seq } of pending.rows) {
      if (row.state !== 'cancelled' && this.#jobs.anyEndedBadly(row.dependsOn)) {
        row.state = 'cancelled'
        row.finishedAt = now
      }
      if (
        row.state !== 'cancelled' &&
        row.uniqueKey !== null &&
        this.#jobs.uniqueHolder(row.kind, row.uniqueKey)
      )
        continue
      this.#jobs.insert(row, seq, now)
    }
    this.#afterCommit(now)
  }
}
