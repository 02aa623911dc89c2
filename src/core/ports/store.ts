/**
 * The storage port: the narrow interface every adapter implements (memory, Postgres). Each method
 * takes one params object and returns domain types. The current time (`now`, epoch ms) is optional:
 * under a `ManualClock` (tests) the core passes the clock's time and every adapter uses it; with a
 * real-time clock the core omits it and the store uses its own clock (PostgreSQL's `now()`, the
 * memory store's host clock), so all processes sharing a database agree on one time whatever their
 * hosts' clocks say. Adapters translate their own errors into Conveyor errors.
 *
 * The semantics below are normative; the conformance suite in `test/conformance` checks them.
 */
import { InvalidArgumentError } from '../domain/errors.js'
import type { AttemptError, BackoffSpec, GroupMode, JobRecord, JobState, RunLog } from '../domain/job.js'
import type { JsonValue } from '../domain/json.js'
import type { StorageHealthReading } from '../domain/storage-health.js'

/** Anything that can run a parameterized query inside the caller's transaction (a `pg` client, ...). */
export interface TransactionHandle {
  query(text: string, values?: unknown[]): Promise<unknown>
}

/** A job to insert, fully resolved by the core (defaults applied, validated). */
export interface NewJob {
  readonly kind: string
  readonly queue: string
  readonly payload: JsonValue
  readonly priority: number
  /** Earliest run time, epoch ms; `<= now` means available at once. */
  readonly runAt: number
  readonly maxAttempts: number
  readonly timeoutMs: number
  readonly weight: number
  readonly uniqueKey: string | null
  readonly groupKey: string | null
  /** How the job waits for its group (absent: `fifo`, as in schedule templates stored before it existed). */
  readonly groupMode?: GroupMode
  /** Running this long, the job no longer holds its group (absent or null: never). */
  readonly groupLockTimeoutMs?: number | null
  readonly dependsOn: readonly string[]
  readonly metadata: Readonly<Record<string, JsonValue>>
  readonly tags: readonly string[]
  readonly workflowState: JsonValue | null
  readonly backoff: BackoffSpec | null
  readonly scheduleName: string | null
  readonly scheduleTick: number | null
  readonly traceContext: Readonly<Record<string, string>> | null
}

/** Result of inserting one job: the stored job, or the pending job that holds its unique key. */
export interface InsertOutcome {
  readonly job: JobRecord
  /** True when nothing was inserted because a waiting or running job of the same kind has the unique key. */
  readonly duplicate: boolean
}

/** Which jobs a claim may take. */
export interface ClaimParams {
  /** Queues to claim from (paused queues are skipped by the store). */
  readonly queues: readonly string[]
  /** Only these kinds (the kinds this process has handlers for). */
  readonly kinds: readonly string[]
  /** Total weight the claimed jobs may add up to (free capacity). */
  readonly capacity: number
  /**
   * Take the first job in order even if it alone exceeds `capacity` (the worker is idle, so a job
   * heavier than its whole capacity runs alone instead of never).
   */
  readonly oversizedFirst?: boolean
  /**
   * Only jobs whose weight is at most this (a worker that refuses oversized jobs passes its whole
   * capacity, so a heavier job is skipped, never run, and never blocks lighter jobs behind it).
   */
  readonly maxWeight?: number
  /** Ordering: `priority` = priority, run-at, id; `time` = run-at, id. */
  readonly strategy: PollStrategy
  readonly now?: number
  /** Claim jobs due at or before this time (defaults to `now`; drain uses it to run scheduled jobs early). */
  readonly dueBy?: number
  /** Id of the claiming worker, recorded as `attemptedBy`. */
  readonly workerId: string
  /** Only jobs with id <= this (drain without recursion: skip jobs enqueued while draining). */
  readonly maxId?: string
  /**
   * The claim comes from a worker's claim loop, which claims again and again under `workerId`. The
   * store may then resume its scan where that worker's previous claim ended and skip jobs ordered
   * before it (the Postgres keyset claim), provided every claimable job is still taken within a
   * bounded time (Postgres: a claim from the front at least every `claimCursor.fullScanIntervalMs`).
   * Without it (and always with `maxId` or `dueBy`), a claim takes jobs in strict strategy order.
   */
  readonly resume?: boolean
}

