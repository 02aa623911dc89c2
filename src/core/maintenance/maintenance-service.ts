/**
 * Background upkeep of a started queue, on the clock: heartbeats for this process (with the kinds it
 * registered and its workers) on a beat of their own, and, in a separate loop, rescue of jobs held by processes that
 * stopped heartbeating, pruning of old finished jobs and orphan checks. A slow rescue or prune pass never delays the heartbeat: otherwise an
 * overloaded but live process would look dead and its running jobs would be rescued and run twice.
 * Every process runs it; the store's statements make concurrent passes safe.
 */

import type { EventBus } from '../domain/events.js'
import { type Clock, storeNow, type TimerHandle } from '../ports/clock.js'
import type { JobStore, ProcessWorker } from '../ports/store.js'
import { checkOrphans, type OrphanSettings } from './orphan-checker.js'
import { pruneFinished } from './pruner.js'
import { rescueStaleJobs } from './rescuer.js'

/** Settings of the maintenance loop. */
export interface MaintenanceSettings {
  readonly processId: string
  /** How often this process records a heartbeat (and the loop runs). */
  readonly heartbeatIntervalMs: number
  /** A process silent for this long is considered dead and its running jobs are rescued. */
  readonly rescueAfterMs: number
  /** How often to look for jobs to rescue. */
  readonly rescueIntervalMs: number
  /**
   * A job with a timeout still running this long past it is rescued as a timed-out attempt, even
   * while its process heartbeats (null: only heartbeat silence rescues).
   */
  readonly timeoutRescueMarginMs: number | null
  /** Finished jobs older than this are deleted; null keeps them forever. */
  readonly retentionMs: number | null
  /** How often to prune. */
  readonly pruneIntervalMs: number
  /** Rows per rescue, prune or orphan-failing statement. */
  readonly batchSize: number
  /** Orphan checks (a process silent for `rescueAfterMs` no longer serves its kinds). */
  readonly orphans: OrphanSettings
}

/** One timer loop: its armed timer and its pass in flight. */
interface Loop {
  timer: TimerHandle | null
  pass: Promise<void> | null
}

/** The maintenance loop of one queue. */
export class MaintenanceService {
  readonly #store: JobStore
  readonly #clock: Clock
  readonly #events: EventBus
  readonly #settings: MaintenanceSettings
  /** The kinds this process has handlers for, recorded with each heartbeat. */
  readonly #kinds: () => readonly string[]
  /** The heartbeat's own loop, and the rescue-and-prune loop. */
  readonly #beat: Loop = { timer: null, pass: null }
  readonly #upkeepLoop: Loop = { timer: null, pass: null }
  #stopped = true
  #lastRescue = Number.NEGATIVE_INFINITY
  #lastPrune = Number.NEGATIVE_INFINITY
  #lastOrphanCheck = Number.NEGATIVE_INFINITY

  /**
   * This process's workers (with a drain running, it too), recorded with every heartbeat: another
   * writer of the row (a drain, a second queue object with the same process id) cannot leave them
   * wrong for long. With its kinds, their queues are what its orphan checks count as its own.
   */
  readonly #workers: () => readonly ProcessWorker[]

  constructor(deps: {
    store: JobStore
    clock: Clock
    events: EventBus
    settings: MaintenanceSettings
    workers: () => readonly ProcessWorker[]
    kinds: () => readonly string[]
  }) {
    this.#workers = deps.workers
    this.#store = deps.store
    this.#clock = deps.clock
    this.#events = deps.events
    this.#settings = deps.settings
    this.#kinds = deps.kinds
  }

  /** Records the first heartbeat (so no other process takes this one for dead), then loops. */
  async start(): Promise<void> {
    if (!this.#stopped) return
    this.#stopped = false
    await this.heartbeat()
    this.#arm(this.#beat, () => this.heartbeat())
    this.#arm(this.#upkeepLoop, () => this.#upkeep())
  }

  /** Records a heartbeat for this process now. */
  async heartbeat(): Promise<void> {
    await this.#store.recordHeartbeat({
      processId: this.#settings.processId,
      now: storeNow(this.#clock),
      kinds: this.#kinds(),
      workers: this.#workers(),
    })
  }

  /** Stops the loop; waits for a pass in progress. */
  async stop(): Promise<void> {
    this.#stopped = true
    for (const loop of [this.#beat, this.#upkeepLoop]) {
      loop.timer?.cancel()
      loop.timer = null
    }
    await Promise.all([this.#beat.pass, this.#upkeepLoop.pass])
  }

  /** Runs one pass now: heartbeat, then rescue and prune when they are due. Returns jobs rescued. */
  async runOnce(): Promise<number> {
    await this.heartbeat()
    return this.#upkeep()
  }

  /** Rescue, prune and orphan checks, each when due. Returns jobs rescued. */
  async #upkeep(): Promise<number> {
    const s = this.#settings
    const now = this.#clock.now()
    let rescued = 0
    if (now - this.#lastRescue >= s.rescueIntervalMs) {
      this.#lastRescue = now
      rescued = await rescueStaleJobs(
        this.#store,
        this.#events,
        s.rescueAfterMs,
        storeNow(this.#clock),
        s.batchSize,
        s.timeoutRescueMarginMs,
      )
    }
    if (s.retentionMs !== null && now - this.#lastPrune >= s.pruneIntervalMs) {
      this.#lastPrune = now
      await pruneFinished(this.#store, this.#events, now - s.retentionMs, s.batchSize, () => this.#stopped)
    }
    if (now - this.#lastOrphanCheck >= s.orphans.intervalMs) {
      this.#lastOrphanCheck = now
      const registered = {
        queues: [...new Set(this.#workers().flatMap((w) => w.queues))],
        kinds: this.#kinds(),
      }
      const params = { now: storeNow(this.#clock), staleAfterMs: s.rescueAfterMs, registered }
      await checkOrphans(this.#store, this.#events, params, s.orphans.failAfterMs, s.batchSize)
    }
    return rescued
  }

  /**
   * Runs `task` one heartbeat interval from now, then again an interval after each pass ends: a pass
   * still in flight delays the next one rather than stacking. Errors are reported, never thrown.
   */
  #arm(loop: Loop, task: () => Promise<unknown>): void {
    if (this.#stopped) return
    loop.timer = this.#clock.setTimeout(() => {
      loop.timer = null
      loop.pass = task()
        .then(
          () => undefined,
          (error) => this.#events.emit('error', { error, during: 'maintenance' }),
        )
        .finally(() => {
          loop.pass = null
          this.#arm(loop, task)
        })
    }, this.#settings.heartbeatIntervalMs)
  }
}
