/**
 * Runs one attempt of one job: builds the handler context (`attempt-context.ts`), enforces the timeout, interprets the
 * handler's outcome and turns it into a `Completion` for the store. It never touches the store.
 */

import { type BackoffFunction, backoffDelay, DEFAULT_BACKOFF, resolveBackoff } from '../domain/backoff.js'
import { CancelJob, FailJob, JobControl, SnoozeJob } from '../domain/controls.js'
import { JobCancelledError, JobTimeoutError, ShutdownAbortError } from '../domain/errors.js'
import type { AttemptError, BackoffSpec, JobRecord } from '../domain/job.js'
import type { Clock } from '../ports/clock.js'
import type { Logger } from '../ports/logger.js'
import type { AttemptOutcome, JobHandler, ScheduleRunInfo } from '../ports/queue.js'
import type { Completion, RunAgainAt, TransactionHandle } from '../ports/store.js'
import type { AbortHandle } from './abort-handle.js'
import { AttemptContext } from './attempt-context.js'

/** The executor's slice of the queue options. */
export interface ExecutorSettings {
  /** Random source in [0, 1) for backoff jitter. */
  readonly random: () => number
  /** Where run logs are forwarded. */
  readonly logger: Logger
  /** The queue-wide retry policy for jobs that stored none. */
  readonly defaultBackoff: BackoffSpec
}

/** What the executor needs from its surroundings. */
export interface ExecutorDeps extends ExecutorSettings {
  readonly clock: Clock
}

/** One attempt to run. */
export interface AttemptInput {
  readonly job: JobRecord
  readonly handler: JobHandler<unknown>
  /** A custom backoff function from the job's definition, if any. */
  readonly backoffFn: BackoffFunction | undefined
  /** Schedule information for scheduled jobs. */
  readonly schedule: ScheduleRunInfo | null
  /** External abort (cancellation, shutdown); its reason decides the outcome. */
  readonly abort: AbortHandle
  /** The job's transaction, when the execution mode provides one. */
  readonly tx?: TransactionHandle | null
  /** How long the job waited in its worker's local buffer before this attempt (its completion carries it). */
  readonly bufferWaitMs?: number
}

/** What an attempt produced. */
export interface AttemptResult {
  readonly completion: Completion
  readonly outcome: AttemptOutcome
  readonly durationMs: number
}

/** How the handler ended: returned (`value`), threw (`thrown`), or was aborted first (`aborted`). */
type SettledKind = 'value' | 'thrown' | 'aborted'

/** The outcome of a handler that returned `undefined` (most do): one shared object, not one per run. */
const SUCCEEDED_VOID: AttemptOutcome = Object.freeze({ outcome: 'succeeded', result: undefined })

/**
 * Runs one attempt and reports what it produced; never throws. A handler that returns without a
 * promise (or throws) is settled at once; only a promise is raced against the abort handle. The hot
 * path allocates no closures: a busy worker runs this for every job, and each short-lived object it
 * makes is young-generation garbage.
 */
export async function runAttempt(deps: ExecutorDeps, input: AttemptInput): Promise<AttemptResult> {
  const { clock } = deps
  const { job, abort } = input
  const started = clock.now()
  const ctx = new AttemptContext(deps, input)
  const timer = job.timeoutMs > 0 ? startTimeout(clock, abort, job.timeoutMs) : undefined
  let kind: SettledKind = 'value'
  let value: unknown
  // Aborted before it starts (shutdown or a cancel while the job waited for its transaction, its
  // schedule or its turn): the handler is not called, so none of its work happens.
  if (!abort.aborted) {
    try {
      value = input.handler(job.payload, ctx)
    } catch (thrown) {
      kind = 'thrown'
      value = thrown
      // A thrown promise (`throw Promise.reject(...)`) is the attempt's error as it is; its own
      // rejection must not reach the process as unhandled.
      if (isThenable(thrown)) handleRejection(thrown)
    }
  }
  if (abort.aborted) {
    // Aborted before or while the handler ran: the abort decides, as if it had won the race. A
    // promise the handler returned still settles later; its rejection must not go unhandled.
    if (kind === 'value' && isThenable(value)) handleRejection(value)
    kind = 'aborted'
    value = abort.reason
  } else if (kind === 'value' && isThenable(value)) {
    const settled = await raceAbort(value, abort)
    kind = settled.kind
    value = settled.value
  }
  timer?.cancel()
  if (kind !== 'aborted' && job.timeoutMs > 0 && clock.now() - started >= job.timeoutMs) {
    // The handler returned after its timeout but before the timer ran (it blocked the event loop,
    // or settled in the same turn): a timeout is a failed attempt, never a success. The signal is
    // aborted too, so whatever the handler left running sees it.
    if (kind === 'value' && isThenable(value)) handleRejection(value)
    abort.abort(new JobTimeoutError(job.timeoutMs))
    kind = 'aborted'
    value = abort.reason
  }
  return conclude(deps, input, ctx, kind, value, started)
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof (value as PromiseLike<unknown>)?.then === 'function'
}