/** How claims order waiting jobs. */
export type PollStrategy = 'priority' | 'time'

/** What a worker does with a job heavier than its whole capacity: run it alone when idle, or never. */
export type OversizedPolicy = 'alone' | 'refuse'

/** One worker of a process, as its heartbeat records it (what it can take). */
export interface ProcessWorker {
  readonly queues: readonly string[]
  readonly capacity: number
  readonly oversized: OversizedPolicy
}

/** A process that heartbeats, with the workers it recorded (null: it recorded none). */
export interface ProcessRecord {
  readonly id: string
  readonly lastHeartbeatAt: number
  readonly startedAt: number
  readonly workers: readonly ProcessWorker[] | null
}

/**
 * The outcome of one attempt, to be written back by `completeJobs`. When `attempt` is given, the
 * completion only applies if the job is still running that attempt (a job rescued from a worker
 * thought dead, and claimed again, is never overwritten by the first worker's late result). When
 * `logs` is given (the run logged something), it is appended to the job's logs in the same write,
 * keeping the last `RUN_LOGS_KEPT` runs.
 */
export type Completion = CompletionOutcome & { readonly attempt?: number; readonly logs?: RunLog }

/**
 * When a retried or snoozed job is due again: at `runAt` (epoch ms, a `ManualClock`'s time), or
 * `delayMs` after the store's time of the write (the call's `now` when given, else the store's own
 * clock: PostgreSQL computes `coalesce($now, now()) + delay`). The core sends `delayMs` with a
 * real-time clock, so the run time follows the database's clock, never the host's.
 */
export type RunAgainAt =
  | { readonly runAt: number; readonly delayMs?: undefined }
  | { readonly delayMs: number; readonly runAt?: undefined }

/** The outcome part of a completion. */
export type CompletionOutcome =
  | { readonly id: string; readonly outcome: 'succeeded'; readonly workflowState?: JsonValue | null }
  | ({
      readonly id: string
      readonly outcome: 'retry'
      readonly error: AttemptError
      readonly workflowState?: JsonValue | null
    } & RunAgainAt)
  | {
      readonly id: string
      readonly outcome: 'failed'
      readonly error: AttemptError
      readonly workflowState?: JsonValue | null
    }
  | {
      readonly id: string
      readonly outcome: 'cancelled'
      readonly error?: AttemptError
      readonly workflowState?: JsonValue | null
    }
  | ({
      readonly id: string
      readonly outcome: 'snoozed'
      readonly workflowState?: JsonValue | null
    } & RunAgainAt)
  /** Returned unrun (shutdown): back to available, the attempt is not counted. */
  | { readonly id: string; readonly outcome: 'released' }

/** Filter over jobs, for listing and bulk operations. All given fields must match. */
export interface JobFilter {
  readonly ids?: readonly string[]
  readonly queue?: string
  readonly kind?: string
  readonly states?: readonly JobState[]
  /** Case-insensitive substring of the payload's JSON text. */
  readonly payloadContains?: string
  /**
   * JSON the payload contains, as PostgreSQL's `jsonb @>` defines it: an object contains an object
   * whose every key it has with a containing value; an array contains an array whose every element is
   * contained in one of its elements; scalars contain equal scalars (numbers by value, `"1"` is not
   * `1`); and a top-level array payload contains a top-level scalar equal to one of its elements.
   * E.g. `{ customer: { id: 7 } }`, `{ tags: ['urgent'] }`. Not indexed: it scans the other filters' rows.
   */
  readonly payloadIncludes?: JsonValue
  readonly createdAfter?: number
  readonly createdBefore?: number
  readonly groupKey?: string
  /** Every job with this unique key, of any kind (and `kind`) and state, finished ones included. */
  readonly uniqueKey?: string
  readonly scheduleName?: string
  /**
   * Jobs at least this heavy (`weight >= minWeight`): with a queue and the waiting states, the jobs
   * that workers refusing oversized jobs with less capacity will never take.
   */
  readonly minWeight?: number
  /**
   * Only the job this name means (see `JobKeyRef`): the job of `kind` (any kind when the filter has
   * none) that waits, is paused or runs with this unique key, or when none does, the newest finished job that
   * had it. Without `kind`, every kind's holder. Resolved by the core before the store is called:
   * stores never receive it.
   */
  readonly key?: string
}

