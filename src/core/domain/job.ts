/**
 * A stored job: its record, its states and its retry policy. The words are defined in the glossary
 * at the top of `ports/queue.ts`.
 */

import type { LogLine } from '../ports/logger.js'
import type { JsonValue } from './json.js'

/** The states a job moves through. */
export type JobState =
  | 'scheduled'
  | 'available'
  | 'running'
  | 'retryable'
  | 'paused'
  | 'succeeded'
  | 'failed'
  | 'cancelled'

/** Every job state, in lifecycle order. */
export const JOB_STATES: readonly JobState[] = [
  'scheduled',
  'available',
  'running',
  'retryable',
  'paused',
  'succeeded',
  'failed',
  'cancelled',
]

/** Lowest and highest priority (a PostgreSQL smallint); lower runs first. */
export const PRIORITY_MIN = -32768
export const PRIORITY_MAX = 32767

/** States of a job that is waiting to run (claimable once due and unblocked). */
export const WAITING_STATES: readonly JobState[] = ['scheduled', 'available', 'retryable']

/**
 * States of a job an operator may change (`updateJob`) or pause: waiting, or paused (`pauseJobs`). A
 * paused job is never claimed until `resumeJobs` returns it to `scheduled` or `available`.
 */
export const CHANGEABLE_STATES: readonly JobState[] = ['scheduled', 'available', 'retryable', 'paused']

/** States in which a job's unique key blocks duplicates: waiting, paused or running. */
export const UNIQUE_STATES: readonly JobState[] = ['scheduled', 'available', 'retryable', 'paused', 'running']

/**
 * How a job of a group waits for the rest of its group: `fifo` (the default) waits for every earlier
 * job of the group to finish, even one waiting out a retry's backoff (strict order); `release` waits
 * only while another job of the group is running (the group is released after each run, whatever its
 * outcome, so a failed job retries later without holding the jobs behind it).
 */
export type GroupMode = 'fifo' | 'release'

/** Every group mode. */
export const GROUP_MODES: readonly GroupMode[] = ['fifo', 'release']

/** States a job never leaves on its own. */
export const FINAL_STATES: readonly JobState[] = ['succeeded', 'failed', 'cancelled']

/** One failed attempt, as recorded with the job. */
export interface AttemptError {
  /** Attempt number (1-based) that failed. */
  readonly attempt: number
  /** When the attempt failed, epoch ms. */
  readonly at: number
  /** Error class name (e.g. `TypeError`, `JobTimeoutError`). */
  readonly name: string
  /** Error message. */
  readonly message: string
  /** Stack trace, when the error had one. */
  readonly stack?: string | undefined
}

/** A stored job as the core sees it; adapters map their rows to this shape. */
export interface JobRecord {
  /** Unique id, a decimal string (a bigint in Postgres). */
  readonly id: string
  readonly kind: string
  readonly queue: string
  readonly state: JobState
  readonly payload: JsonValue
  /** Lower runs first. */
  readonly priority: number
  /** Earliest time the job may run, epoch ms. */
  readonly runAt: number
  readonly createdAt: number
  /** Attempts started so far (snoozes do not count). */
  readonly attempt: number
  /**
   * Runs started so far, snoozed ones included (qron's `ExecutionAmount`): every claim adds one, a
   * run returned unrun at shutdown gives it back. A retried job keeps its count.
   */
  readonly runs: number
  readonly maxAttempts: number
  /** Per-attempt timeout in ms; 0 means none. */
  readonly timeoutMs: number
  /** Capacity this job takes from its worker while it runs. */
  readonly weight: number
  readonly uniqueKey: string | null
  readonly groupKey: string | null
  /** How this job waits for its group (see `GroupMode`); `fifo` for jobs without a group. */
  readonly groupMode: GroupMode
  /**
   * Once this job has been running this long (ms, from `attemptedAt`), it no longer holds its group:
   * the group's next job may start (a crashed holder's fallback, independent of heartbeats). Null: it
   * holds its group for as long as it runs.
   */
  readonly groupLockTimeoutMs: number | null
  /** Jobs that must succeed before this one may run. */
  readonly dependsOn: readonly string[]
  readonly metadata: Readonly<Record<string, JsonValue>>
  readonly tags: readonly string[]
  /** Workflow state carried between attempts. */
  readonly workflowState: JsonValue | null
  /** Every failed attempt's error, oldest first. */
  readonly errors: readonly AttemptError[]
  /**
   * When the current or last attempt started, on the store's clock. While the job is `running` it is
   * the claim (a prefetching worker may still hold the job in its local buffer: rescue, group lock and
   * timeout rescue count from the claim); once the attempt's outcome is written it is when its handler
   * started: the claim plus the wait in the buffer that the worker reported (`Completion.bufferWaitMs`).
   * An isolated handler starts when it is dispatched to its thread or process pool (a cold runner's
   * start-up counts as run time, as it does against the timeout).
   */
  readonly attemptedAt: number | null
  /** Id of the worker that ran the current or last attempt. */
  readonly attemptedBy: string | null
  /** When the job reached a final state. */
  readonly finishedAt: number | null
  /** Name of the schedule that enqueued it, and the tick it stands for. */
  readonly scheduleName: string | null
  readonly scheduleTick: number | null
  /** Serialized backoff policy chosen at enqueue (so any process retries it the same way). */
  readonly backoff: BackoffSpec | null
  /** W3C trace context of the enqueuing code, when instrumentation stored one. */
  readonly traceContext: Readonly<Record<string, string>> | null
  /**
   * What the job's last runs logged through `ctx.log`, oldest first (at most `RUN_LOGS_KEPT` runs).
   * Only `getJob` reads it (claims, lists and events leave it out to stay light); absent when no run
   * logged anything.
   */
  readonly logs?: readonly RunLog[]
}

/** How many runs' logs a job keeps: a new run's log pushes the oldest out. */
export const RUN_LOGS_KEPT = 10

/** The lines one run (attempt) logged through `ctx.log`, kept with its job. */
export interface RunLog {
  /** The attempt the lines belong to (a snoozed run shares its number with the next run). */
  readonly attempt: number
  /** The lines kept, oldest first (bounded, see `createRunLogger`). */
  readonly lines: readonly LogLine[]
  /** Lines not kept because the run reached its limit (absent when none were dropped). */
  readonly dropped?: number
}

/** A backoff policy that can be stored with a job: exponential with jitter. */
export interface BackoffSpec {
  /** Delay before the first retry, ms. */
  readonly baseMs: number
  /** Multiplier per further attempt. */
  readonly factor: number
  /** Upper bound on the delay, ms. */
  readonly maxMs: number
  /** Fraction of the delay to randomize, 0..1 (0.1 = plus or minus 10%). */
  readonly jitter: number
}
