/**
 * A worker: claims jobs from its queues only up to what it can use (free capacity plus a small
 * local buffer), runs each through the executor, and hands outcomes to the completer. It claims only
 * when jobs may be waiting (a wake no claim has looked at yet, or a claim cut by its capacity: one that
 * left less room than the heaviest job this worker has claimed may have passed a job over), and
 * claims are grouped: wakes within one event-loop turn become one claim (one `setImmediate`), and
 * wakes that come while a claim is in flight become one claim after it; a wake on an idle worker
 * claims on the next turn. A claim made due by a finished job (the buffer ran below half) goes out at
 * once, since jobs that settle at once can run the whole buffer within that turn. Buffered
 * jobs are already `running` in the store: the buffer is kept modest, bounded in time, and released
 * on shutdown so it never hoards work from other workers for long.
 */

import { ShutdownAbortError } from '../domain/errors.js'
import type { JobRecord } from '../domain/job.js'
import type { Clock, TimerHandle } from '../ports/clock.js'
import type { OversizedPolicy, PollStrategy } from '../ports/store.js'
import { AbortHandle } from './abort-handle.js'
import { awaitWithGrace } from './grace-period.js'

/** Where a worker gets its jobs and how it runs them. */
export interface WorkerDeps {
  readonly clock: Clock
  /** Claims jobs of the registered kinds. */
  readonly claim: (params: {
    queues: readonly string[]
    capacity: number
    oversizedFirst: boolean
    /** Set when the worker refuses jobs heavier than its capacity. */
    maxWeight?: number
    strategy: PollStrategy
    workerId: string
  }) => Promise<JobRecord[]>
  /**
   * Runs one claimed job; resolves when its outcome is handed to the completer. `bufferWaitMs` is how
   * long it waited in the local buffer between the claim's return and now (whole ms, on the clock).
   */
  readonly run: (job: JobRecord, abort: AbortHandle, bufferWaitMs: number) => Promise<unknown>
  /** Returns unstarted jobs to the queue (attempt not counted). */
  readonly release: (jobs: readonly JobRecord[]) => Promise<void>
  readonly onError: (error: unknown, during: string) => void
}

/** Settings of one worker. */
export interface WorkerSettings {
  readonly id: string
  readonly queues: readonly string[]
  readonly capacity: number
  /**
   * A job heavier than `capacity`: `alone` runs it by itself when the worker is idle; `refuse`
   * never claims it (it waits for a worker with room for it, as perseid's slots).
   */
  readonly oversized: OversizedPolicy
  readonly strategy: PollStrategy
  readonly pollIntervalMs: number
  /** Extra weight of claimed jobs held locally, ready to start the moment a slot frees (0 = none). */
  readonly prefetch: number
  /**
   * Upper bound of an adaptive buffer (equal to `prefetch`: fixed). Above `prefetch`, the buffer
   * doubles while the worker starves on a backlog (slots idle while claims come back full) and falls
   * back to `prefetch` when a claim comes back short or buffered jobs are released for waiting too long.
   */
  readonly prefetchMax: number
  /** A buffered job not started within this many ms is released back to the queue. */
  readonly maxBufferWaitMs: number
}

/** At most this many claims of one worker run at once (the second overlaps the first's round trip). */
const MAX_CLAIMS_IN_FLIGHT = 2

interface Buffered {
  readonly job: JobRecord
  /** When the claim returned it, on the clock (a difference of two readings is the buffer wait). */
  readonly claimedAt: number
}

/** One claim-and-run loop. */
export class Worker {
  readonly settings: WorkerSettings
  readonly #deps: WorkerDeps
  readonly #running = new Map<string, { abort: AbortHandle; done: Promise<void> }>()
  #buffer: Buffered[] = []
  #bufferedWeight = 0
  /** The buffer's current target weight, between `prefetch` and `prefetchMax`. */
  #prefetch: number
  /** Since the last claim returned, a slot went idle with nothing buffered while a claim was due. */
  #starved = false
  #used = 0
  #stopping = false
  #started = false
  /** Claims in flight (up to MAX_CLAIMS_IN_FLIGHT) and the weight they asked for. */
  #claiming = 0
  #requested = 0
  #wanted = false
  /**
   * Jobs may be waiting that no claim has looked for: a wake came after the last claim started, or
   * that claim was cut by its capacity. Only then does a freed slot claim again (the queue wakes its
   * workers after completions only when its store does not announce the jobs they free).
   */
  #pending = false
  /** The heaviest job this worker has claimed: a claim that left less room than it may have left one. */
  #heaviest = 1
  /** The last claim came back full: a backlog, on which a second claim may overlap the first. */
  #backlog = false
  #immediate = false
  #pollTimer: TimerHandle | null = null
  #failures = 0

  constructor(settings: WorkerSettings, deps: WorkerDeps) {
    this.settings = settings
    this.#deps = deps
    this.#prefetch = settings.prefetch
  }