/** Listing parameters: filter, keyset cursor (a job id) and page size. Newest first. */
export interface ListJobsParams {
  readonly filter: JobFilter
  readonly limit: number
  /** Return jobs with ids smaller than this one (next page). */
  readonly beforeId?: string
}

/** What `updateJob` changes, resolved by the core: epoch ms, a validated priority and payload. */
export interface JobChanges {
  readonly runAt?: number
  readonly priority?: number
  readonly payload?: JsonValue
  /** The new workflow state (what handlers read as `ctx.state`); null clears it. */
  readonly workflowState?: JsonValue | null
}

/** Result of `updateJob`: the job as stored now, or why nothing was written. */
export type UpdateJobOutcome =
  | { readonly status: 'updated'; readonly job: JobRecord }
  | { readonly status: 'notFound' }
  | { readonly status: 'notWaiting'; readonly state: JobState }

/** A stored schedule. */
export interface ScheduleRecord {
  readonly name: string
  readonly expression: string
  readonly timezone: string | null
  readonly kind: string
  readonly payload: JsonValue
  /** Job options applied to each tick's job (queue, priority, ...), as resolved by the core. */
  readonly jobTemplate: ScheduleJobTemplate
  /** Next tick to enqueue, epoch ms; null when a one-off schedule has fired. */
  readonly nextRunAt: number | null
  /** Tick of the last enqueued job. */
  readonly lastTickAt: number | null
  /** Tick of the last job that succeeded. */
  readonly lastSuccessAt: number | null
  /** `runOnce`: after downtime, enqueue the latest missed tick once; `skip`: drop missed ticks. */
  readonly missedPolicy: MissedTickPolicy
  /** No tick before this instant, epoch ms; null when the schedule starts at once. */
  readonly startAt: number | null
  /**
   * Name of the schedule this one runs after: its ticks are enqueued when a run of that schedule
   * succeeds (at that run's tick plus this schedule's `@after` delay), not on a clock. Null otherwise.
   */
  readonly after: string | null
  readonly createdAt: number
  readonly updatedAt: number
}

/** What a schedule does with ticks missed while no process was running. */
export type MissedTickPolicy = 'runOnce' | 'skip'

/** The per-job fields of a schedule's jobs. */
export type ScheduleJobTemplate = Omit<NewJob, 'kind' | 'payload' | 'runAt' | 'scheduleName' | 'scheduleTick'>

/** Params to create or replace a schedule. */
export interface UpsertScheduleParams {
  /** The schedule; `startAt` and `after` default to null. */
  readonly schedule: Omit<
    ScheduleRecord,
    'lastTickAt' | 'lastSuccessAt' | 'createdAt' | 'updatedAt' | 'startAt' | 'after'
  > & { readonly startAt?: number | null; readonly after?: string | null }
  readonly now?: number
}

/** One tick to fire: advance the schedule from `expectedNextRunAt` to `nextRunAt` and enqueue `job` (if any). */
export interface FireTickParams {
  readonly name: string
  /** Compare-and-set guard: only fire if the stored `nextRunAt` still equals this (null included). */
  readonly expectedNextRunAt: number | null
  readonly nextRunAt: number | null
  /** The job for this tick, or null when the tick is skipped. Its `scheduleTick` is the tick time. */
  readonly job: NewJob | null
  readonly now?: number
}

