import type { OrphanedJobs, ScheduleRecord } from '../ports/store.js'
import { InvalidArgumentError } from './errors.js'
import type { AttemptError, JobRecord } from './job.js'
import { describe } from './validation.js'

/**
 * The typed event stream of a queue: name -> payload. Events about many jobs at once (`claimed`,
 * `pruned`, `orphaned`) carry one batch each, so a busy queue emits one event per store call.
 * An attempt's outcome events (`succeeded`, `failed`, `retried`, `discarded`, `cancelled`,
 * `snoozed`, `groupReleased`) follow the write of its outcome: a listener that reads the job then
 * finds the outcome stored, and an outcome the store did not record (its job was cancelled or
 * rescued meanwhile, or the write was given up) emits none. `drain()` and `shutdown()` resolve after
 * the events of the outcomes they wrote.
 */
export interface QueueEvents {
  /** A handler was registered for a kind on this queue (`register`); `replaced` when one was before. */
  registered: { kind: string; queue: string; replaced: boolean }
  /** A job was stored (or found to be a duplicate). */
  enqueued: { job: JobRecord; duplicate: boolean }
  /** A worker (or drain) claimed these jobs in one store call; each is started now or held in its buffer. */
  claimed: { jobs: readonly JobRecord[]; workerId: string }
  /** An attempt started. */
  started: { job: JobRecord }
  /** An attempt succeeded; the job is done. */
  succeeded: { job: JobRecord; durationMs: number }
  /** An attempt threw or timed out (whether or not it will be retried). */
  failed: { job: JobRecord; error: AttemptError; willRetry: boolean; durationMs: number }
  /** A failed attempt will be retried at `runAt`. */
  retried: { job: JobRecord; runAt: number }
  /** The job failed for good (attempts exhausted or failed permanently). */
  discarded: { job: JobRecord; error: AttemptError }
  /** The job was cancelled by its handler or an operator. */
  cancelled: { job: JobRecord; reason: string }
  /** The handler snoozed the job until `runAt`. */
  snoozed: { job: JobRecord; runAt: number }
  /** An operator paused a waiting job (`pauseJobs`): it is not claimed until resumed. */
  paused: { job: JobRecord }
  /** An operator resumed a paused job (`resumeJobs`): it is `scheduled` or `available` again. */
  resumed: { job: JobRecord }
  /**
   * A job's run ended in a way that lets the next job of its group start (cuckmq's group release):
   * after every run of a `release` job (any outcome, a retry or snooze included), and after a `fifo`
   * job's final outcome (`succeeded`, `failed`, `cancelled`; a retry or snooze keeps the group). Not
   * emitted when a run is handed back unrun at shutdown, nor for a rescue, a group lock timeout or an
   * operator's cancel of a running job (its run's outcome is then not written; `cancelled` tells).
   */
  groupReleased: {
    job: JobRecord
    groupKey: string
    outcome: 'succeeded' | 'retry' | 'failed' | 'cancelled' | 'snoozed'
  }
  /** A running job of a process that stopped heartbeating was returned to the queue (or failed, out of attempts). */
  rescued: { jobId: string; job: JobRecord }
  /** A schedule enqueued the job for one tick. */
  scheduled: { schedule: ScheduleRecord; job: JobRecord; tick: number }
  /** Finished jobs past their retention were deleted (one event per prune pass that deleted any). */
  pruned: { count: number; finishedBefore: number }
  /**
   * Due waiting jobs of a queue and kind that no live process serves (none registered the kind and
   * runs a worker for the queue: they would wait forever), one event per queue and kind, on every
   * orphan check while they remain (see `QueueOptions.orphans`).
   */
  orphaned: OrphanedJobs
  /** A schedule (with ticks to come) whose ticks' queue and kind no live process serves, on every orphan check. */
  scheduleOrphaned: { schedule: ScheduleRecord }
  /** Something failed in the background (claim, completion, schedule); the queue keeps going. */
  error: { error: unknown; during: string }
}

/** Name of a queue event. */
export type QueueEventName = keyof QueueEvents

/** A listener for one event. */
export type QueueEventListener<E extends QueueEventName> = (event: QueueEvents[E]) => void

/** Every event name; as an object keyed by `QueueEventName`, the compiler fails when one is missing. */
const EVENT_NAMES = Object.keys({
  registered: true,
  claimed: true,
  enqueued: true,
  started: true,
  succeeded: true,
  failed: true,
  retried: true,
  discarded: true,
  cancelled: true,
  snoozed: true,
  paused: true,
  resumed: true,
  groupReleased: true,
  rescued: true,
  scheduled: true,
  pruned: true,
  orphaned: true,
  scheduleOrphaned: true,
  error: true,
} satisfies Record<QueueEventName, true>) as readonly QueueEventName[]

/** Minimal typed event emitter; a listener that throws is reported on `error`, never breaks the queue. */
export class EventBus {
  readonly #listeners = new Map<QueueEventName, Set<(event: never) => void>>()

  /** Adds a listener; returns a function that removes it. */
  on<E extends QueueEventName>(name: E, listener: QueueEventListener<E>): () => void {
    if (!EVENT_NAMES.includes(name))
      throw new InvalidArgumentError(
        `Unknown queue event ${describe(name)}; events: ${EVENT_NAMES.join(', ')}.`,
      )
    if (typeof listener !== 'function')
      throw new InvalidArgumentError(`on(${JSON.stringify(name)}, listener): listener must be a function.`)
    let set = this.#listeners.get(name)
    if (!set) {
      set = new Set()
      this.#listeners.set(name, set)
    }
    set.add(listener as (event: never) => void)
    return () => set.delete(listener as (event: never) => void)
  }

  /** True when anyone listens to `name` (lets hot paths skip building events). */
  has(name: QueueEventName): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0
  }

  /** Calls every listener of `name` synchronously. */
  emit<E extends QueueEventName>(name: E, event: QueueEvents[E]): void {
    const set = this.#listeners.get(name)
    if (!set) return
    for (const listener of set) {
      try {
        ;(listener as QueueEventListener<E>)(event)
      } catch (error) {
        if (name !== 'error') this.emit('error', { error, during: `${name} listener` })
      }
    }
  }
}
