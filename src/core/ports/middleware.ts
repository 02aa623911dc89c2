/**
 * Middleware: cross-cutting work around inserts and runs (River's `JobInsertMiddleware` and
 * `WorkerMiddleware`). A queue's `middleware` option lists them, outermost first; tracing
 * (`tracingMiddleware` of `conveyor-jobs`) is one, which the adapters install by default. The
 * chain is fixed when the queue is created; a queue without run middleware adds nothing per job.
 */
import type { AttemptError, JobRecord } from '../domain/job.js'
import type { InsertOutcome, NewJob } from './store.js'

/**
 * One `enqueue` or `enqueueMany` call as insert middleware sees it, before its jobs are validated:
 * the queue and kind when every job shares them (undefined for a mixed or invalid call).
 */
export interface InsertCall {
  readonly operation: 'enqueue' | 'enqueueMany'
  /** How many jobs the call stores (1 for `enqueue`). */
  readonly count: number
  readonly queue: string | undefined
  readonly kind: string | undefined
}

/** Changes one row about to be stored (e.g. adds its `traceContext`); returns the row to store. */
export type RowEdit = (row: NewJob) => NewJob

/**
 * Wraps the insert of one call: `next(edit)` validates the jobs, applies `edit` (when given) to each
 * row about to be stored, stores them and resolves to their outcomes, in order. Call `next` once and
 * return (or pass on) what it resolves to; a rejection of `next` is the call's error.
 */
export type InsertMiddleware = (
  call: InsertCall,
  next: (edit?: RowEdit) => Promise<readonly InsertOutcome[]>,
) => Promise<readonly InsertOutcome[]>

/** How a run ended, as run middleware sees it: the outcome, and the error of a failed attempt. */
export interface RunReport {
  readonly completion: {
    readonly outcome: 'succeeded' | 'retry' | 'failed' | 'cancelled' | 'snoozed' | 'released'
    readonly error?: AttemptError | undefined
  }
}

/**
 * Wraps one attempt of a claimed job: `next()` runs it (the handler with its `JobContext`, and the
 * write of its outcome) and resolves to its report. Call `next` once and return what it resolves to.
 */
export type RunMiddleware = <R extends RunReport>(job: JobRecord, next: () => Promise<R>) => Promise<R>

/** One middleware: an insert hook, a run hook, or both (`QueueOptions.middleware`). */
export interface Middleware {
  /** A name for error messages and debugging. */
  readonly name?: string
  readonly insert?: InsertMiddleware
  readonly run?: RunMiddleware
}