/** Counts of jobs by queue and state. */
export interface QueueStats {
  readonly queue: string
  readonly paused: boolean
  readonly counts: Readonly<Record<JobState, number>>
}

/** Due waiting jobs of one queue and kind that no live process registered (orphans). */
export interface OrphanedJobs {
  readonly queue: string
  readonly kind: string
  /** How many are due and waiting. */
  readonly count: number
  /** Run time of the one that has waited longest, epoch ms. */
  readonly oldestRunAt: number
}

/** What `findOrphans` reports: orphaned jobs by queue and kind, and orphaned schedules. */
export interface OrphanReport {
  /** By queue, then kind. */
  readonly jobs: readonly OrphanedJobs[]
  /** Schedules with ticks to come (`nextRunAt` set, or chained `after` another) of such kinds, by name. */
  readonly schedules: readonly ScheduleRecord[]
}

/**
 * Which kinds are registered, for orphan checks: those of every process whose last heartbeat is at
 * most `staleAfterMs` before `now` (as `rescueJobs` judges liveness), plus `registered` (the caller's own).
 */
export interface OrphanParams {
  readonly now?: number
  readonly staleAfterMs: number
  readonly registered: readonly string[]
}

/**
 * Which optional behaviours an adapter has. These flags are the truth: the core reads them (never
 * the presence of a method), and the store-level conformance suite (`test/store`) switches single
 * cases off on them.
 */
export interface StoreCapabilities {
  /** Several processes can share this store (claims, rescues and schedule ticks are safe across them). */
  readonly multiProcess: boolean
  /** Enqueue inside a caller-supplied transaction. */
  readonly transactionalEnqueue: boolean
  /** Handlers can run in the job's own transaction: the store has `runInTransaction` and `completeInTransaction`. */
  readonly transactionalExecution: boolean
  /**
   * The store reads its database's health (dead tuples, table sizes, what holds the xmin horizon):
   * it has `storageHealth`; the core reaches it through `storageHealthOf`.
   */
  readonly storageHealth: boolean
}

/** A store's transactional execution, as `transactionalExecutionOf` hands it out. */
export type TransactionalExecution = Required<Pick<JobStore, 'runInTransaction' | 'completeInTransaction'>>

/**
 * The store's transactional execution when `capabilities.transactionalExecution` says it has one,
 * else null: the one place that flag is checked. Throws when the flag is set but a method is missing.
 */
export function transactionalExecutionOf(store: JobStore): TransactionalExecution | null {
  if (!store.capabilities.transactionalExecution) return null
  const { runInTransaction, completeInTransaction } = store
  if (typeof runInTransaction !== 'function' || typeof completeInTransaction !== 'function') {
    throw new InvalidArgumentError(
      'The store says it has transactionalExecution but lacks runInTransaction or completeInTransaction: implement both, or set the capability to false.',
    )
  }
  return {
    runInTransaction: runInTransaction.bind(store),
    completeInTransaction: completeInTransaction.bind(store),
  }
}

/**
 * Throws when a store is handed a filter with `key`: names are resolved by the core (`getJobsByKey`,
 * then `ids`), and a store that ignored the field would act on every job the rest selects.
 */
export function refuseKeyInStoreFilter(filter: JobFilter): void {
  if (filter.key !== undefined) {
    throw new InvalidArgumentError(
      'A store filter cannot have key: the queue resolves a job name to ids (getJobsByKey) before calling the store. Call the queue, or pass ids.',
    )
  }
}

/**
 * The store's health reading when `capabilities.storageHealth` says it has one, else null: the one
 * place that flag is checked. Throws when the flag is set but the method is missing.
 */
export function storageHealthOf(store: JobStore): (() => Promise<StorageHealthReading>) | null {
  if (!store.capabilities.storageHealth) return null
  const { storageHealth } = store
  if (typeof storageHealth !== 'function') {
    throw new InvalidArgumentError(
      'The store says it has storageHealth but lacks the storageHealth() method: implement it, or set the capability to false.',
    )
  }
  return storageHealth.bind(store)
}

