/**
 * The handler side of the public ports: what a handler is (in this process or in its own module,
 * run isolated), what it receives besides its payload, and the options it is registered with.
 * Re-exported by `ports/queue.ts`; the glossary there defines the words.
 */
import type { CancelJob, FailJob, SnoozeJob } from '../domain/controls.js'
import type { JobRecord } from '../domain/job.js'
import type { JsonValue } from '../domain/json.js'
import type { Logger } from './logger.js'
import type { TransactionHandle } from './store.js'

/** Information about the schedule tick a job stands for. */
export interface ScheduleRunInfo {
  readonly name: string
  /** The tick this run stands for, epoch ms. */
  readonly tick: number
  /** Tick of the last run of this schedule that succeeded, or null. */
  readonly previousSuccessAt: number | null
}

/** What a handler receives besides its payload. */
export interface JobContext {
  /** The job as claimed (id, kind, queue, attempt, metadata, ...). */
  readonly job: JobRecord
  /** Attempt number, from 1 (a snoozed run does not count, so it stays 1 across snoozes). */
  readonly attempt: number
  /**
   * Run number, from 1: every start of this job counts, snoozed runs and failed attempts included
   * (qron's `ExecutionAmount`). Stored as `job.runs`.
   */
  readonly run: number
  /** Aborted on timeout, cancellation, or shutdown past the grace period. */
  readonly signal: AbortSignal
  /** Logger whose lines are kept with this run and forwarded to the queue's logger. */
  readonly log: Logger
  /** Workflow state carried between attempts (null at first unless enqueued with `state`). */
  readonly state: JsonValue | null
  /** Replaces the workflow state stored with the job, whatever the outcome of this attempt. */
  setState(state: JsonValue): void
  /** Runs the job again after `delayMs` without counting an attempt: `return ctx.snooze(60_000, { state })`. */
  snooze(delayMs: number, options?: { state?: JsonValue }): SnoozeJob
  /** Fails the job permanently: `return ctx.fail('reason')` (or throw it). */
  fail(reason: string): FailJob
  /** Cancels the job: `return ctx.cancel('reason')` (or throw it). */
  cancel(reason: string): CancelJob
  /** Set when the job was enqueued by a schedule. */
  readonly schedule: ScheduleRunInfo | null
  /** The job's database transaction, in execution modes that provide one (Postgres transactional mode). */
  readonly tx: TransactionHandle | null
}

/** A job handler: return to succeed, throw to retry, or return/throw a control. */
export type JobHandler<P> = (payload: P, ctx: JobContext) => unknown

/**
 * A handler kept in its own module, to run isolated: a `file:` URL (`new URL('./x.handler.js',
 * import.meta.url)`) or an absolute path. The module's default export (or its export `handler`)
 * is the handler.
 */
export type HandlerModule = URL | string

/**
 * The `ctx` of a handler run isolated (in a thread or a child process): the same context, without a
 * transaction, plus the W3C trace context of the run's span. The handler runs with that context
 * active, so spans it starts with an SDK registered in the thread or process are children of the
 * run span (`ctx.traceCarrier` is there for code that propagates by hand). Its `signal` aborts, with
 * the reason, at the timeout, on cancellation or at shutdown; the runner is terminated when the
 * handler then returns, or `abortGraceMs` later.
 */
export interface IsolatedJobContext extends Omit<JobContext, 'tx'> {
  readonly tx: null
  /** `traceparent` (and `tracestate`) of the run's span; empty when tracing is off. */
  readonly traceCarrier: Readonly<Record<string, string>>
}

/** The default export of a handler module run isolated. */
export type IsolatedJobHandler<P> = (payload: P, ctx: IsolatedJobContext) => unknown

/** Options of `register`. */
export interface RegisterOptions {
  /** Replace an existing handler for the kind instead of throwing. */
  readonly replace?: boolean
  /**
   * Run each attempt in the job's own database transaction, passed as `ctx.tx`: the handler's writes
   * commit together with the job's success and roll back when it throws (Postgres only). Costs one
   * pooled connection per running job.
   */
  readonly transactional?: boolean
  /**
   * Run a handler module outside this event loop: `'thread'` in a pool of worker threads, `'process'`
   * in a pool of child processes. Without it, a module runs in this process (imported on first use)
   * unless the worker that claims the job has an `isolation` of its own. Past its timeout, or when it
   * is cancelled or shut down, the attempt ends at once, the handler's `ctx.signal` aborts, and the
   * runner is terminated when the handler returns or `abortGraceMs` later; a crash or
   * `process.exit` fails that attempt only.
   */
  readonly isolation?: 'thread' | 'process'
  /** Extra Node flags for an isolated handler's thread or process (e.g. `['--max-old-space-size=256']`). */
  readonly execArgv?: readonly string[]
  /**
   * How long an aborted isolated handler may go on (cleaning up on `ctx.signal`) before its thread
   * or process is terminated, in ms (default 1000; 0 terminates at once). Needs a handler module.
   */
  readonly abortGraceMs?: number
}
