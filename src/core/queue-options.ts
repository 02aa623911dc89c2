import type { Clock } from './clock.js'
import type { BackoffSpec } from './job.js'
import type { Logger } from './logger.js'
import type { PollStrategy } from './store.js'
import type { TracingOptions } from './tracing.js'

/** One worker: a loop that claims from some queues up to its capacity. */
export interface WorkerOptions {
  /** Name used in logs and as part of the worker id (default: the queues joined by `+`). */
  readonly name?: string
  /** Queues this worker serves. */
  readonly queues: readonly string[]
  /** Total weight of jobs it runs at once (default 10). With weight-1 jobs this is the concurrency. */
  readonly concurrency?: number
  /** How jobs are ordered when claiming (default `priority`). */
  readonly strategy?: PollStrategy
  /** Fallback polling interval when no wake-up arrives (default from the queue). */
  readonly pollIntervalMs?: number
  /** Weight of extra claimed jobs held ready to start (default from the queue). */
  readonly prefetch?: number
  /** Run every job of this worker in its own transaction (see `RegisterOptions.transactional`). */
  readonly transactional?: boolean
}

/** Options shared by every adapter's queue. */
export interface QueueOptions {
  /** Time source (memory default: a `ManualClock`; Postgres default: the system clock). */
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
   * rescue. Adapters choose the default (memory: 0).
   */
  readonly prefetch?: number
  /** A buffered job not started within this many ms is released to the queue (default 5000). */
  readonly maxBufferWaitMs?: number
  /** Default claim ordering (default `priority`). */
  readonly strategy?: PollStrategy
  /** Default retry policy for jobs that set none. */
  readonly backoff?: Partial<BackoffSpec>
  /** Grace period of `shutdown` in ms (default 10 000). */
  readonly shutdownGraceMs?: number
  /** The schedule service: fires due ticks every `intervalMs` (default 1000) while started. */
  readonly scheduler?: {
    readonly enabled?: boolean
    readonly intervalMs?: number
    /** With the `skip` policy, ticks older than this are dropped (default 60 000). */
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
    /** Finished jobs are deleted this long after they finished (default 7 days; null keeps them). */
    readonly retentionMs?: number | null
    /** How often to prune (default 60 000 ms). */
    readonly pruneIntervalMs?: number
  }
  /** Identifies this process in `attemptedBy` (default: random); letters, digits, `_` and `-`. */
  readonly processId?: string
  /**
   * OpenTelemetry spans for enqueues and runs (default: on, through the global tracer provider of
   * `@opentelemetry/api`, which records nothing unless the application installed an SDK).
   */
  readonly tracing?: TracingOptions
}
