/**
 * Drain: run due jobs in this process, one at a time, with the registered handlers, writing each
 * outcome before the next job starts. Used by tests (memory) and scripts (any adapter). Shutdown
 * stops a drain through its `DrainStop` (no more claims or starts; the running attempt aborted once
 * the grace period ends) and waits for it.
 */

import { InvalidArgumentError, ShutdownAbortError } from '../domain/errors.js'
import type { EventBus } from '../domain/events.js'
import {
  validateName,
  validateOptionalBoolean,
  validateOptionalInt,
  validateOptionsObject,
} from '../domain/validation.js'
import { reportOrphans } from '../maintenance/orphan-checker.js'
import { fireDueSchedules } from '../maintenance/schedule-service.js'
import { type Clock, storeNow, type TimerHandle } from '../ports/clock.js'
import type { DrainOptions, DrainResult } from '../ports/queue.js'
import type { JobStore, PollStrategy } from '../ports/store.js'
import { AbortHandle } from './abort-handle.js'
import type { HandlerRegistry } from './handler-registry.js'
import type { JobRunner } from './job-runner.js'

/** Drain claims jobs in batches of up to this much weight (the largest weight a job may have). */
const DRAIN_BATCH_WEIGHT = 10_000

/**
 * How shutdown stops a drain: `stop()` lets the running attempt finish but starts and claims no
 * more jobs; `abort()` also aborts the running attempt with `ShutdownAbortError`, so its job is
 * returned to the queue without counting the attempt.
 */
export class DrainStop {
  #stopping = false
  #aborted = false
  #running: AbortHandle | null = null

  /** True once shutdown asked the drain to stop. */
  get stopping(): boolean {
    return this.#stopping
  }

  /** No more claims or starts; the running attempt goes on. */
  stop(): void {
    this.#stopping = true
  }

  /** Stops, and aborts the running attempt (the grace period is over). */
  abort(): void {
    this.#stopping = true
    this.#aborted = true
    this.#running?.abort(new ShutdownAbortError())
  }

