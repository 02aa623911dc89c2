/**
 * The public ports. Depend on the narrowest one: code that only enqueues takes an `Enqueuer`, code
 * that only registers schedules takes a `Scheduler`; only the process that runs workers holds a `Queue`.
 *
 * Glossary (the words the code, the docs and the errors use):
 * - job: one unit of work stored with its kind, payload, state, attempt count and run time
 *   (`JobRecord`), kept until pruned.
 * - kind: the name of a type of job (`send-email`); one handler per kind in a queue instance.
 * - definition: what `defineJob` returns: a kind, its payload schema and its defaults (`JobDefinition`).
 * - payload: the JSON data a job carries, validated against its definition at enqueue.
 * - queue: a named lane jobs wait in (`default`, `mail`), which can be paused; also the object
 *   (`Queue`) that enqueues, runs and manages jobs in a process.
 * - enqueuer: the side that validates and stores jobs (`Enqueuer`, `runtime/enqueuer.ts`).
 * - store: the storage port (`JobStore`, `ports/store.ts`), implemented by each adapter.
 * - claim: taking due jobs for a worker in one store call, marking them `running` (`claimJobs`).
 * - worker: a loop that claims jobs from some queues up to its capacity and starts them.
 * - capacity / weight: a worker runs jobs while the sum of their weights stays within its capacity.
 * - pool: the workers of one process, together (`QueueOptions.workers`).
 * - prefetch: claimed jobs a worker holds in its buffer, ready to start when a slot frees.
 * - runner: runs one claimed job (run middleware, events, completion) by calling the executor.
 * - middleware: hooks around every enqueue call (insert) and every attempt (run), such as tracing
 *   (`Middleware`, `ports/middleware.ts`).
 * - executor: calls a handler once and turns what it returns or throws into an outcome.
 * - completer: writes outcomes back to the store in batches.
 * - attempt: one execution of a job's handler, counted from 1; a job is retried until its attempts
 *   run out.
 * - workflow state: a JSON value kept with the job and handed to each attempt, changed by the handler.
 * - run: the record of one attempt (its logs, its span); `RunLog` keeps a run's log lines.
 * - outcome: how an attempt ended: succeeded, retry, failed, cancelled or snoozed.
 * - control: a value a handler returns or throws to snooze, fail or cancel its job (`JobControl`).
 * - schedule: a stored expression (cron, `@every`, `@after`, `@at`) that enqueues a job at each tick.
 * - tick: one instant a schedule is due; each tick is enqueued at most once across processes.
 * - scheduler: the port that registers schedules (`Scheduler`); the schedule service fires ticks.
 * - heartbeat: a process's periodic proof of life; the rescuer returns jobs of silent processes.
 * - rescue: putting back `running` jobs of a dead process; prune: deleting old finished jobs.
 * - orphan: a due waiting job (or a schedule) whose queue and kind no live process serves (none
 *   registered the kind and runs a worker for the queue): nothing would ever run it; reported by
 *   orphan checks, failed after `orphans.failAfterMs` when set.
 * - drain: running due jobs in this process, one at a time, until none is left (tests, scripts).
 */

import type { EnqueueOptions } from '../domain/enqueue-options.js'
import type { QueueEventListener, QueueEventName } from '../domain/events.js'
import type { JobRecord, JobState } from '../domain/job.js'
import type { JobDefinition } from '../domain/job-definition.js'
import type { JobRef } from '../domain/job-ref.js'
import type { JsonValue } from '../domain/json.js'
import type { StorageHealth, StorageHealthOptions } from '../domain/storage-health.js'
import type { Clock } from './clock.js'
import type { HandlerModule, JobHandler, RegisterOptions } from './handler.js'
import type { Logger } from './logger.js'
import type {
  JobFilter,
  MissedTickPolicy,
  OrphanReport,
  ProcessRecord,
  QueueStats,
  ScheduleRecord,
  TransactionHandle,
} from './store.js'

/** What enqueue returns for each job. */
export interface EnqueueResult {
  /** Id of the stored job (the existing job's id when `duplicate`). */
  readonly id: string
  readonly kind: string
  readonly queue: string
  readonly state: JobState
  readonly runAt: number
  /** True when the job was skipped because a job with its unique key is waiting or running. */
  readonly duplicate: boolean
}

