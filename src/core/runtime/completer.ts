/**
 * Writes attempt outcomes back in batches: completions that arrive in the same event-loop turn, or
 * while a write is in flight, go out together in one `completeJobs` call. Failed writes are
 * classified: a transient error (the store unreachable, a connection lost, a serialization failure
 * or deadlock) is retried with exponential backoff and jitter, up to `retry.attempts` tries, so a
 * database hiccup loses no finished job; any other error is not retried as is: the batch is split
 * and each completion written alone, so one bad completion does not hold back the others. A
 * completion that still cannot be written is reported (`CompletionNotWrittenError`) and left: its
 * job stays `running` until the rescue returns it. The completer never spins forever.
 *
 * Outcome events follow the write: once a batch is written, `onApplied` hears of each completion
 * added with its job, except those the store skipped (their job was rescued or cancelled meanwhile)
 * and those given up, and only then do the batch's callbacks run. So a listener never hears of an
 * outcome the store does not hold, and `idle()` (shutdown) resolving means the events were emitted.
 *
 * The hot path (`add`) allocates nothing per job beyond the completion itself: completions, their
 * callbacks, jobs and durations sit in parallel arrays, and a callback shared by many jobs (the
 * worker's wake-up) runs once per run of consecutive completions in a written batch, not once per
 * job. Fewer short-lived objects per job keep V8's young generation small, which is most of a busy
 * worker's memory.
 */

import { DEFAULTS } from '../defaults.js'
import { CompletionNotWrittenError, StorageConflictError, StorageUnavailableError } from '../domain/errors.js'
import type { JobRecord } from '../domain/job.js'
import { type Clock, sleepRealTime, storeNow } from '../ports/clock.js'
import type { Completion, JobStore } from '../ports/store.js'

/** How a failed write of completions is retried: tries in all, and the backoff between them. */
export interface WriteRetry {
  /** Tries in all, the first included (at least 1). */
  readonly attempts: number
  /** Pause before the second try; it doubles each try up to `maxDelayMs`, with jitter. */
  readonly baseDelayMs: number
  readonly maxDelayMs: number
}

/** The default: 12 tries over about 30 s (50 ms doubling to 5 s), long enough for a failover or restart. */
export const COMPLETION_WRITE_RETRY: WriteRetry = Object.freeze({
  attempts: 12,
  baseDelayMs: 50,
  maxDelayMs: 5000,
})

/** True when a store error may go away by itself: the store unreachable, or a write lost to concurrency. */
export function isTransientStoreError(error: unknown): boolean {
  return error instanceof StorageUnavailableError || error instanceof StorageConflictError
}

/** Called once a completion is written. */
type Written = () => void

/** Told once a completion added with its job is written (not when the store skipped it or it was given up). */
export type CompletionApplied = (job: JobRecord, completion: Completion, durationMs: number) => void

/** Batches completions for one store. */
export class Completer {
  readonly #store: JobStore
  readonly #clock: Clock
  readonly #onError: (error: unknown) => void
  readonly #maxBatch: number
  readonly #maxInFlight: number
  readonly #retry: WriteRetry
  readonly #onApplied: CompletionApplied | undefined
  #pending: Completion[] = []
  /** `#callbacks[i]` runs once `#pending[i]` is written (undefined: nothing to call). */
  #callbacks: (Written | undefined)[] = []
  /** `#jobs[i]` is the job of `#pending[i]`, for `onApplied` (undefined: none given), `#durations[i]` its run's duration. */
  #jobs: (JobRecord | undefined)[] = []
  #durations: number[] = []
  #inFlight = new Set<Promise<void>>()
  #scheduled = false

  constructor(deps: {
    store: JobStore
    clock: Clock
    onError: (error: unknown) => void
    maxBatch?: number
    maxInFlight?: number
    retry?: WriteRetry
    /** Hears of each completion added with its job once it is written (the outcome's events). */
    onApplied?: CompletionApplied
  }) {
    this.#store = deps.store
    this.#clock = deps.clock
    this.#onError = deps.onError
    this.#maxBatch = deps.maxBatch ?? DEFAULTS.completer.maxBatch
    this.#maxInFlight = deps.maxInFlight ?? DEFAULTS.completer.maxInFlight
    this.#retry = deps.retry ?? COMPLETION_WRITE_RETRY
    this.#onApplied = deps.onApplied
  }

  /** Queues a completion; resolves once it is written. */
  complete(completion: Completion): Promise<void> {
    return new Promise((resolve) => this.add(completion, resolve))
  }

  /**
   * Queues a completion without a promise; `onWritten` runs once it is written (or given up). The
   * same function given for consecutive completions of one batch runs once for them (not once per
   * completion). With its `job` (and the run's `durationMs`), `onApplied` hears of it once written.
   */
  add(completion: Completion, onWritten?: Written, job?: JobRecord, durationMs = 0): void {
    this.#pending.push(completion)
    this.#callbacks.push(onWritten)
    this.#jobs.push(job)
    this.#durations.push(durationMs)
    this.#schedule()
  }