/** The storage port. */
export interface JobStore {
  readonly capabilities: StoreCapabilities

  /**
   * Inserts jobs in one round trip, in order. A job whose (kind, uniqueKey) is held by a job in a
   * waiting or running state is not inserted: its outcome is that job with `duplicate: true`. A job
   * whose `runAt > now` is stored as `scheduled`, else `available`. A job depending on a job that
   * failed or was cancelled is stored `cancelled`. With `tx`, the insert runs in the caller's
   * transaction (adapters without `transactionalEnqueue` may buffer until commit).
   */
  insertJobs(params: {
    readonly jobs: readonly NewJob[]
    readonly now?: number
    readonly tx?: TransactionHandle
  }): Promise<InsertOutcome[]>

  /**
   * Atomically claims waiting jobs that are due (`runAt <= dueBy ?? now`), in an unpaused queue of
   * `queues`, of one of `kinds`, no heavier than `maxWeight` (when given), whose dependencies all
   * succeeded, and which may take their group's turn. A job of a group may start only while no job
   * of its group holds the group: a `running` job holds it until it has run for its own
   * `groupLockTimeoutMs` (measured from `attemptedAt` to `now`; null: as long as it runs). A `fifo`
   * job must also be its group's smallest-id waiting job (strict order: an earlier job waiting out a
   * backoff blocks it); a `release` job need not. At most one job per group is claimed at a time.
   * Takes jobs in strategy order while their summed weight fits `capacity`, stopping at the first
   * that does not fit. Claimed jobs become `running`, `attempt + 1`, `runs + 1`,
   * `attemptedAt = now`.
   */
  claimJobs(params: ClaimParams): Promise<JobRecord[]>

  /**
   * Writes back attempt outcomes, many per call. Only applies to jobs still `running` (a job that
   * was cancelled or rescued meanwhile is left alone). `retry` -> `retryable` at its run time
   * (`runAt`, or `delayMs` after `now` or the store's clock: `RunAgainAt`) with the error appended;
   * `failed` -> `failed` with the error appended; `snoozed` -> `scheduled` at its run time and the
   * attempt is not counted (the run is); `released` -> `available`, neither attempt nor run counted. A job that ends
   * `failed` or `cancelled` cancels its waiting dependants, transitively. On success, a scheduled
   * job sets its schedule's `lastSuccessAt` to its tick.
   */
  completeJobs(params: { readonly completions: readonly Completion[]; readonly now?: number }): Promise<void>