/** One item of `enqueueMany`. */
export interface EnqueueManyItem<P = unknown> {
  readonly job: JobDefinition<P>
  readonly payload: P
  readonly options?: Omit<EnqueueOptions, 'tx'>
}

/**
 * A batch for `enqueueMany`, each item checked against its own definition's payload type: an item
 * whose payload does not fit its `job` fails to compile (the intersection with `T` makes it `never`).
 */
export type EnqueueManyItems<T extends readonly unknown[]> = T & {
  readonly [K in keyof T]: T[K] extends { readonly job: JobDefinition<infer P> }
    ? EnqueueManyItem<P>
    : EnqueueManyItem<never>
}

/** Adds jobs. */
export interface Enqueuer {
  /** Validates and stores one job. */
  enqueue<P>(job: JobDefinition<P>, payload: P, options?: EnqueueOptions): Promise<EnqueueResult>
  /** Validates all, then stores jobs of mixed kinds in one round trip (all or nothing). */
  enqueueMany<const T extends readonly unknown[]>(
    items: EnqueueManyItems<T>,
    options?: { tx?: TransactionHandle },
  ): Promise<EnqueueResult[]>
}

/** Options of `schedule`. */
export interface ScheduleOptions
  extends Omit<EnqueueOptions, 'tx' | 'runAt' | 'delayMs' | 'uniqueKey' | 'dependsOn'> {
  /**
   * Unique name of the schedule; scheduling the same name again replaces it. Default: the kind and a
   * short hash of the expression and payload (`cleanup:1a2b3c4d`), so the same kind scheduled with
   * other payloads or expressions keeps both, and the same call again is idempotent. A schedule
   * stored under the kind alone (the default of earlier versions) with the same expression and
   * payload is kept under that name.
   */
  readonly name?: string
  /** IANA time zone for cron expressions and calendar intervals (months, years) (default UTC). */
  readonly timezone?: string
  /** Ticks missed while nothing ran: `runOnce` (default) enqueues the latest one, `skip` drops them. */
  readonly missed?: MissedTickPolicy
  /**
   * No tick before this instant (a Date or epoch ms). `@every` counts from it (its first tick is
   * `startAt` itself); cron takes its first tick at or after it. Not with `@at`.
   */
  readonly startAt?: Date | number
  /**
   * Runs after another schedule, by name: each time a run of that schedule succeeds, this schedule
   * enqueues one job, due at that run's tick plus the delay of this schedule's expression, which
   * must be `@after <interval>` (e.g. `@after 1 minute`). A failed run enqueues nothing (the next
   * success does); while no schedule of that name exists, nothing is enqueued.
   */
  readonly after?: string
}

/** Registers schedules. */
export interface Scheduler {
  /** Stores (or replaces) a schedule that enqueues `job` with `payload` at each tick of `expression`. */
  schedule<P>(
    expression: string,
    job: JobDefinition<P>,
    payload: P,
    options?: ScheduleOptions,
  ): Promise<ScheduleRecord>
  /** Removes a schedule by name; returns whether it existed. */
  unschedule(name: string): Promise<boolean>
  /** Lists stored schedules. */
  listSchedules(): Promise<ScheduleRecord[]>
}

/** Options of `drain`. */
export interface DrainOptions {
  /** Also run jobs whose run-at is in the future (scheduled, snoozed and retrying jobs). */
  readonly withScheduled?: boolean
  /** Keep running jobs enqueued while draining (by handlers or schedules), until none is due. */
  readonly recursive?: boolean
  /** Run at most this many jobs. */
  readonly limit?: number
  /** Only these queues (default: every queue with a registered kind). */
  readonly queues?: readonly string[]
}

/** Counts of attempts by outcome, returned by `drain`. */
export interface DrainResult {
  readonly succeeded: number
  readonly retried: number
  readonly failed: number
  readonly cancelled: number
  readonly snoozed: number
  /** Attempts run in all (an attempt aborted by shutdown is not one: its job went back unattempted). */
  readonly total: number
  /**
   * True when `shutdown()` began before the drain ended: it started no job after that (due jobs may
   * be left), and a job still running when the grace period ended was returned to the queue.
   */
  readonly stopped: boolean
}

