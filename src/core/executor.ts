/**
 * Runs one attempt of one job: builds the handler context, enforces the timeout, interprets the
 * handler's outcome and turns it into a `Completion` for the store. It never touches the store.
 */

import type { AbortHandle } from './abort-handle.js'
import { type BackoffFunction, backoffDelay, DEFAULT_BACKOFF, resolveBackoff } from './backoff.js'
import type { Clock } from './clock.js'
import { CancelJob, FailJob, JobControl, SnoozeJob } from './controls.js'
import { InvalidArgumentError, JobCancelledError, JobTimeoutError, ShutdownAbortError } from './errors.js'
import type { AttemptError, BackoffSpec, JobRecord, RunLog } from './job.js'
import { assertJsonValue, type JsonValue } from './json.js'
import { createRunLogger, type Logger, type LogLine, type RunLogger } from './logger.js'
import type { AttemptOutcome, JobContext, JobHandler, ScheduleRunInfo } from './ports.js'
import type { Completion, TransactionHandle } from './store.js'

/** What the executor needs from its surroundings. */
export interface ExecutorDeps {
  readonly clock: Clock
  readonly random: () => number
  readonly logger: Logger
  /** The queue-wide retry policy for jobs that stored none. */
  readonly defaultBackoff: BackoffSpec
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
}

/** What an attempt produced. */
export interface AttemptResult {
  readonly completion: Completion
  readonly outcome: AttemptOutcome
  /** The error of a failed attempt, as recorded. */
  readonly error: AttemptError | null
  readonly durationMs: number
  readonly logs: readonly LogLine[]
}

type Settled = { value: unknown } | { thrown: unknown } | { aborted: unknown }

/** The handler's `ctx`: methods on a prototype, logger made on first use (cheap per job). */
class AttemptContext implements JobContext {
  readonly job: JobRecord
  readonly attempt: number
  readonly schedule: ScheduleRunInfo | null
  readonly tx: TransactionHandle | null
  state: JsonValue | null
  stateChanged = false
  readonly #deps: ExecutorDeps
  readonly #abort: AbortHandle
  #run: RunLogger | undefined

  constructor(deps: ExecutorDeps, input: AttemptInput) {
    this.#deps = deps
    this.#abort = input.abort
    this.job = input.job
    this.attempt = input.job.attempt
    this.schedule = input.schedule
    this.tx = input.tx ?? null
    this.state = input.job.workflowState
  }

  get signal(): AbortSignal {
    return this.#abort.signal
  }

  get log(): Logger {
    this.#run ??= createRunLogger(() => this.#deps.clock.now(), this.#deps.logger, {
      jobId: this.job.id,
      kind: this.job.kind,
      attempt: this.job.attempt,
    })
    return this.#run.logger
  }

  /** Lines logged during this attempt. */
  get logLines(): readonly LogLine[] {
    return this.#run?.lines ?? NO_LINES
  }

  /** What this attempt logged, to store with the job; null when it logged nothing. */
  get runLog(): RunLog | null {
    const run = this.#run
    if (!run) return null
    const dropped = run.dropped()
    if (run.lines.length === 0 && dropped === 0) return null
    return dropped === 0
      ? { attempt: this.attempt, lines: run.lines }
      : { attempt: this.attempt, lines: run.lines, dropped }
  }

  setState(next: JsonValue): void {
    assertJsonValue(next, 'workflow state')
    this.state = next
    this.stateChanged = true
  }

  snooze(delayMs: number, options?: { state?: JsonValue }): SnoozeJob {
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
      throw new InvalidArgumentError(`snooze(delayMs) needs a finite number >= 0; got ${String(delayMs)}.`)
    }
    if (options?.state !== undefined) assertJsonValue(options.state, 'workflow state')
    return new SnoozeJob(delayMs, options?.state)
  }

  fail(reason: string): FailJob {
    return new FailJob(String(reason))
  }

  cancel(reason: string): CancelJob {
    return new CancelJob(String(reason))
  }
}

const NO_LINES: readonly LogLine[] = Object.freeze([])

