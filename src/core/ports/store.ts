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
import type { JobRecord } from '../domain/job.js'
import type { StorageHealthReading } from '../domain/storage-health.js'
import type {
  ClaimParams,
  CompleteJobsResult,
  Completion,
  FireTickParams,
  InsertOutcome,
  JobChanges,
  JobFilter,
  ListJobsParams,
  NewJob,
  OrphanParams,
  OrphanReport,
  PollStrategy,
  ProcessRecord,
  ProcessWorker,
  QueueStats,
  ScheduleRecord,
  TransactionHandle,
  UpdateJobOutcome,
  UpsertScheduleParams,
} from './store-params.js'

export type * from './store-params.js'

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
  /**
   * Every job that a completion, cancel or delete lets run (a retry or release due now, a dependant
   * whose dependencies are met, a group's next job) is announced through `onJobsAvailable`, to every
   * process sharing the store. Then the queue does not wake its workers after each completion batch
   * in case it freed something (absent: false, the queue wakes them).
   */
  readonly announcesFreedJobs?: boolean
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
   * job sets its schedule's `lastSuccessAt` to its tick. Returns the ids of the completions it
   * skipped (jobs not running, or not running that attempt, and unknown ids).
   */
  completeJobs(params: {
    readonly completions: readonly Completion[]
    readonly now?: number
  }): Promise<CompleteJobsResult>

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
  /**
   * Deletes jobs finished before `finishedBefore`, at most `limit` one by one; returns the count. An
   * adapter that keeps history in day partitions also drops every day wholly before `finishedBefore`
   * at once (counted, whatever `limit`).
   */
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
   * Orphans: waiting jobs due at `now` (`runAt <= now`) whose (queue, kind) pair is not served (see
   * `OrphanParams`), counted by queue and kind; and the schedules with ticks to come whose job
   * template's queue and kind are not served. Reads only waiting jobs (never finished ones).
   */
  findOrphans(params: OrphanParams): Promise<OrphanReport>

  /**
   * Fails at most `limit` orphans (as `findOrphans` finds them) whose pair has gone unserved for
   * `failAfterMs`: counted from the later of the job's run time and the last heartbeat of any process
   * (live or dead, while its row is kept) that served the pair (registered the kind, and recorded a
   * worker for the queue or no workers). Each becomes `failed` at `now` with
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

  /**
   * Checks the store can serve this code before a queue starts its workers: Postgres throws
   * `SchemaNotMigratedError` on a schema missing migrations and `SchemaTooNewError` on one migrated
   * by newer code. `start()` awaits it, so a process never runs on a schema it does not understand.
   * `strategies`: the poll strategies of the workers about to start, so the store can prepare what
   * they need first (Postgres builds the `time` strategy's index when a schema lacks it, and throws
   * `SchemaPrivilegeError` when the role may not); a store with nothing to prepare ignores it.
   */
  ready(params?: { readonly strategies?: readonly PollStrategy[] }): Promise<void>

  /** Releases resources the store opened itself (not a pool the caller passed in). */
  close(): Promise<void>
}
