import { MAX_TIMER_MS } from '../defaults.js'
import { InvalidArgumentError } from '../domain/errors.js'
import type { BackoffSpec } from '../domain/job.js'
import {
  describe,
  validateName,
  validateOptionalBoolean,
  validateOptionalInt,
  validateOptionsObject,
} from '../domain/validation.js'
import type { Clock } from '../ports/clock.js'
import type { Logger } from '../ports/logger.js'
import type { Middleware } from '../ports/middleware.js'
import type { OversizedPolicy, PollStrategy } from '../ports/store.js'

/** One worker: a loop that claims from some queues up to its capacity. */
export interface WorkerOptions {
  /** Name used in logs and as part of the worker id (default: the queues joined by `+`). */
  readonly name?: string
  /** Queues this worker serves. */
  readonly queues: readonly string[]
  /** Total weight of jobs it runs at once (default 10). With weight-1 jobs this is the concurrency. */
  readonly concurrency?: number
  /**
   * A job heavier than `concurrency`: `'alone'` runs it by itself when the worker is idle; `'refuse'`
   * never takes it, leaving it to a worker with room for it (default from the queue, else `'alone'`).
   */
  readonly oversized?: OversizedPolicy
  /** How jobs are ordered when claiming (default `priority`). */
  readonly strategy?: PollStrategy
  /** Fallback polling interval when no wake-up arrives (default from the queue). */
  readonly pollIntervalMs?: number
  /** Weight of extra claimed jobs held ready to start, or `'auto'` (default from the queue). */
  readonly prefetch?: number | 'auto'
  /** Run every job of this worker in its own transaction (see `RegisterOptions.transactional`). */
  readonly transactional?: boolean
  /**
   * Run the kinds registered as modules without their own `isolation` in a pool of worker threads
   * or child processes (see `RegisterOptions.isolation`); handlers registered as functions stay in process.
   */
  readonly isolation?: 'thread' | 'process'
}

