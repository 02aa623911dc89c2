/**
 * Writes attempt outcomes back in batches: completions that arrive in the same event-loop turn, or
 * while a write is in flight, go out together in one `completeJobs` call. A failed write is retried
 * with backoff and never dropped, so a finished job is not lost by a database hiccup.
 */
import type { Clock } from './clock.js'
import type { Completion, JobStore } from './store.js'

/** Batches completions for one store. */
export class Completer {
  readonly #store: JobStore
  readonly #clock: Clock
  readonly #onError: (error: unknown) => void
  readonly #maxBatch: number
  readonly #maxInFlight: number
  #pending: { completion: Completion; resolve: () => void }[] = []
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
    this.#maxBatch = deps.maxBatch ?? 1000
    this.#maxInFlight = deps.maxInFlight ?? 2
  }

  /** Queues a completion; resolves once it is written. */
  complete(completion: Completion): Promise<void> {
    return new Promise((resolve) => {
      this.#pending.push({ completion, resolve })
      this.#schedule()
    })
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
      const batch = this.#pending.splice(0, this.#maxBatch)
      const write = this.#write(batch).finally(() => {
        this.#inFlight.delete(write)
        this.#schedule()
      })
      this.#inFlight.add(write)
      this.#schedule()
    })
  }

  async #write(batch: { completion: Completion; resolve: () => void }[]): Promise<void> {
    let failures = 0
    for (;;) {
      try {
        await this.#store.completeJobs({
          completions: batch.map((b) => b.completion),
          now: this.#clock.now(),
        })
        break
      } catch (error) {
        this.#onError(error)
        failures++
        const delay = Math.min(5000, 50 * 2 ** Math.min(failures, 7))
        await new Promise<void>((resolve) => setTimeout(resolve, delay).unref?.())
      }
    }
    for (const b of batch) b.resolve()
  }
}