function ignore(): void {}

/** Marks a promise the attempt no longer waits for as handled (a thenable whose `then` throws is left). */
function handleRejection(thenable: PromiseLike<unknown>): void {
  try {
    thenable.then(undefined, ignore)
  } catch {
    // Not a real promise: nothing can go unhandled.
  }
}

function startTimeout(clock: Clock, abort: AbortHandle, timeoutMs: number): { cancel(): void } {
  return clock.setTimeout(() => abort.abort(new JobTimeoutError(timeoutMs)), timeoutMs)
}

/** Waits for the handler's promise or the abort, whichever comes first. */
function raceAbort(
  promise: PromiseLike<unknown>,
  abort: AbortHandle,
): Promise<{ kind: SettledKind; value: unknown }> {
  return new Promise((resolve) => {
    abort.onAbort((reason) => resolve({ kind: 'aborted', value: reason }))
    promise.then(
      (v) => resolve({ kind: 'value', value: v }),
      (thrown) => resolve({ kind: 'thrown', value: thrown }),
    )
  })
}

/** Turns how the handler settled into the attempt's completion and outcome. */
function conclude(
  deps: ExecutorDeps,
  input: AttemptInput,
  ctx: AttemptContext,
  kind: SettledKind,
  value: unknown,
  started: number,
): AttemptResult {
  const { job } = input
  const finishedAt = deps.clock.now()
  const durationMs = finishedAt - started
  const id = job.id
  const attempt = job.attempt

  if (kind === 'aborted') {
    if (value instanceof ShutdownAbortError) {
      return result(
        ctx,
        input,
        { id, outcome: 'released', attempt },
        { outcome: 'retry', error: value, runAt: job.runAt },
        durationMs,
      )
    }
    if (value instanceof JobCancelledError) {
      return result(
        ctx,
        input,
        withState(ctx, null, { id, outcome: 'cancelled', attempt }),
        { outcome: 'cancelled', reason: value.message },
        durationMs,
      )
    }
    return failure(deps, input, ctx, value, finishedAt, durationMs, null)
  }

  if (ctx.control !== null && !(value instanceof JobControl)) warnControlNotReturned(deps, ctx, kind)
  if (value instanceof JobControl) {
    if (value instanceof SnoozeJob) {
      const delayMs = Math.ceil(value.delayMs)
      return result(
        ctx,
        input,
        withState(ctx, value, {
          id,
          outcome: 'snoozed',
          ...runAgain(deps.clock, finishedAt, delayMs),
          attempt,
        }),
        { outcome: 'snoozed', runAt: finishedAt + delayMs },
        durationMs,
      )
    }
    if (value instanceof CancelJob) {
      const error = toAttemptError(attempt, finishedAt, new JobCancelledError(value.reason))
      return result(
        ctx,
        input,
        withState(ctx, value, { id, outcome: 'cancelled', error, attempt }),
        { outcome: 'cancelled', reason: value.reason },
        durationMs,
      )
    }
    if (value instanceof FailJob) {
      const error = toAttemptError(
        attempt,
        finishedAt,
        Object.assign(new Error(value.reason), { name: 'FailJob' }),
      )
      return result(
        ctx,
        input,
        withState(ctx, value, { id, outcome: 'failed', error, attempt }),
        { outcome: 'failed', error: value },
        durationMs,
      )
    }
    // Any other control returned or thrown settles like a plain value or error, with its state.
    if (kind === 'thrown') return failure(deps, input, ctx, value, finishedAt, durationMs, value)
    return result(
      ctx,
      input,
      withState(ctx, value, { id, outcome: 'succeeded', attempt }),
      { outcome: 'succeeded', result: value },
      durationMs,
    )
  }
  if (kind === 'value') {
    return result(
      ctx,
      input,
      withState(ctx, null, { id, outcome: 'succeeded', attempt }),
      value === undefined ? SUCCEEDED_VOID : { outcome: 'succeeded', result: value },
      durationMs,
    )
  }
  return failure(deps, input, ctx, value, finishedAt, durationMs, null)
}

/**
 * Warns that the handler made a control but returned (or threw) something else: a control only acts
 * when it is returned or thrown, so `ctx.fail('bad image')` without `return` lets the job succeed.
 * The outcome stays what the handler returned or threw; the warning says how to mean the control.
 */
