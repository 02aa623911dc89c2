/**
 * The records and parameters of the storage port (`JobStore` in ./store.ts): what a store takes and
 * returns. Split from the port so that each file stays readable; import them from either file.
 */
import type { AttemptError, BackoffSpec, GroupMode, JobRecord, JobState, RunLog } from '../domain/job.js'
import type { JsonValue } from '../domain/json.js'

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
  /** Total weight the claimed jobs may add up to (free capacity; its whole part: below 1 nothing is claimed). */
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
 * keeping the last `RUN_LOGS_KEPT` runs. When `bufferWaitMs` is given (> 0), the job's `attemptedAt`
 * (its claim, on the store's clock) moves forward by it in the same write, to when its handler started.
 */
export type Completion = CompletionOutcome & {
  readonly attempt?: number
  readonly logs?: RunLog
  /**
   * How long the job waited in its worker's local buffer between the claim and its handler's start,
   * whole ms (absent or 0: it started at once). The worker measures it as a difference of its own
   * clock's readings (monotonic in production), never a wall-clock time, so the stored start stays on
   * the store's clock: `attemptedAt + bufferWaitMs`.
   */
  readonly bufferWaitMs?: number
}

/**
 * What `completeJobs` did: the ids of the completions it skipped (their jobs no longer run that
 * attempt, or are unknown). Usually none; the others were written. The core emits a job's outcome
 * events only once its completion is written, never for a skipped one.
 */
export interface CompleteJobsResult {
  readonly skipped: readonly string[]
}

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

/** Due waiting jobs of one queue and kind that no live process serves (orphans, see `OrphanParams`). */
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
  /**
   * Schedules with ticks to come (`nextRunAt` set, or chained `after` another) whose jobs would be such
   * orphans (the pair of their job template's queue and their kind is served by no live process), by name.
   */
  readonly schedules: readonly ScheduleRecord[]
}

/**
 * The (queue, kind) pairs a process serves: every pair of one of `queues` and one of `kinds` (each of
 * its workers claims every kind it registered, from the worker's queues).
 */
export interface ServedPairs {
  readonly queues: readonly string[]
  readonly kinds: readonly string[]
}

/**
 * Which (queue, kind) pairs are served, for orphan checks. A process serves a pair when its last
 * heartbeat is at most `staleAfterMs` before `now` (as `rescueJobs` judges liveness), it registered the
 * kind and one of its recorded workers serves the queue. A process that recorded no workers (null, e.g.
 * an older version) serves its kinds in every queue; one that reports no kinds (null, a version before
 * they were recorded) serves every kind. `registered` (the caller's own pairs) is served too.
 */
export interface OrphanParams {
  readonly now?: number
  readonly staleAfterMs: number
  readonly registered: ServedPairs
}