  /** Returns one job with its run logs (the one read that includes `logs`), or null. */
  getJob(params: { readonly id: string }): Promise<JobRecord | null>
  /**
   * The jobs a unique key names (a job's name), with their run logs: every job of `kind` (of any
   * kind when absent) holding `uniqueKey` (waiting, paused or running; at most one per kind), newest first;
   * when none holds it, the newest (largest id) finished job of `kind` with that key, alone; else
   * none. Read with an index on the key, whatever the number of finished jobs that had it.
   */
  getJobsByKey(params: { readonly uniqueKey: string; readonly kind?: string }): Promise<JobRecord[]>
  /** Lists jobs matching a filter, newest (largest id) first, keyset-paginated. */
  listJobs(params: ListJobsParams): Promise<JobRecord[]>
  /** Moves matching non-running jobs to `available` now (attempts kept, max raised if exhausted); returns the count. */
  retryJobs(params: { readonly filter: JobFilter; readonly now?: number }): Promise<number>
  /** Cancels matching waiting or running jobs; returns the ids that were cancelled. */
  cancelJobs(params: { readonly filter: JobFilter; readonly now?: number }): Promise<string[]>
  /** Deletes matching jobs that are not running; returns the count. */
  deleteJobs(params: { readonly filter: JobFilter }): Promise<number>
  /**
   * Pauses matching waiting jobs (`scheduled`, `available`, `retryable`): they become `paused`,
   * keeping run time, attempts, errors and unique key, and are never claimed until resumed. A paused
   * job does not hold up its group; its dependants wait for it; it is cancelled with its dependency
   * like a waiting job. Returns the jobs paused, in id order.
   */
  pauseJobs(params: { readonly filter: JobFilter; readonly now?: number }): Promise<JobRecord[]>
  /**
   * Resumes matching `paused` jobs: `scheduled` when their run time is after `now`, else `available`
   * (workers of their queues are woken as on insert). Returns the jobs resumed, in id order.
   */
  resumeJobs(params: { readonly filter: JobFilter; readonly now?: number }): Promise<JobRecord[]>
  /**
   * Changes one waiting or paused job (`scheduled`, `available`, `retryable` or `paused`) atomically
   * against claims: a job claimed, finished or deleted meanwhile is not written (`notWaiting` with its
   * state, or `notFound`). Only the given fields change (a `workflowState` of null clears it);
   * attempt, errors, keys, group, dependencies and the rest stay. Empty changes leave the job as
   * it is and return it. A new `runAt` makes a `scheduled` or `available` job `scheduled` when `runAt > now`, else
   * `available`; a `retryable` job stays `retryable` (it keeps its failed attempts) and a `paused` job
   * `paused`, whatever its run time. When the job is due after the change (`runAt <= now`), workers of its queue are woken as on
   * insert (`onJobsAvailable`, or the Postgres notification).
   */
  updateJob(params: {
    readonly id: string
    readonly changes: JobChanges
    readonly now?: number
  }): Promise<UpdateJobOutcome>
  /** Deletes jobs finished before `finishedBefore`, at most `limit`; returns the count. */
  pruneJobs(params: { readonly finishedBefore: number; readonly limit: number }): Promise<number>

  /** Pauses or resumes a queue: paused queues are not claimed from. */
  setQueuePaused(params: {
    readonly queue: string
    readonly paused: boolean
    readonly now?: number
  }): Promise<void>
  /** Job counts by queue and state, and paused flags. */
  queueStats(): Promise<QueueStats[]>

  /**
   * Creates or replaces a schedule by name (keeps `lastTickAt`/`lastSuccessAt`), keeping the stored
   * `nextRunAt` when the expression, time zone, `startAt` and `after` are unchanged.
   */
  upsertSchedule(params: UpsertScheduleParams): Promise<ScheduleRecord>
  /** Deletes a schedule; returns whether it existed. */
  deleteSchedule(params: { readonly name: string }): Promise<boolean>
  /** Lists schedules by name. */
  listSchedules(): Promise<ScheduleRecord[]>
  /** Schedules whose `nextRunAt <= now`, and every schedule that runs `after` another. */
  dueSchedules(params: { readonly now?: number }): Promise<ScheduleRecord[]>
  /**
   * Fires one tick exactly once: if the schedule's `nextRunAt` equals `expectedNextRunAt`, sets it to
   * `nextRunAt`, and inserts `job` unless a job for the same (schedule, tick) exists. Returns the
   * inserted job, or null when another process fired it first or the tick was skipped.
   */
  fireScheduleTick(params: FireTickParams): Promise<JobRecord | null>

  /**
   * Records that process `processId` is alive at `now` (crash rescue) and, when `kinds` is given,
   * the kinds it has handlers for (orphan checks; omitted: the stored kinds stay, none for a new
   * process). Adapters without several processes may keep this in memory.
   */
  recordHeartbeat(params: {
    readonly processId: string
    readonly now?: number
    /** The process's workers; kept until a later heartbeat gives them again (absent: unchanged). */
    readonly workers?: readonly ProcessWorker[]
    readonly kinds?: readonly string[]
  }): Promise<void>