  /** The drain runs `abort` (null between attempts); aborted at once if `abort()` came first. */
  running(abort: AbortHandle | null): void {
    this.#running = abort
    if (abort && this.#aborted) abort.abort(new ShutdownAbortError())
  }
}

/** What drain works with. */
export interface DrainDeps {
  readonly store: JobStore
  readonly clock: Clock
  readonly events: EventBus
  readonly registry: HandlerRegistry
  readonly runner: JobRunner
  readonly strategy: PollStrategy
  readonly workerId: string
  readonly missedToleranceMs: number
  /**
   * Keeps this process's heartbeat fresh while it holds running jobs; `queues` are the ones this
   * drain serves (with the registered kinds), for orphan checks.
   */
  readonly heartbeat: (queues: readonly string[]) => Promise<void>
  readonly heartbeatIntervalMs: number
  /** A process silent this long no longer serves its kinds (the orphan report at the end). */
  readonly rescueAfterMs: number
  /** Lets shutdown stop this drain (none: it runs until no due job is left). */
  readonly stop?: DrainStop
}

/**
 * Runs due jobs until none is left (see `DrainOptions`); returns counts by outcome. Due jobs and
 * schedules of a queue and kind that neither this drain (its queues and registered kinds) nor a live
 * process serves are then reported on `orphaned` and `scheduleOrphaned` (when anyone listens).
 */
export async function drainJobs(deps: DrainDeps, options: DrainOptions): Promise<DrainResult> {
  validateDrainOptions(options)
  const { registry } = deps
  const queues = options.queues ?? [
    ...new Set(['default', ...registry.all().map((r) => r.definition.defaults.queue)]),
  ]
  const stop = deps.stop ?? new DrainStop()
  const counts = { ...(await drainDue(deps, options, queues, stop)), stopped: stop.stopping }
  // A drain stopped by shutdown did not run out of jobs: nothing to report, and the store is closing.
  if (counts.stopped) return counts
  await reportOrphans(deps.store, deps.events, {
    now: deps.clock.now(),
    staleAfterMs: deps.rescueAfterMs,
    registered: { queues, kinds: registry.kinds },
  })
  return counts
}

async function drainDue(
  deps: DrainDeps,
  options: DrainOptions,
  queues: readonly string[],
  stop: DrainStop,
): Promise<Omit<DrainResult, 'stopped'>> {
  const { store, clock, registry } = deps
  const limit =
    validateOptionalInt(options.limit, 'limit', 1, Number.MAX_SAFE_INTEGER) ?? Number.POSITIVE_INFINITY
  const counts = { succeeded: 0, retried: 0, failed: 0, cancelled: 0, snoozed: 0, total: 0 }
  const fire = () => fireDueSchedules(store, deps.events, clock.now(), deps.missedToleranceMs)
  await fire()
  // Without recursion, jobs enqueued while draining (ids above the newest now) are left alone.
  const newest = options.recursive ? undefined : (await store.listJobs({ filter: {}, limit: 1 }))[0]?.id
  if (!options.recursive && newest === undefined) return counts
  let lastBeat = Number.NEGATIVE_INFINITY
  const beat = async () => {
    if (clock.now() - lastBeat < deps.heartbeatIntervalMs) return
    lastBeat = clock.now()
    await deps.heartbeat(queues)
  }
  // A job that runs longer than `rescueAfterMs` must not look abandoned: beat on a timer while it
  // runs (a queue object that drains without start() has no other heartbeat).
  const beatingWhile = async <T>(work: () => Promise<T>): Promise<T> => {
    const pending = {
      timer: null as TimerHandle | null,
      beat: null as Promise<void> | null,
      /** A tick came while a beat was in flight: beat again once it settles. */
      again: false,
      done: false,
    }
    // One beat at a time: a slow heartbeat is not joined by more (they would queue for the pool and
    // could land out of order); a tick meanwhile is kept for when it settles.
    const tick = () => {
      if (pending.beat !== null) {
        pending.again = true
        return
      }
      pending.beat = beat()
        // Reported, not thrown: the job goes on, and the next beat tries again.
        .catch((error: unknown) => deps.events.emit('error', { error, during: 'heartbeat' }))
        .finally(() => {
          pending.beat = null
          if (pending.again && !pending.done) {
            pending.again = false
            tick()
          }
        })
    }
    const arm = (ms: number) => {
      pending.timer = clock.setTimeout(() => {
        tick()
        // A full interval from this tick (from the last beat, a beat still in flight would make
        // every following millisecond a tick).
        arm(deps.heartbeatIntervalMs)
      }, ms)
    }
    arm(Math.max(1, lastBeat + deps.heartbeatIntervalMs - clock.now()))
    try {
      return await work()
    } finally {
      pending.done = true
      pending.timer?.cancel()
      // A beat still in flight ends before the drain goes on (or returns).
      while (pending.beat !== null) await pending.beat
    }
  }
  while (counts.total < limit && registry.kinds.length > 0 && !stop.stopping) {
    await beat()
    // Shutdown may have begun during the beat.
    if (stop.stopping) break
    const jobs = await store.claimJobs({
      queues,
      kinds: registry.kinds,
      capacity: DRAIN_BATCH_WEIGHT,
      strategy: deps.strategy,
      now: storeNow(clock),
      dueBy: options.withScheduled ? Number.POSITIVE_INFINITY : undefined,
      workerId: deps.workerId,
      maxId: newest,
    })
    if (jobs.length > 0 && deps.events.has('claimed'))
      deps.events.emit('claimed', { jobs, workerId: deps.workerId })
    if (jobs.length === 0) {
      if (options.recursive && (await fire()) > 0) continue
      break
    }
    for (let i = 0; i < jobs.length; i++) {
      // The beat first: shutdown may begin while it is in flight, and must then stop this job too.
      if (counts.total < limit && !stop.stopping) await beat()
      // Past the limit, or shutdown began: the rest of the batch goes back unattempted.
      if (counts.total >= limit || stop.stopping) {
        const rest = jobs
          .slice(i)
          .map((j) => ({ id: j.id, outcome: 'released' as const, attempt: j.attempt }))
        await store.completeJobs({ completions: rest, now: storeNow(clock) })
        break
      }
      const job = jobs[i]!
      const abort = new AbortHandle()
      stop.running(abort)
      const outcome = await beatingWhile(() =>
        deps.runner
          .run(job, abort, { batched: false, transactional: false })
          .finally(() => stop.running(null)),
      )
      // Aborted by shutdown: the job went back to the queue and its attempt does not count.
      // (That abort exactly: a handler may throw a ShutdownAbortError of its own, a retry like any other.)
      if (
        outcome.outcome === 'retry' &&
        abort.reason instanceof ShutdownAbortError &&
        outcome.error === abort.reason
      )
        continue
      counts.total++
      if (outcome.outcome === 'retry') counts.retried++
      else counts[outcome.outcome]++
    }
  }
  return counts
}

function validateDrainOptions(options: unknown): void {
  const o = validateOptionsObject(options, 'drain options', ['withScheduled', 'recursive', 'limit', 'queues'])
  validateOptionalBoolean(o.withScheduled, 'withScheduled')
  validateOptionalBoolean(o.recursive, 'recursive')
  if (o.queues !== undefined) {
    if (!Array.isArray(o.queues))
      throw new InvalidArgumentError('drain option queues must be an array of queue names.')
    for (const q of o.queues) validateName(q, 'drain option queues')
  }
}