/** Options shared by every adapter's queue. */
export interface QueueOptions {
  /** Time source (memory default: a `ManualClock`; Postgres default: the database's clock, a `DatabaseClock`). */
  readonly clock?: Clock
  /** Random source in [0, 1) for backoff jitter (default `Math.random`). */
  readonly random?: () => number
  /** Where run logs and background errors go (default: nowhere). */
  readonly logger?: Logger
  /** Shorthand for one worker per queue: `{ default: { concurrency: 10 }, mail: { concurrency: 2 } }`. */
  readonly queues?: Readonly<
    Record<string, { readonly concurrency?: number; readonly strategy?: PollStrategy }>
  >
  /** Named worker pools, each serving one or more queues. Used instead of `queues` when given. */
  readonly workers?: readonly WorkerOptions[]
  /** Default fallback poll interval in ms (default 1000). */
  readonly pollIntervalMs?: number
  /**
   * Default weight of claimed jobs each worker holds locally, ready to start when a slot frees.
   * Raises throughput (fewer, larger claims); the cost is that a crashed process's buffer waits for
   * rescue. `'auto'` starts at `AUTO_PREFETCH.base` and doubles up to `AUTO_PREFETCH.max` while a
   * worker starves on a backlog of fast jobs, falling back once the backlog is gone or buffered jobs
   * wait out `maxBufferWaitMs`. Adapters choose the default (memory: 0; Postgres: `'auto'`).
   */
  readonly prefetch?: number | 'auto'
  /** A buffered job not started within this many ms is released to the queue (default 5000). */
  readonly maxBufferWaitMs?: number
  /** Default claim ordering (default `priority`). */
  readonly strategy?: PollStrategy
  /** Default `oversized` policy of every worker (default `'alone'`; see `WorkerOptions.oversized`). */
  readonly oversized?: OversizedPolicy
  /** Default retry policy for jobs that set none. */
  readonly backoff?: Partial<BackoffSpec>
  /** Grace period of `shutdown` in ms (default 10 000). */
  readonly shutdownGraceMs?: number
  /** The schedule service: fires due ticks every `intervalMs` (default 1000) while started. */
  readonly scheduler?: {
    readonly enabled?: boolean
    readonly intervalMs?: number
    /**
     * A tick due at most this long ago is late, not missed: it is enqueued in turn, under either
     * policy. Older ticks are missed ones, handled by the schedule's `missed` policy (default 60 000).
     */
    readonly missedToleranceMs?: number
  }
  /** Heartbeats, crash rescue and pruning, run by every started queue. */
  readonly maintenance?: {
    readonly enabled?: boolean
    /** How often this process records that it is alive (default 2000 ms). */
    readonly heartbeatIntervalMs?: number
    /** A process silent this long is dead: its running jobs go back to the queue (default 15 000 ms). */
    readonly rescueAfterMs?: number
    /** How often to look for jobs of dead processes (default 5000 ms). */
    readonly rescueIntervalMs?: number
    /**
     * Failover at max execution time: a job with a `timeoutMs` that is still `running` this long
     * after its timeout (counted from its claim, on the store's clock: a job that waited in a
     * prefetching worker's local buffer started later, so a margin below `maxBufferWaitMs` is refused) is
     * rescued as a failed attempt (`JobTimeoutError`), even if its process still heartbeats: its
     * worker would have ended it at its timeout, so the worker is stuck or gone (default 60 000 ms, or
     * `maxBufferWaitMs` when that is longer;
     * null: only heartbeat silence rescues). A job within its timeout is never taken from a live
     * process.
     */
    readonly timeoutRescueMarginMs?: number | null
    /** Finished jobs are deleted this long after they finished (default 7 days; null keeps them). */
    readonly retentionMs?: number | null
    /** How often to prune (default 60 000 ms). */
    readonly pruneIntervalMs?: number
  }
  /**
   * Thresholds of `storageHealth()` (adapters that can read their database's health: Postgres). Its
   * `heldHorizon` warning fires when something (a session, a prepared transaction, a replication
   * slot) has held the xmin horizon for at least `horizonWarnAfterMs` (default 30 000) while a table
   * of the queue has at least `deadTuplesWarnAt` dead row versions (default 10 000). A reading is
   * reused for `cacheMs` (default 5000; 0 reads on every call).
   */
  readonly storageHealth?: {
    readonly horizonWarnAfterMs?: number
    readonly deadTuplesWarnAt?: number
    readonly cacheMs?: number
  }
  /**
   * Orphans: due waiting jobs of a queue and kind no live process serves: none registered the kind
   * and runs a worker for the queue (a process is live while its heartbeat is at most
   * `maintenance.rescueAfterMs` old). A started queue checks every `intervalMs` (default 30 000 ms)
   * in its maintenance loop and reports them on `orphaned` and `scheduleOrphaned`; with `failAfterMs`
   * (default null: never) it fails the orphans whose queue and kind have gone unserved that long (from
   * the later of the job's run time and the last heartbeat of a process that served them), each
   * reported on `discarded`.
   */
  readonly orphans?: {
    readonly intervalMs?: number
    readonly failAfterMs?: number | null
  }
  /**
   * A readable prefix of this process's id in heartbeats and `attemptedBy` (default: a random id);
   * letters, digits, `.`, `_` and `-`, such as a host name. Each queue object adds a random suffix
   * (`web-1` runs as `web-1-3f9a2c`): crash rescue goes by the id, so a process restarted under the
   * same name must not keep its crashed run's running jobs looking alive, and two live processes
   * given one name must not hide each other's crash. The suffix comes from the `random` option when
   * one is given (a test that fixes `random` sees the same ids on every run; two queue objects with
   * one name and a fixed `random` then share an id), else from `crypto.randomUUID()`.
   * Each queue object that heartbeats has a row of its own in the process list (PostgreSQL forgets
   * a row a day after its last heartbeat).
   */
  readonly processId?: string
  /**
   * Hooks around every enqueue call and every run, outermost first (see `Middleware`). The adapters'
   * factories put tracing (`tracingMiddleware`) in front of these unless `tracing.enabled` is false.
   */
  readonly middleware?: readonly Middleware[]
}

const QUEUE_OPTION_KEYS = [
  'clock',
  'random',
  'logger',
  'queues',
  'workers',
  'pollIntervalMs',
  'prefetch',
  'maxBufferWaitMs',
  'strategy',
  'oversized',
  'backoff',
  'shutdownGraceMs',
  'scheduler',
  'maintenance',
  'storageHealth',
  'orphans',
  'processId',
  'middleware',
] as const
const WORKER_KEYS = [
  'name',
  'queues',
  'concurrency',
  'oversized',
  'strategy',
  'pollIntervalMs',
  'prefetch',
  'transactional',
  'isolation',
]
const SCHEDULER_KEYS = ['enabled', 'intervalMs', 'missedToleranceMs']
const MAINTENANCE_KEYS = [
  'enabled',
  'heartbeatIntervalMs',
  'rescueAfterMs',
  'rescueIntervalMs',
  'timeoutRescueMarginMs',
  'retentionMs',
  'pruneIntervalMs',
]
const STORAGE_HEALTH_KEYS = ['horizonWarnAfterMs', 'deadTuplesWarnAt', 'cacheMs']
const ORPHANS_KEYS = ['intervalMs', 'failAfterMs']
const PROCESS_ID = /^[A-Za-z0-9_.-]{1,128}$/
const MAX_MS = MAX_TIMER_MS