  /**
   * The processes whose last heartbeat is at most `liveWithinMs` before `now` (live ones), by id,
   * with the workers they recorded.
   */
  listProcesses(params: { readonly now?: number; readonly liveWithinMs: number }): Promise<ProcessRecord[]>

  /**
   * Orphans: waiting jobs due at `now` (`runAt <= now`) whose kind is not registered (see
   * `OrphanParams`), counted by queue and kind; and the schedules with ticks to come of kinds not
   * registered. Reads only waiting jobs (never finished ones).
   */
  findOrphans(params: OrphanParams): Promise<OrphanReport>

  /**
   * Fails at most `limit` orphans (as `findOrphans` finds them) whose kind has gone unregistered for
   * `failAfterMs`: counted from the later of the job's run time and the last heartbeat of any process
   * (live or dead, while its row is kept) that registered the kind. Each becomes `failed` at `now` with
   * an `OrphanedJob` error appended (attempt unchanged) and cancels its waiting dependants, as a
   * failed completion does. Returns the failed jobs.
   */
  failOrphans(
    params: OrphanParams & { readonly failAfterMs: number; readonly limit: number },
  ): Promise<JobRecord[]>

  /**
   * Returns to the queue the running jobs of processes whose last heartbeat is more than
   * `staleAfterMs` before `now` (or that never sent one), at most `limit`: the attempt counts, the error says the worker died;
   * a job out of attempts becomes `failed`, others `retryable` at `now`. Returns the rescued jobs.
   * A job's process is the part of `attemptedBy` before the first `:` (worker ids are `process:worker`).
   * With `timeoutMarginMs`, a running job with a timeout (`timeoutMs > 0`) is also rescued once
   * `attemptedAt + timeoutMs + timeoutMarginMs <= now`, whatever its process's heartbeat says (its
   * worker would have ended it at its timeout): its attempt counts as failed with a
   * `JobTimeoutError`. A job still within that time is never rescued while its process heartbeats.
   */
  rescueJobs(params: {
    readonly now?: number
    /** Heartbeats older than this, measured on the store's time, are stale. */
    readonly staleAfterMs: number
    /** Rescue jobs past their timeout by this much (absent: only by heartbeat). */
    readonly timeoutMarginMs?: number
    readonly limit: number
  }): Promise<JobRecord[]>

  /**
   * Runs `fn` in a new database transaction whose handle it passes (transactional execution):
   * commits when `fn` resolves `{ commit: true }`, rolls back otherwise or when it throws. Present
   * iff `capabilities.transactionalExecution`; the core reaches it through `transactionalExecutionOf`.
   */
  runInTransaction?<T>(
    fn: (tx: TransactionHandle) => Promise<{ readonly commit: boolean; readonly value: T }>,
  ): Promise<T>

  /**
   * Applies one completion inside `tx`; returns false (nothing written) if the job no longer runs
   * that attempt. Present iff `capabilities.transactionalExecution`.
   */
  completeInTransaction?(params: {
    readonly completion: Completion
    readonly now?: number
    readonly tx: TransactionHandle
  }): Promise<boolean>

  /**
   * Wake-up feed: calls `listener` with queue names when jobs may have become available (insert,
   * retry, release). Workers then claim at once instead of waiting for their poll interval. Returns
   * an unsubscribe function.
   */
  onJobsAvailable(listener: (queues: readonly string[]) => void): () => void

  /** Feed of cancelled job ids (so the process running them can abort their signals). */
  onJobsCancelled(listener: (ids: readonly string[]) => void): () => void

  /**
   * Reads the database's health from its catalog only (no table scan): statistics and sizes of the
   * schema's tables, and what holds the xmin horizon of its database (sessions with an open
   * snapshot or transaction id other than the reader's own, replication slots with an xmin,
   * prepared transactions), oldest first. Present iff `capabilities.storageHealth`.
   */
  storageHealth?(): Promise<StorageHealthReading>

  /** Releases resources the store opened itself (not a pool the caller passed in). */
  close(): Promise<void>
}