function warnControlNotReturned(deps: ExecutorDeps, ctx: AttemptContext, kind: SettledKind): void {
  const { name } = ctx.control!
  deps.logger.warn(
    `Job kind ${JSON.stringify(ctx.job.kind)}: the handler called ctx.${name}() but ${kind === 'thrown' ? 'threw' : 'returned'} something else, so it had no effect and the attempt ${kind === 'thrown' ? 'failed with the error thrown' : 'succeeded'}. A control acts only when it is returned (or thrown): write return ctx.${name}(...).`,
    { jobId: ctx.job.id, kind: ctx.job.kind, attempt: ctx.attempt },
  )
}

/** A failed attempt: retried with backoff while attempts remain, else failed for good. */
function failure(
  deps: ExecutorDeps,
  input: AttemptInput,
  ctx: AttemptContext,
  thrown: unknown,
  finishedAt: number,
  durationMs: number,
  control: JobControl | null,
): AttemptResult {
  const { job } = input
  const error = toAttemptError(job.attempt, finishedAt, thrown)
  if (job.attempt >= job.maxAttempts) {
    return result(
      ctx,
      input,
      withState(ctx, control, { id: job.id, outcome: 'failed', error, attempt: job.attempt }),
      { outcome: 'failed', error: thrown },
      durationMs,
    )
  }
  const delayMs = retryDelay(deps, input, thrown)
  const again = runAgain(deps.clock, finishedAt, delayMs)
  return result(
    ctx,
    input,
    withState(ctx, control, { id: job.id, outcome: 'retry', ...again, error, attempt: job.attempt }),
    { outcome: 'retry', error: thrown, runAt: finishedAt + delayMs },
    durationMs,
  )
}

/**
 * When a retried or snoozed job is due again, as its completion says it: with a real-time clock the
 * delay (the store adds it to its own time, the database's `now()` in production, so a host whose
 * clock is off cannot move the run time); with a `ManualClock` the run time on that clock.
 */
export function runAgain(clock: Clock, finishedAt: number, delayMs: number): RunAgainAt {
  return clock.realTime === true ? { delayMs } : { runAt: finishedAt + delayMs }
}

/**
 * The completion with the workflow state when the run changed it (by `ctx.setState`, or by the
 * state a returned or thrown control carries, which wins).
 */
function withState<C extends Completion>(ctx: AttemptContext, control: JobControl | null, c: C): C {
  if (control !== null && control.state !== undefined) return { ...c, workflowState: control.state }
  return ctx.stateChanged ? { ...c, workflowState: ctx.state } : c
}

/**
 * The attempt's result; the lines the run logged and the job's wait in the local buffer go with its
 * completion (nothing when it logged none and started at once).
 */
function result(
  ctx: AttemptContext,
  input: AttemptInput,
  completion: Completion,
  outcome: AttemptOutcome,
  durationMs: number,
): AttemptResult {
  const log = ctx.runLog
  const waited = input.bufferWaitMs ?? 0
  let written = completion
  if (log && waited > 0) written = { ...completion, logs: log, bufferWaitMs: waited }
  else if (log) written = { ...completion, logs: log }
  else if (waited > 0) written = { ...completion, bufferWaitMs: waited }
  return { completion: written, outcome, durationMs }
}

function retryDelay(deps: ExecutorDeps, input: AttemptInput, thrown: unknown): number {
  if (input.backoffFn) {
    try {
      const d = input.backoffFn(input.job.attempt, thrown)
      if (typeof d === 'number' && Number.isFinite(d) && d >= 0) return Math.ceil(d)
      deps.logger.warn('custom backoff returned an invalid delay; using the default policy', { delay: d })
    } catch (error) {
      deps.logger.warn('custom backoff threw; using the default policy', { error: String(error) })
    }
  }
  const spec = input.job.backoff ? resolveBackoff(input.job.backoff, DEFAULT_BACKOFF) : deps.defaultBackoff
  return backoffDelay(spec, input.job.attempt, deps.random)
}

/** Converts anything thrown into the stored attempt error. */
export function toAttemptError(attempt: number, at: number, thrown: unknown): AttemptError {
  if (thrown instanceof Error) {
    return {
      attempt,
      at,
      name: thrown.name || 'Error',
      message: thrown.message.slice(0, 10_000),
      stack: thrown.stack?.slice(0, 20_000),
    }
  }
  let message: string
  try {
    message = typeof thrown === 'string' ? thrown : (JSON.stringify(thrown) ?? String(thrown))
  } catch {
    message = String(thrown)
  }
  return { attempt, at, name: 'NonError', message: message.slice(0, 10_000) }
}