/** Outcome of one attempt, as `performJob` reports it. */
export type AttemptOutcome =
  | { readonly outcome: 'succeeded'; readonly result: unknown }
  | { readonly outcome: 'retry'; readonly error: unknown; readonly runAt: number }
  | { readonly outcome: 'failed'; readonly error: unknown }
  | { readonly outcome: 'cancelled'; readonly reason: string }
  | { readonly outcome: 'snoozed'; readonly runAt: number }

/** The fields of a waiting job that can be changed. */
export interface JobPatch {
  /** New earliest run time (Date or epoch ms). */
  readonly runAt?: Date | number
  /** New priority (same range/validation as enqueue's `priority`). */
  readonly priority?: number
  /** New payload; validated against the kind's definition (schema + JSON check). */
  readonly payload?: unknown
  /** New workflow state, what the next run reads as `ctx.state` (any JSON value; null clears it). */
  readonly state?: JsonValue | null
  /**
   * New expression for the schedule that enqueued this job (a job with a `scheduleName`): later
   * ticks follow it. This job keeps its run time unless `runAt` is given too. The schedule keeps its
   * name, payload, options and time zone, exactly as `schedule(expression, job, payload, { name })`
   * with its other arguments unchanged.
   */
  readonly expression?: string
}

/** Options of `updateJob`. */
export interface UpdateJobOptions {
  /** The job's definition, to validate a new payload when its kind is not registered on this queue. */
  readonly job?: JobDefinition<unknown>
}

/** Options of `shutdown`. */
export interface ShutdownOptions {
  /** How long running jobs may take to finish before they are aborted and returned (default from the queue). */
  readonly graceMs?: number
}

