/**
 * Writes attempt outcomes back in batches: completions that arrive in the same event-loop turn, or
 * while a write is in flight, go out together in one `completeJobs` call. A failed write is retried
 * with backoff and never dropped, so a finished job is not lost by a database hiccup.
 *
 * The hot path (`add`) allocates nothing per job beyond the completion itself: completions and their
 * callbacks sit in two parallel arrays, and a callback shared by many jobs (the worker's wake-up)
 * runs once per run of consecutive completions in a written batch, not once per job. Fewer short-lived objects per job keep V8's young
 * generation small, which is most of a busy worker's memory.
 */

import { DEFAULTS } from '../defaults.js'
import { type Clock, sleepRealTime, storeNow } from '../ports/clock.js'
import type { Completion, JobStore } from '../ports/store.js'

/** Called once a completion is written. */
type Written = () => void

/** Batches completions for one store. */
export class Completer {
  readonly #store: JobStore
  readonly #clock: Clock
  readonly #onError: (error: unknown) => void
  readonly #maxBatch: number
  readonly #maxInFlight: number
  #pending: Completion[] = []
  /** `#callbacks[i]` runs once `#pending[i]` is written (undefined: nothing to call). */
  #callbacks: (Written | undefined)[] = []
  #inFlight = new Set<Promise<void>>()
  #scheduled = false

  constructor(deps: {
    store: JobStore
    clock: Clock
    onError: (error: unknown) => void
    maxBatch?: number
    maxInFlight?: number
  }) {
    this.#store = deps.store
    this.#clock = deps.clock
    this.#onError = deps.onError
    this.#maxBatch = deps.maxBatch ?? DEFAULTS.completer.maxBatch
    this.#maxInFlight = deps.maxInFlight ?? DEFAULTS.completer.maxInFlight
  }

  /** Queues a completion; resolves once it is written. */
  complete(completion: Completion): Promise<void> {
    return new Promise((resolve) => this.add(completion, resolve))
  }

  /**
   * Queues a completion without a promise; `onWritten` runs once it is written. The same function
   * given for consecutive completions of one batch runs once for them (not once per completion).
   */
  add(completion: Completion, onWritten?: Written): void {
    this.#pending.push(completion)
    this.#callbacks.push(onWritten)
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
      let batch: Completion[]
      let callbacks: (Written | undefined)[]
      if (this.#pending.length <= this.#maxBatch) {
        batch = this.#pending
        callbacks = this.#callbacks
        this.#pending = []
        this.#callbacks = []
      } else {
        batch = this.#pending.splice(0, this.#maxBatch)
        callbacks = this.#callbacks.splice(0, this.#maxBatch)
      }
      const write = this.#write(batch, callbacks).finally(() => {
        this.#inFlight.delete(write)
        this.#schedule()
      })
      this.#inFlight.add(write)
      this.#schedule()
    })
  }

  async #write(batch: Completion[], callbacks: (Written | undefined)[]): Promise<void> {
    let failures = 0
    for (;;) {
      try {
        await this.#store.completeJobs({ completions: batch, now: storeNow(this.#clock) })
        break
      } catch (error) {
        this.#onError(error)
        failures++
        const delay = Math.min(5000, 50 * 2 ** Math.min(failures, 7))
        await sleepRealTime(delay)
      }
    }
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
}