  /** Number of completions not yet written. */
  get pendingCount(): number {
    return this.#pending.length
  }

  /** Resolves when everything queued so far is written. */
  async idle(): Promise<void> {
    while (this.#pending.length > 0 || this.#inFlight.size > 0 || this.#scheduled) {
      if (this.#inFlight.size > 0) await Promise.race(this.#inFlight)
      else await new Promise<void>((resolve) => setImmediate(resolve))
    }
  }

  /** Starts a write on the next turn when there is work and a free write slot (up to `maxInFlight`). */
  #schedule(): void {
    if (this.#scheduled || this.#inFlight.size >= this.#maxInFlight || this.#pending.length === 0) return
    this.#scheduled = true
    setImmediate(() => {
      this.#scheduled = false
      if (this.#inFlight.size >= this.#maxInFlight || this.#pending.length === 0) return
      let batch: Batch
      if (this.#pending.length <= this.#maxBatch) {
        batch = {
          completions: this.#pending,
          callbacks: this.#callbacks,
          jobs: this.#jobs,
          durations: this.#durations,
        }
        this.#pending = []
        this.#callbacks = []
        this.#jobs = []
        this.#durations = []
      } else {
        batch = {
          completions: this.#pending.splice(0, this.#maxBatch),
          callbacks: this.#callbacks.splice(0, this.#maxBatch),
          jobs: this.#jobs.splice(0, this.#maxBatch),
          durations: this.#durations.splice(0, this.#maxBatch),
        }
      }
      const write = this.#write(batch).finally(() => {
        this.#inFlight.delete(write)
        this.#schedule()
      })
      this.#inFlight.add(write)
      this.#schedule()
    })
  }

  async #write({ completions, callbacks, jobs, durations }: Batch): Promise<void> {
    const unwritten = await this.#writeOrGiveUp(completions)
    // The outcomes' events, before the callbacks: whoever waits on a completion finds them emitted.
    const onApplied = this.#onApplied
    if (onApplied) {
      const skip = unwritten.length === 0 ? null : new Set(unwritten)
      for (let i = 0; i < completions.length; i++) {
        const job = jobs[i]
        const completion = completions[i]!
        if (job === undefined || skip?.has(completion.id)) continue
        try {
          onApplied(job, completion, durations[i]!)
        } catch (error) {
          this.#onError(error)
        }
      }
    }
    // Written or given up, the callers hear of it: a job given up is the rescue's, not theirs.
    let last: Written | undefined
    for (const callback of callbacks) {
      if (callback === undefined || callback === last) continue
      last = callback
      try {
        callback()
      } catch (error) {
        this.#onError(error)
      }
    }
  }

  /**
   * Writes `batch`, splitting it on an error retrying cannot fix; reports what it gives up. Returns
   * the ids not written: skipped by the store, or given up.
   */
  async #writeOrGiveUp(batch: Completion[]): Promise<readonly string[]> {
    const failure = await this.#tryWrite(batch)
    if (!('error' in failure)) return failure.skipped
    if (batch.length > 1 && !isTransientStoreError(failure.error)) {
      const unwritten: string[] = []
      for (const completion of batch) unwritten.push(...(await this.#writeOrGiveUp([completion])))
      return unwritten
    }
    const ids = batch.map((c) => c.id)
    const which =
      ids.length === 1
        ? `job ${ids[0]}`
        : `jobs ${ids.slice(0, 10).join(', ')}${ids.length > 10 ? ', ...' : ''}`
    this.#onError(
      new CompletionNotWrittenError(
        `Conveyor gave up writing the outcome of ${which} after ${failure.attempts} attempt${failure.attempts === 1 ? '' : 's'} (${
          failure.error instanceof Error ? failure.error.message : String(failure.error)
        }); ${ids.length === 1 ? 'it stays' : 'they stay'} running until the rescue returns ${ids.length === 1 ? 'it' : 'them'} to the queue.`,
        { cause: failure.error },
      ),
    )
    return ids
  }

  /**
   * Tries the write, retrying transient errors within the bound; once written, the store's answer
   * (the ids it skipped), else the last error.
   */
  async #tryWrite(
    batch: Completion[],
  ): Promise<{ readonly skipped: readonly string[] } | { error: unknown; attempts: number }> {
    const { attempts, baseDelayMs, maxDelayMs } = this.#retry
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#store.completeJobs({ completions: batch, now: storeNow(this.#clock) })
      } catch (error) {
        this.#onError(error)
        if (!isTransientStoreError(error) || attempt >= attempts) return { error, attempts: attempt }
        const delay = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1))
        await sleepRealTime(delay / 2 + (Math.random() * delay) / 2)
      }
    }
  }
}

/** One write's completions with their callbacks, jobs and durations (parallel arrays). */
interface Batch {
  readonly completions: Completion[]
  readonly callbacks: (Written | undefined)[]
  readonly jobs: (JobRecord | undefined)[]
  readonly durations: number[]
}