/** The process that runs workers: enqueue, schedule, register handlers, run, manage jobs. */
export interface Queue extends Enqueuer, Scheduler {
  /** The clock this queue reads time from. */
  readonly clock: Clock
  /**
   * Registers the handler for a job kind (before or after start): a function run in this process, or
   * a module (URL or absolute path) run isolated in a thread or a child process (`options.isolation`).
   */
  register<P>(job: JobDefinition<P>, handler: JobHandler<P> | HandlerModule, options?: RegisterOptions): void
  /** Starts workers and the scheduler. Idempotent: a second call returns the first call's promise. */
  start(): Promise<void>
  /** Stops claiming, lets running jobs finish within the grace period, aborts and returns the rest. Idempotent. */
  shutdown(options?: ShutdownOptions): Promise<void>
  /** Runs due jobs in this process with the registered handlers, one at a time, and reports outcomes. */
  drain(options?: DrainOptions): Promise<DrainResult>
  /** Subscribes to a typed event; returns an unsubscribe function. */
  on<E extends QueueEventName>(event: E, listener: QueueEventListener<E>): () => void
  /**
   * Returns a job by id or by name, or null. A name (`{ key, kind? }`, see `JobKeyRef`) means the job
   * that waits, is paused or runs with that unique key, else the newest finished job that had it; a name that
   * jobs of several kinds hold at once throws `AmbiguousJobKeyError` (add `kind`).
   */
  getJob(job: JobRef): Promise<JobRecord | null>
  /**
   * Lists jobs matching a filter, newest first. `filter.key` keeps only the job that name means
   * (its holders of every kind when the filter has no `kind`); `filter.uniqueKey` every job that
   * ever had the key.
   */
  listJobs(filter?: JobFilter, page?: { limit?: number; beforeId?: string }): Promise<JobRecord[]>
  /**
   * Makes matching failed, cancelled, succeeded, waiting or paused jobs available now; returns the
   * count. `retryJobs({ key })` restarts the job of that name (a finished one only while no other job
   * holds the key).
   */
  retryJobs(filter: JobFilter): Promise<number>
  /**
   * Cancels matching waiting, paused or running jobs (running handlers see their signal abort);
   * returns the count. `cancelJobs({ key })` stops the job of that name.
   */
  cancelJobs(filter: JobFilter): Promise<number>
  /**
   * Deletes matching jobs that are not running; returns the count. `deleteJobs({ key })` deletes the
   * job of that name only (the older jobs that had the key stay; `{ uniqueKey }` selects them all).
   */
  deleteJobs(filter: JobFilter): Promise<number>
  /**
   * Pauses matching waiting jobs (scheduled, available or retryable): each becomes `paused` and is
   * never claimed until resumed. It keeps its run time, attempts, workflow state and unique key, is
   * not pruned, can be cancelled, deleted, retried (run now) or changed (`updateJob`), and does not
   * hold up the rest of its group. Emits `paused` per job; returns the count. `pauseJobs({ key })`
   * pauses the job of that name (see `getJob`), as `resumeJobs({ key })` resumes it.
   */
  pauseJobs(filter: JobFilter): Promise<number>
  /**
   * Resumes matching paused jobs: `scheduled` when their run time is still ahead, else `available`
   * (idle workers are woken). Emits `resumed` per job; returns the count.
   */
  resumeJobs(filter: JobFilter): Promise<number>
  /**
   * Changes a waiting (scheduled, available or retryable) or paused job, by id or by name
   * (`{ key, kind? }`, see `getJob`), and returns it as stored now.
   *
   * A new `runAt` in the future makes a scheduled or available job `scheduled`, at or before now
   * `available` (idle workers are woken, as on enqueue); a `retryable` job stays `retryable` with its
   * attempts and errors, only its run time moves (like a backoff delay changed by hand). A new
   * `payload` is validated with `options.job` (same kind as the job) or else the definition
   * registered for the job's kind, and stored as the schema outputs it; with neither, it throws
   * `UnknownJobKindError`. A new `state` replaces the workflow state (`INVALID_PAYLOAD` when it is
   * not JSON); a paused job stays paused whatever changes. A new `expression` replaces the
   * expression of the schedule that enqueued the job (`InvalidScheduleError` when it does not parse;
   * `InvalidArgumentError` when no schedule enqueued the job or that schedule was removed).
   * Nothing is written unless every check passes. Attempt, errors, unique key,
   * group, dependencies, metadata and the other fields stay. Throws `JobNotFoundError` for an unknown
   * id, `JobKeyNotFoundError` for a name no job has, `AmbiguousJobKeyError` as `getJob`, and
   * `JobNotWaitingError` for a job that runs or has finished (also when a worker claims it while the
   * update is on its way: the change is atomic against claims; a name is resolved to an id first).
   */
  updateJob(job: JobRef, patch: JobPatch, options?: UpdateJobOptions): Promise<JobRecord>
  /** The definition registered for a kind on this queue (by `register`), if any. */
  jobDefinition(kind: string): JobDefinition<unknown> | undefined
  /** Stops claiming from a queue in every process until resumed. */
  pauseQueue(queue: string): Promise<void>
  /** Resumes a paused queue. */
  resumeQueue(queue: string): Promise<void>
  /** Job counts by queue and state. */
  stats(): Promise<QueueStats[]>
  /**
   * The live processes (a heartbeat within `maintenance.rescueAfterMs`) sharing this queue's store,
   * with the workers each recorded when it started: queues, capacity, `oversized` policy.
   */
  listProcesses(): Promise<ProcessRecord[]>
  /**
   * The storage's health: dead tuples, sizes and vacuum times of the queue's tables, what holds the
   * database's xmin horizon (oldest first, with how long), and the warnings they raise (see
   * `QueueOptions.storageHealth`). Reads catalog views only; a reading is reused for
   * `storageHealth.cacheMs` unless `maxAgeMs` asks for a fresher one. Null when the store cannot read
   * it (the memory store).
   */
  storageHealth(options?: StorageHealthOptions): Promise<StorageHealth | null>
  /**
   * Orphans: due waiting jobs, by queue and kind, and schedules with ticks to come, whose queue and
   * kind no live process serves (registered the kind and runs a worker for the queue; nor this queue,
   * once started, in its workers' queues). One store read of waiting jobs only.
   */
  findOrphans(): Promise<OrphanReport>
  /** Deletes finished jobs older than `olderThanMs`, in batches; returns the count. */
  prune(options?: { olderThanMs?: number; batchSize?: number }): Promise<number>
}

/** The handler side, re-exported so every public port is importable from here. */
export type {
  HandlerModule,
  IsolatedJobContext,
  IsolatedJobHandler,
  JobContext,
  JobHandler,
  RegisterOptions,
  ScheduleRunInfo,
} from './handler.js'
/** Re-exported so users can type their own loggers. */
export type { Logger }
