/**
 * The handler's `ctx` of one attempt (`JobContext`): the job, its abort signal, its run logger, its
 * workflow state and the controls it may return (snooze, fail, cancel). The executor reads back what
 * the run logged and the state it set.
 */

import { CancelJob, FailJob, type JobControl, SnoozeJob } from '../domain/controls.js'
import { InvalidArgumentError } from '../domain/errors.js'
import type { JobRecord, RunLog } from '../domain/job.js'
import { assertJsonValue, type JsonValue } from '../domain/json.js'
import type { Clock } from '../ports/clock.js'
import type { Logger } from '../ports/logger.js'
import type { JobContext, ScheduleRunInfo } from '../ports/queue.js'
import type { TransactionHandle } from '../ports/store.js'
import type { AbortHandle } from './abort-handle.js'
import { createRunLogger, type RunLogger } from './run-logger.js'

/** What a context needs from the executor: the clock its log lines are timed by, where they go. */
export interface AttemptContextDeps {
  readonly clock: Clock
  /** Where run logs are forwarded. */
  readonly logger: Logger
}

/** The attempt a context belongs to (the executor's `AttemptInput`). */
export interface AttemptContextInput {
  readonly job: JobRecord
  readonly schedule: ScheduleRunInfo | null
  readonly abort: AbortHandle
  readonly tx?: TransactionHandle | null
}

/** The handler's `ctx`: methods on a prototype, logger made on first use (cheap per job). */
export class AttemptContext implements JobContext {
  readonly job: JobRecord
  readonly attempt: number
  readonly run: number
  readonly schedule: ScheduleRunInfo | null
  readonly tx: TransactionHandle | null
  state: JsonValue | null
  stateChanged = false
  /** The last control the handler made (`snooze`, `fail`, `cancel`), to tell one it did not return. */
  control: { readonly name: 'snooze' | 'fail' | 'cancel'; readonly value: JobControl } | null = null
  readonly #deps: AttemptContextDeps
  readonly #abort: AbortHandle
  #run: RunLogger | undefined

  constructor(deps: AttemptContextDeps, input: AttemptContextInput) {
    this.#deps = deps
    this.#abort = input.abort
    this.job = input.job
    this.attempt = input.job.attempt
    this.run = input.job.runs
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
    const value = new SnoozeJob(delayMs, options?.state)
    this.control = { name: 'snooze', value }
    return value
  }

  fail(reason: string): FailJob {
    const value = new FailJob(String(reason))
    this.control = { name: 'fail', value }
    return value
  }

  cancel(reason: string): CancelJob {
    const value = new CancelJob(String(reason))
    this.control = { name: 'cancel', value }
    return value
  }
}