/**
 * Checks the shared queue options (types, ranges, unknown keys, every worker's queues) and throws
 * `InvalidArgumentError` naming the field; `extraKeys` are an adapter's own options. The one
 * validation of `QueueOptions`: `resolveConfig` calls it, and nothing downstream checks again.
 */
export function validateQueueOptions(options: unknown, extraKeys: readonly string[] = []): QueueOptions {
  const o = validateOptionsObject(options, 'Queue options', [...QUEUE_OPTION_KEYS, ...extraKeys])
  const clock = o.clock as Partial<Clock> | undefined
  if (
    clock !== undefined &&
    (typeof clock !== 'object' ||
      clock === null ||
      typeof clock.now !== 'function' ||
      typeof clock.setTimeout !== 'function')
  ) {
    throw new InvalidArgumentError(
      `clock must be a Clock ({ now(), setTimeout(callback, ms) }, e.g. new ManualClock()); got ${describe(clock)}.`,
    )
  }
  if (o.random !== undefined && typeof o.random !== 'function')
    throw new InvalidArgumentError(`random must be a function returning [0, 1); got ${describe(o.random)}.`)
  const logger = o.logger as Record<string, unknown> | undefined
  if (
    logger !== undefined &&
    (typeof logger !== 'object' ||
      logger === null ||
      ['debug', 'info', 'warn', 'error'].some((level) => typeof logger[level] !== 'function'))
  ) {
    throw new InvalidArgumentError(
      `logger must have debug, info, warn and error methods (console works); got ${describe(logger)}.`,
    )
  }
  validateStrategy(o.strategy, 'strategy')
  validateOversized(o.oversized, 'oversized')
  validatePrefetch(o.prefetch, 'prefetch')
  validateOptionalInt(o.pollIntervalMs, 'pollIntervalMs', 1, MAX_MS)
  validateOptionalInt(o.maxBufferWaitMs, 'maxBufferWaitMs', 1, MAX_MS)
  validateOptionalInt(o.shutdownGraceMs, 'shutdownGraceMs', 0, MAX_MS)
  validateMiddleware(o.middleware)
  if (o.queues !== undefined) {
    const queues = validateOptionsObject(o.queues, 'queues', null)
    for (const [name, q] of Object.entries(queues)) {
      validateName(name, 'queues key')
      const entry = validateOptionsObject(q ?? 0, `queues.${name}`, ['concurrency', 'strategy'])
      validateOptionalInt(entry.concurrency, `queues.${name}.concurrency`, 1, 100_000)
      validateStrategy(entry.strategy, `queues.${name}.strategy`)
    }
  }
  if (o.workers !== undefined) {
    if (!Array.isArray(o.workers))
      throw new InvalidArgumentError(
        `workers must be an array of { queues, concurrency, ... }; got ${describe(o.workers)}.`,
      )
    o.workers.forEach((w: unknown, i: number) => {
      const worker = validateOptionsObject(w ?? 0, `workers[${i}]`, WORKER_KEYS)
      if (worker.name !== undefined) validateName(worker.name, `workers[${i}].name`)
      validateStrategy(worker.strategy, `workers[${i}].strategy`)
      validateOversized(worker.oversized, `workers[${i}].oversized`)
      validatePrefetch(worker.prefetch, `workers[${i}].prefetch`)
      validateOptionalBoolean(worker.transactional, `workers[${i}].transactional`)
      if (worker.isolation !== undefined && worker.isolation !== 'thread' && worker.isolation !== 'process')
        throw new InvalidArgumentError(
          `workers[${i}].isolation must be 'thread' or 'process'; got ${describe(worker.isolation)}.`,
        )
      if (!Array.isArray(worker.queues) || worker.queues.length === 0)
        throw new InvalidArgumentError(`workers[${i}].queues must be a non-empty array of queue names.`)
      for (const q of worker.queues) validateName(q, `workers[${i}].queues`)
      validateOptionalInt(worker.concurrency, `workers[${i}].concurrency`, 1, 100_000)
      validateOptionalInt(worker.pollIntervalMs, `workers[${i}].pollIntervalMs`, 1, MAX_MS)
    })
  }
  const scheduler = validateOptionsObject(o.scheduler, 'scheduler', SCHEDULER_KEYS)
  validateOptionalBoolean(scheduler.enabled, 'scheduler.enabled')
  validateOptionalInt(scheduler.intervalMs, 'scheduler.intervalMs', 1, MAX_MS)
  validateOptionalInt(scheduler.missedToleranceMs, 'scheduler.missedToleranceMs', 0, MAX_MS)
  const maintenance = validateOptionsObject(o.maintenance, 'maintenance', MAINTENANCE_KEYS)
  validateOptionalBoolean(maintenance.enabled, 'maintenance.enabled')
  for (const key of MAINTENANCE_KEYS) {
    if (key === 'enabled') continue
    if ((key === 'retentionMs' || key === 'timeoutRescueMarginMs') && maintenance[key] === null) continue
    validateOptionalInt(
      maintenance[key],
      `maintenance.${key}`,
      key === 'timeoutRescueMarginMs' ? 0 : 1,
      MAX_MS,
    )
  }
  const health = validateOptionsObject(o.storageHealth, 'storageHealth', STORAGE_HEALTH_KEYS)
  validateOptionalInt(health.horizonWarnAfterMs, 'storageHealth.horizonWarnAfterMs', 0, MAX_MS)
  validateOptionalInt(health.deadTuplesWarnAt, 'storageHealth.deadTuplesWarnAt', 0, Number.MAX_SAFE_INTEGER)
  validateOptionalInt(health.cacheMs, 'storageHealth.cacheMs', 0, 3_600_000)
  const orphans = validateOptionsObject(o.orphans, 'orphans', ORPHANS_KEYS)
  validateOptionalInt(orphans.intervalMs, 'orphans.intervalMs', 1, MAX_MS)
  if (orphans.failAfterMs !== null) validateOptionalInt(orphans.failAfterMs, 'orphans.failAfterMs', 1, MAX_MS)
  if (o.processId !== undefined && (typeof o.processId !== 'string' || !PROCESS_ID.test(o.processId)))
    throw new InvalidArgumentError(
      `processId must be 1-128 letters, digits, '.', '_' or '-' (a host name works: each queue object adds a suffix of its own); got ${describe(o.processId)}.`,
    )
  return o as QueueOptions
}