  /** Starts claiming. */
  start(): void {
    if (this.#started) return
    this.#started = true
    this.wake()
  }

  /**
   * Asks for a claim soon: new jobs may be available (a notification, a poll, a completion that may
   * free a group's or a dependant's job). Claims at once when no claim is in flight; wakes that
   * come while one is in flight are folded into one claim after it.
   */
  wake(): void {
    this.#pending = true
    this.#schedule()
  }

  /**
   * Schedules a claim for the next event-loop turn (`now`: at once), or after the claims in flight.
   * A claim made due by a finished job goes out at once: jobs that settle at once run the whole
   * buffer in one chain of promise callbacks, so a claim left for the next turn would go out only
   * once the buffer is empty, and the slots would then wait out its round trip.
   */
  #schedule(now = false): void {
    if (!this.#started || this.#stopping) return
    if (this.#claiming >= MAX_CLAIMS_IN_FLIGHT) {
      this.#wanted = true
      return
    }
    if (now) {
      void this.#fetch()
      return
    }
    if (this.#immediate) return
    this.#immediate = true
    setImmediate(() => {
      this.#immediate = false
      void this.#fetch()
    })
  }

  /** Drops buffered (not yet started) jobs that were cancelled meanwhile; returns how many. */
  dropBuffered(ids: ReadonlySet<string>): number {
    const before = this.#buffer.length
    this.#buffer = this.#buffer.filter((b) => {
      if (!ids.has(b.job.id)) return true
      this.#bufferedWeight -= b.job.weight
      return false
    })
    return before - this.#buffer.length
  }