/** Runs one attempt and reports what it produced; never throws. */
export async function runAttempt(deps: ExecutorDeps, input: AttemptInput): Promise<AttemptResult> {
  const { clock } = deps
  const { job, abort } = input
  const started = clock.now()
  const ctx = new AttemptContext(deps, input)

  let timer: { cancel(): void } | undefined
  if (job.timeoutMs > 0)
    timer = clock.setTimeout(() => abort.abort(new JobTimeoutError(job.timeoutMs)), job.timeoutMs)
  const settled = await new Promise<Settled>((resolve) => {
    abort.onAbort((reason) => resolve({ aborted: reason }))
    let result: unknown
    try {
      result = input.handler(job.payload, ctx)
    } catch (thrown) {
      resolve({ thrown })
      return
    }
    if (result !== null && typeof (result as PromiseLike<unknown>)?.then === 'function') {
      ;(result as PromiseLike<unknown>).then(
        (value) => resolve({ value }),
        (thrown) => resolve({ thrown }),
      )
    } else {
      resolve({ value: result })
    }
  })
  timer?.cancel()

  let state = ctx.state
  let stateChanged = ctx.stateChanged
  const finishedAt = clock.now()
  const durationMs = finishedAt - started
  const withState = <C extends Completion>(c: C): C => (stateChanged ? { ...c, workflowState: state } : c)
  const done = (
    completion: Completion,
    outcome: AttemptOutcome,
    error: AttemptError | null = null,
  ): AttemptResult => {
    // Lines logged go with the completion (stored with the job); a run that logged nothing adds nothing.
    const log = ctx.runLog
    return {
      completion: log ? { ...completion, logs: log } : completion,
      outcome,
      error,
      durationMs,
      logs: ctx.logLines,
    }
  }

  if ('aborted' in settled) {
    const reason = settled.aborted
    if (reason instanceof ShutdownAbortError) {
      return done({ id: job.id, outcome: 'released' }, { outcome: 'retry', error: reason, runAt: job.runAt })
    }
    if (reason instanceof JobCancelledError) {
      return done(withState({ id: job.id, outcome: 'cancelled' }), {
        outcome: 'cancelled',
        reason: reason.message,
      })
    }
    return failure(reason)
  }

  const control = 'value' in settled ? settled.value : settled.thrown
  if (control instanceof JobControl) {
    if (control.state !== undefined) {
      state = control.state
      stateChanged = true
    }
    if (control instanceof SnoozeJob) {
      const runAt = finishedAt + Math.ceil(control.delayMs)
      return done(withState({ id: job.id, outcome: 'snoozed', runAt }), { outcome: 'snoozed', runAt })
    }
    if (control instanceof CancelJob) {
      const error = toAttemptError(job.attempt, finishedAt, new JobCancelledError(control.reason))
      return done(withState({ id: job.id, outcome: 'cancelled', error }), {
        outcome: 'cancelled',
        reason: control.reason,
      })
    }
    if (control instanceof FailJob) {
      const error = toAttemptError(
        job.attempt,
        finishedAt,
        Object.assign(new Error(control.reason), { name: 'FailJob' }),
      )
      return done(
        withState({ id: job.id, outcome: 'failed', error }),
        { outcome: 'failed', error: control },
        error,
      )
    }
  }
  if ('value' in settled) {
    return done(withState({ id: job.id, outcome: 'succeeded' }), {
      outcome: 'succeeded',
      result: settled.value,
    })
  }
  return failure(settled.thrown)

  function failure(thrown: unknown): AttemptResult {
    const error = toAttemptError(job.attempt, finishedAt, thrown)
    if (job.attempt >= job.maxAttempts) {
      return done(
        withState({ id: job.id, outcome: 'failed', error }),
        { outcome: 'failed', error: thrown },
        error,
      )
    }
    const delay = retryDelay(deps, input, thrown)
    const runAt = finishedAt + delay
    return done(
      withState({ id: job.id, outcome: 'retry', runAt, error }),
      { outcome: 'retry', error: thrown, runAt },
      error,
    )
  }
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
