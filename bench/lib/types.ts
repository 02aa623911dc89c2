/**
 * Shared vocabulary of the benchmark harness.
 *
 * Glossary:
 * - system: a job queue under test (`conveyor`, `pg-boss`, `graphile-worker`, `bullmq`), or a
 *   reference (`postgres` for raw SQL limits, `plain-array` for the memory baseline).
 * - config: one named configuration of a system (`defaults`, `best`, `tuned`, ...).
 * - target: where one run stores its jobs: a fresh PostgreSQL database or a flushed Redis db.
 * - driver: a system's adapter to the harness: producer side in the parent, consumer side in the
 *   worker child process.
 * - sample: one measured value of one run (one round of one system/config).
 */

/** Names of the workloads, as given to `--only`. */
export const WORKLOADS = ['W0', 'W1', 'W2', 'W3', 'W4', 'W5', 'W6', 'W7'] as const
/** One workload id. */
export type WorkloadId = (typeof WORKLOADS)[number]

/** The queue systems measured side by side. */
export const QUEUE_SYSTEMS = ['conveyor', 'pg-boss', 'graphile-worker', 'bullmq'] as const
/** One queue system. */
export type QueueSystem = (typeof QUEUE_SYSTEMS)[number]

/** Whether a larger or a smaller value of a metric is better. */
export type Direction = 'higher' | 'lower'

/** Where a run keeps its jobs. */
export interface Target {
  /** Connection string of the fresh PostgreSQL database (Postgres systems). */
  readonly databaseUrl?: string
  /** Redis location (BullMQ). */
  readonly redis?: RedisLocation
  /** Name of the queue the jobs go to. */
  readonly queueName: string
}

/** A Redis server and the logical db the run may flush. */
export interface RedisLocation {
  readonly host: string
  readonly port: number
  readonly db: number
}

/** Enqueues jobs with payload `{ i }` in the parent process. */
export interface Producer {
  /** Enqueues one job through the system's single-job API. */
  enqueueOne(i: number): Promise<void>
  /** Enqueues the given jobs with one call of the system's bulk API. */
  enqueueMany(indexes: readonly number[]): Promise<void>
  /** Closes the producer's connections. */
  close(): Promise<void>
}

/** The worker side of a system, built inside the worker child process. */
export interface Consumer {
  /** Starts working; resolves once the worker is running. */
  start(): Promise<void>
  /** Stops working and closes connections. */
  stop(): Promise<void>
}

/** What the worker child calls at the start of every handler run, with the payload's `i`. */
export type OnJob = (i: number) => void

/** A named configuration of a system, with how it is described in the report. */
export interface SystemConfig {
  readonly name: string
  readonly description: string
}

/** Parent-side adapter of one queue system. */
export interface SystemDriver {
  readonly system: QueueSystem
  readonly backend: 'postgres' | 'redis'
  /** Installs the system's schema or queue in a fresh target (not timed). */
  prepare(target: Target, config: string): Promise<void>
  /** Opens a producer on the target. */
  openProducer(target: Target, config: string): Promise<Producer>
  /** Opens a cheap counter of jobs not yet recorded as done (waiting, scheduled or running). */
  openCounter(target: Target): Promise<Counter>
  /** Inserts `count` finished jobs directly, for the retained-rows workload (W6). */
  insertRetained?(target: Target, count: number): Promise<void>
}

/** Counts unfinished jobs and checks the final state of a target. */
export interface Counter {
  /** Jobs not yet recorded as done. */
  remaining(): Promise<number>
  /** Returns a problem with the final state after `n` jobs ran (null when every job is done once). */
  verify(n: number): Promise<string | null>
  close(): Promise<void>
}

/** What the parent tells the worker child to build. */
export interface WorkerSpec {
  readonly system: QueueSystem
  readonly config: string
  readonly target: Target
  /** Number of measured jobs (payload `i` from 0 to n-1); negative `i` are warm-up jobs. */
  readonly n: number
  /** Record handler-start stamps (W4). */
  readonly stamps: boolean
}

/** Messages from the worker child. */
export type ChildMessage =
  | { readonly type: 'loaded' }
  | { readonly type: 'started' }
  | { readonly type: 'handled-all' }
  | { readonly type: 'stopped'; readonly report: ChildReport }
  | { readonly type: 'error'; readonly message: string }

/** Messages to the worker child. */
export type ParentMessage = { readonly type: 'start' } | { readonly type: 'stop' }

/** The worker child's account of what its handlers saw. */
export interface ChildReport {
  /** Handler runs of measured jobs, duplicates included. */
  readonly handled: number
  /** Measured jobs that ran at least once. */
  readonly distinct: number
  /** Measured jobs that ran more than once. */
  readonly duplicated: number
  /** Handler runs of warm-up jobs. */
  readonly warmups: number
  /** Handler-start stamps (epoch ms, `performance.timeOrigin + performance.now()`), by `i`. */
  readonly stamps: readonly (number | null)[] | null
  /** Peak resident set size of the child in kB (VmHWM), read by the child as it stops. */
  readonly peakRssKb: number | null
  /** The consumer's stop did not finish in time. */
  readonly stopTimedOut: boolean
}