  /**
   * Stops claiming and releases buffered jobs; waits up to `graceMs` (on the clock) for running
   * jobs, then aborts the rest with `ShutdownAbortError` so they are released, and waits for them.
   */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true
    this.#pollTimer?.cancel()
    this.#pollTimer = null
    while (this.#claiming > 0) await new Promise<void>((resolve) => setImmediate(resolve))
    await this.#releaseBuffered(this.#buffer.length)
    if (this.#running.size === 0) return
    await awaitWithGrace(
      this.#deps.clock,
      graceMs,
      () => Promise.all([...this.#running.values()].map((r) => r.done)),
      () => {
        for (const r of this.#running.values()) r.abort.abort(new ShutdownAbortError())
      },
    )
  }

  async #fetch(): Promise<void> {
    if (this.#claiming >= MAX_CLAIMS_IN_FLIGHT || this.#stopping) return
    // Stale jobs leave the buffer before the claim is sized, so it asks only for what is missing.
    const stale = this.#claiming === 0 ? this.#takeStale() : []
    const want = this.settings.capacity + this.#prefetch - this.#used - this.#bufferedWeight - this.#requested
    // A second claim only overlaps the first on a backlog, when the buffer is running low; otherwise
    // wakes wait for the claim in flight and become one claim after it.
    if (this.#claiming > 0 && (want <= 0 || !this.#backlog || this.#bufferedWeight * 4 >= this.#prefetch)) {
      this.#wanted = true
      return
    }
    this.#claiming++
    this.#requested += Math.max(0, want)
    this.#wanted = false
    if (want > 0) this.#pending = false
    this.#pollTimer?.cancel()
    this.#pollTimer = null
    let full = false
    try {
      if (stale.length > 0) await this.#release(stale)
      if (want > 0) {
        const jobs = await this.#deps.claim({
          queues: this.settings.queues,
          capacity: want,
          // Idle with nothing buffered: a job heavier than the whole capacity may run, alone.
          oversizedFirst:
            this.settings.oversized === 'alone' &&
            this.#claiming === 1 &&
            this.#used === 0 &&
            this.#buffer.length === 0,
          ...(this.settings.oversized === 'refuse' ? { maxWeight: this.settings.capacity } : {}),
          strategy: this.settings.strategy,
          workerId: this.settings.id,
        })
        const now = this.#deps.clock.now()
        let weight = 0
        let heaviest = 1
        for (const job of jobs) {
          this.#buffer.push({ job, claimedAt: now })
          weight += job.weight
          if (job.weight > heaviest) heaviest = job.weight
        }
        this.#bufferedWeight += weight
        // Full: the room left is less than a job of the claim, so the claim was cut by its capacity.
        full = jobs.length > 0 && want - weight < heaviest
        this.#backlog = full
        if (heaviest > this.#heaviest) this.#heaviest = heaviest
        // A due job heavier than the room left may have been passed over without a word: when the
        // room left is below the heaviest job this worker has claimed (always so after a full claim),
        // a freed slot claims again. (A job heavier than any before waits for the next wake or poll.)
        if (want - weight < this.#heaviest) this.#pending = true
        this.#adapt(full)
        this.#failures = 0
      }
    } catch (error) {
      this.#pending = true
      this.#failures++
      this.#deps.onError(error, 'claim')
    } finally {
      this.#claiming--
      this.#requested -= Math.max(0, want)
    }
    if (this.#stopping) {
      await this.#releaseBuffered(this.#buffer.length)
      return
    }
    this.#startBuffered()
    if (this.#claiming > 0) return // the claim still in flight decides what comes next
    if (this.#failures > 0) {
      this.#arm(Math.min(this.settings.pollIntervalMs * 2 ** Math.min(this.#failures, 5), 30_000))
    } else if ((full || this.#wanted) && this.#needsMore()) {
      // More may wait (the claim was cut by its capacity), or wakes came while it was in flight: one
      // claim for all of them. A short claim took everything due; the next wake or poll claims again.
      this.#schedule()
    } else {
      this.#arm(
        this.#buffer.length > 0
          ? Math.min(this.settings.pollIntervalMs, this.settings.maxBufferWaitMs)
          : this.settings.pollIntervalMs,
      )
    }
  }

  /** True when free capacity is idle, or the buffer has fallen below half its size. */
  #needsMore(): boolean {
    const free = this.settings.capacity - this.#used
    return (free > 0 && this.#buffer.length === 0) || this.#bufferedWeight * 2 < this.#prefetch
  }

  /**
   * Sizes an adaptive buffer after a claim: a full claim after the worker starved means the backlog
   * outruns the buffer (double it, up to `prefetchMax`); a short one means the backlog is gone (back
   * to `prefetch`, so a later trickle of slow jobs is not hoarded).
   */
  #adapt(full: boolean): void {
    if (this.settings.prefetchMax === this.settings.prefetch) return
    if (!full) this.#prefetch = this.settings.prefetch
    else if (this.#starved) this.#prefetch = Math.min(this.settings.prefetchMax, this.#prefetch * 2)
    this.#starved = false
  }

  #startBuffered(): void {
    // Read once per pass: the jobs started together started at the same moment.
    const now = this.#buffer.length > 0 ? this.#deps.clock.now() : 0
    // A job that waited past maxBufferWaitMs goes back to the queue instead: a job starts at most
    // that long after its claim, which the timeout rescue's margin (counted from the claim) relies on.
    // The buffer is in claim order: only a stale head means anything to release (no array otherwise).
    const head = this.#buffer[0]
    if (head !== undefined && head.claimedAt < now - this.settings.maxBufferWaitMs)
      void this.#release(this.#takeStale(now))
    while (this.#buffer.length > 0 && !this.#stopping) {
      const head = this.#buffer[0]!
      if (this.#used > 0 && this.#used + head.job.weight > this.settings.capacity) return
      this.#buffer.shift()
      this.#bufferedWeight -= head.job.weight
      this.#start(head.job, Math.max(0, Math.round(now - head.claimedAt)))
    }
    // Starving: a slot is free with nothing buffered while a claim is due. An idle worker that a
    // burst wakes is not starving; its buffer grows only if it keeps running dry while claiming.
    if (
      this.#buffer.length === 0 &&
      this.#used < this.settings.capacity &&
      (this.#claiming > 0 || this.#immediate)
    )
      this.#starved = true
  }

  /**
   * Takes the buffered jobs that waited longer than `maxBufferWaitMs` out of the buffer (to be
   * released). They waited out their welcome: the buffer is larger than this worker's pace, so an
   * adaptive one falls back to its base.
   */
  #takeStale(now = this.#deps.clock.now()): JobRecord[] {
    const limit = now - this.settings.maxBufferWaitMs
    let n = 0
    while (n < this.#buffer.length && this.#buffer[n]!.claimedAt < limit) n++
    if (n === 0) return []
    this.#prefetch = this.settings.prefetch
    this.#starved = false
    return this.#take(n)
  }

  /** Removes the first `count` buffered jobs from the buffer. */
  #take(count: number): JobRecord[] {
    const taken = this.#buffer.splice(0, count)
    for (const b of taken) this.#bufferedWeight -= b.job.weight
    return taken.map((b) => b.job)
  }

  async #releaseBuffered(count: number): Promise<void> {
    if (count > 0) await this.#release(this.#take(count))
  }

  /** Returns jobs taken from the buffer to the queue (a failure is reported, not thrown). */
  async #release(jobs: readonly JobRecord[]): Promise<void> {
    try {
      await this.#deps.release(jobs)
    } catch (error) {
      this.#deps.onError(error, 'release')
    }
  }

  #arm(ms: number): void {
    this.#pollTimer?.cancel()
    this.#pollTimer = this.#deps.clock.setTimeout(() => {
      this.#pollTimer = null
      this.wake()
    }, ms)
  }

  #start(job: JobRecord, bufferWaitMs: number): void {
    const abort = new AbortHandle()
    this.#used += job.weight
    // One `then` with two callbacks instead of `.catch().finally()`: two promises fewer per job.
    const done = this.#deps.run(job, abort, bufferWaitMs).then(
      () => this.#finished(job),
      (error) => {
        try {
          this.#deps.onError(error, 'run')
        } finally {
          this.#finished(job)
        }
      },
    )
    this.#running.set(job.id, { abort, done })
  }

  #finished(job: JobRecord): void {
    this.#running.delete(job.id)
    this.#used -= job.weight
    this.#startBuffered()
    if (this.#pending && this.#needsMore()) this.#schedule(true)
  }
}
