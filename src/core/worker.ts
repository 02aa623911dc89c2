/**
 * A worker: claims jobs from its queues only up to its free capacity, runs each through the
 * executor, and hands outcomes to the completer. Claims are grouped per event-loop turn (one
 * `setImmediate`) so every slot freed in a turn is refilled by one claim.
 */
import { AbortHandle } from './abort-handle.js'
import type { Clock, TimerHandle } from './clock.js'
import type { Completer } from './completer.js'
import { ShutdownAbortError } from './errors.js'
import type { JobRecord } from './job.js'
import type { PollStrategy } from './store.js'

/** Where a worker gets its jobs and how it runs them. */
export interface WorkerDeps {
  readonly clock: Clock
  readonly completer: Completer
  /** Claims jobs; kinds are the registered ones. */
  readonly claim: (params: {
    queues: readonly string[]
    capacity: number
    strategy: PollStrategy
    workerId: string
  }) => Promise<JobRecord[]>
  /** Runs one claimed job to its completion and returns when its outcome is handed to the completer. */
  readonly run: (job: JobRecord, abort: AbortHandle) => Promise<void>
  readonly onError: (error: unknown, during: string) => void
}

/** Settings of one worker. */
export interface WorkerSettings {
  readonly id: string
  readonly queues: readonly string[]
  readonly capacity: number
  readonly strategy: PollStrategy
  readonly pollIntervalMs: number
}

/** One claim-and-run loop. */
export class Worker {
  readonly settings: WorkerSettings
  readonly #deps: WorkerDeps
  readonly #running = new Map<string, { job: JobRecord; abort: AbortHandle; done: Promise<void> }>()
  #used = 0
  #stopping = false
  #started = false
  #fetching = false
  #wanted = false
  #immediate = false
  #pollTimer: TimerHandle | null = null
  #failures = 0

  constructor(settings: WorkerSettings, deps: WorkerDeps) {
    this.settings = settings
    this.#deps = deps
  }

  /** Starts claiming. */
  start(): void {
    if (this.#started) return
    this.#started = true
    this.wake()
  }

  /** Asks for a claim soon (new jobs may be available, or a slot freed). */
  wake(): void {
    if (!this.#started || this.#stopping) return
    if (this.#fetching) {
      this.#wanted = true
      return
    }
    if (this.#immediate) return
    this.#immediate = true
    setImmediate(() => {
      this.#immediate = false
      void this.#fetch()
    })
  }

  /**
   * Stops claiming; waits up to `graceMs` (on the clock) for running jobs, then aborts the rest
   * with `ShutdownAbortError` so they are released to the queue, and waits for them to settle.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true
    this.#pollTimer?.cancel()
    this.#pollTimer = null
    while (this.#fetching) await new Promise<void>((resolve) => setImmediate(resolve))
    if (this.#running.size === 0) return
    const all = () => Promise.all([...this.#running.values()].map((r) => r.done))
    let timer: TimerHandle | undefined
    const expired = new Promise<'expired'>((resolve) => {
      timer = this.#deps.clock.setTimeout(() => resolve('expired'), graceMs)
    })
    const result = await Promise.race([all().then(() => 'done' as const), expired])
    timer?.cancel()
    if (result === 'expired') {
      for (const r of this.#running.values()) r.abort.abort(new ShutdownAbortError())
      await all()
    }
  }

  async #fetch(): Promise<void> {
    if (this.#fetching || this.#stopping) return
    this.#fetching = true
    this.#wanted = false
    this.#pollTimer?.cancel()
    this.#pollTimer = null
    let claimed = 0
    let full = false
    try {
      const free = this.settings.capacity - this.#used
      if (free > 0) {
        const jobs = await this.#deps.claim({
          queues: this.settings.queues,
          capacity: free,
          strategy: this.settings.strategy,
          workerId: this.settings.id,
        })
        claimed = jobs.length
        for (const job of jobs) this.#start(job)
        this.#failures = 0
      }
      full = this.settings.capacity - this.#used <= 0
    } catch (error) {
      this.#failures++
      this.#deps.onError(error, 'claim')
    } finally {
      this.#fetching = false
    }
    if (this.#stopping) return
    if (this.#failures > 0) {
      this.#arm(Math.min(this.settings.pollIntervalMs * 2 ** Math.min(this.#failures, 5), 30_000))
    } else if (!full && (claimed > 0 || this.#wanted)) {
      this.wake()
    } else {
      this.#arm(this.settings.pollIntervalMs)
    }
  }

  #arm(ms: number): void {
    this.#pollTimer?.cancel()
    this.#pollTimer = this.#deps.clock.setTimeout(() => {
      this.#pollTimer = null
      this.wake()
    }, ms)
  }

  #start(job: JobRecord): void {
    const abort = new AbortHandle()
    this.#used += job.weight
    const done = this.#deps
      .run(job, abort)
      .catch((error) => this.#deps.onError(error, 'run'))
      .finally(() => {
        this.#running.delete(job.id)
        this.#used -= job.weight
        this.wake()
      })
    this.#running.set(job.id, { job, abort, done })
  }
}