/** Validates a `prefetch` option: a whole number from 0 to 100,000, or `'auto'`. */
export function validatePrefetch(value: unknown, field: string): void {
  if (value === 'auto') return
  if (typeof value === 'string')
    throw new InvalidArgumentError(
      `${field} must be a whole number from 0 to 100000 or 'auto'; got ${describe(value)}.`,
    )
  validateOptionalInt(value, field, 0, 100_000)
}

function validateOversized(value: unknown, field: string): void {
  if (value !== undefined && value !== 'alone' && value !== 'refuse')
    throw new InvalidArgumentError(
      `${field} must be 'alone' (a job heavier than the worker's concurrency runs by itself when the worker is idle) or 'refuse' (it is never taken by this worker); got ${describe(value)}.`,
    )
}

function validateStrategy(value: unknown, field: string): void {
  if (value !== undefined && value !== 'priority' && value !== 'time')
    throw new InvalidArgumentError(`${field} must be 'priority' or 'time'; got ${describe(value)}.`)
}

/**
 * Checks `middleware`: an array of objects, each with an optional insert and run function and an
 * optional string name (one without hooks, such as disabled tracing, does nothing); other fields
 * are the middleware's own (hooks may be methods of a class).
 */
export function validateMiddleware(middleware: unknown): void {
  if (middleware === undefined) return
  if (!Array.isArray(middleware))
    throw new InvalidArgumentError(
      `middleware must be an array of { name?, insert?, run? } objects; got ${describe(middleware)}.`,
    )
  middleware.forEach((m: unknown, i: number) => {
    if (typeof m !== 'object' || m === null)
      throw new InvalidArgumentError(
        `middleware[${i}] must be an object { name?, insert?, run? }; got ${describe(m)}.`,
      )
    const entry = m as Record<string, unknown>
    if (entry.name !== undefined && typeof entry.name !== 'string')
      throw new InvalidArgumentError(`middleware[${i}].name must be a string; got ${describe(entry.name)}.`)
    for (const hook of ['insert', 'run'] as const)
      if (entry[hook] !== undefined && typeof entry[hook] !== 'function')
        throw new InvalidArgumentError(
          `middleware[${i}].${hook} must be a function (${hook === 'insert' ? '(call, next) => next()' : '(job, next) => next()'}); got ${describe(entry[hook])}.`,
        )
  })
}
