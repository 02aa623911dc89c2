/**
 * Runs claimed jobs in this process: looks up the handler, runs the attempt (in the job's own
 * transaction when the kind or worker asks for transactional execution) through the queue's run
 * middleware (tracing's run span is one), hands the outcome to the completer (or writes it at
 * once), and emits `started`. The outcome's events follow its write (see `outcome-events.ts`): the
 * runner emits them after a write of its own, the completer after a batch it wrote.
 */

import { backoffFunctionOf } from '../domain/enqueue-options.js'
import { UnknownJobKindError } from '../domain/errors.js'
import type { EventBus } from '../domain/events.js'
import type { JobRecord } from '../domain/job.js'
import { storeNow } from '../ports/clock.js'
import type { AttemptOutcome, ScheduleRunInfo } from '../ports/queue.js'
import {
  type Completion,
  type JobStore,
  type TransactionalExecution,
  type TransactionHandle,
  transactionalExecutionOf,
} from '../ports/store.js'
import type { AbortHandle } from './abort-handle.js'
import type { Completer } from './completer.js'
import { type AttemptResult, type ExecutorDeps, runAgain, runAttempt, toAttemptError } from './executor.js'
import type { HandlerRegistry, Registration } from './handler-registry.js'
import type { IsolationMode } from './isolation/isolation-host.js'
import type { MiddlewareChain } from './middleware-chain.js'
import { emitOutcome } from './outcome-events.js'

/** How one claimed job is to be run. */
export interface RunMode {
  /** Hand the completion to the batching completer (workers) instead of writing it at once (drain). */
  readonly batched: boolean
  /** Run the handler in the job's own transaction (the worker's setting; kinds may also ask for it). */
  readonly transactional: boolean
  /** The worker's isolation for kinds registered as modules without their own (absent: in process). */
  readonly isolation?: IsolationMode | null
}

/** What a job runner works with. */
export interface JobRunnerDeps {
  readonly store: JobStore
  readonly executor: ExecutorDeps
  readonly events: EventBus
  readonly registry: HandlerRegistry
  readonly completer: Completer
  /** Called after a batched completion is written (wakes workers: a group or dependant may be free). */
  readonly afterComplete: () => void
  /** The queue's middleware (its run hooks wrap every attempt). */
  readonly middleware: MiddlewareChain
}

/**
 * The result of a run: what to write (null when already written in the job's transaction), the
 * completion to report (to events and run middleware), and whether it is written now (its events
 * are then the runner's to emit; a completion handed to the completer has them emitted on its write).
 */
interface RunResult {
  readonly write: Completion | null
  readonly completion: Completion
  readonly outcome: AttemptOutcome
  readonly durationMs: number
  readonly written: boolean
}

/** Runs claimed jobs of one queue instance. */
export class JobRunner {
  readonly #deps: JobRunnerDeps
  readonly #middleware: MiddlewareChain
  /** Abort handles of attempts running in this process, by job id. */
  readonly localRuns = new Map<string, AbortHandle>()

  constructor(deps: JobRunnerDeps) {
    this.#deps = deps
    this.#middleware = deps.middleware
  }

  /**
   * Runs one attempt of a claimed job and records its outcome. `bufferWaitMs`: how long the job
   * waited in its worker's local buffer since the claim; its completion carries it, so the store
   * records the attempt's start as the handler's start (an isolated handler's: its dispatch).
   */
  async run(job: JobRecord, abort: AbortHandle, mode: RunMode, bufferWaitMs = 0): Promise<AttemptOutcome> {
    const { events } = this.#deps
    const registered = this.#deps.registry.get(job.kind)
    const registration = registered && this.#deps.registry.isolatedIn(registered, mode.isolation ?? null)
    if (!registration) {
      await this.#write({ id: job.id, outcome: 'released', attempt: job.attempt })
      throw new UnknownJobKindError(job.kind, 'The job was returned to the queue.')
    }
    if (events.has('started')) events.emit('started', { job })
    this.localRuns.set(job.id, abort)
    try {
      if (mode.batched && !job.scheduleName && !mode.transactional && !registration.transactional) {
        // The hot path of workers: the attempt runs straight inside the run middleware and its
        // completion is handed to the completer afterwards, without the async layers the general
        // path needs (each costs a few hundred bytes of garbage per job, which is what fills a busy
        // worker's young generation).
        // The completer emits the outcome's events once its batch is written.
        const attempt = await this.#middleware.run(job, () =>
          this.#attempt(job, registration, abort, null, null, bufferWaitMs),
        )
        this.#deps.completer.add(attempt.completion, this.#deps.afterComplete, job, attempt.durationMs)
        return attempt.outcome
      }
      const result = await this.#middleware.run(job, () =>
        this.#execute(job, registration, abort, mode, bufferWaitMs),
      )
      if (result.written)
        emitOutcome(events, this.#deps.executor.clock, job, result.completion, result.durationMs)
      return result.outcome
    } finally {
      this.localRuns.delete(job.id)
    }
  }

  /** Runs the attempt (in the job's transaction when asked) and writes or hands on its completion. */
  async #execute(
    job: JobRecord,
    registration: Registration,
    abort: AbortHandle,
    mode: RunMode,
    bufferWaitMs: number,
  ): Promise<RunResult> {
    const { store } = this.#deps
    const schedule = job.scheduleName ? await this.#scheduleInfo(job) : null
    const transactions =
      mode.transactional || registration.transactional ? transactionalExecutionOf(store) : null
    const result: RunResult = transactions
      ? await this.#runInTransaction(job, registration, abort, schedule, transactions, bufferWaitMs)
      : toRunResult(await this.#attempt(job, registration, abort, schedule, null, bufferWaitMs))
    if (!result.write) return result
    // Batched: handed to the completer synchronously (no promise per job on the hot path); it emits
    // the outcome's events once written.
    if (mode.batched) {
      this.#deps.completer.add(result.write, this.#deps.afterComplete, job, result.durationMs)
      return { ...result, written: false }
    }
    return { ...result, written: await this.#write(result.write) }
  }

  #attempt(
    job: JobRecord,
    registration: Registration,
    abort: AbortHandle,
    schedule: ScheduleRunInfo | null,
    tx: TransactionHandle | null,
    bufferWaitMs: number,
  ): Promise<AttemptResult> {
    return runAttempt(this.#deps.executor, {
      job,
      handler: registration.handler,
      backoffFn: backoffFunctionOf(registration.definition),
      schedule,
      abort,
      tx,
      bufferWaitMs,
    })
  }

  /**
   * Transactional execution: the handler runs with `ctx.tx`; a success (or snooze) is written in
   * that same transaction, which commits only if the job still runs this attempt. Any other
   * outcome rolls the handler's work back and is written separately.
   */
  async #runInTransaction(
    job: JobRecord,
    registration: Registration,
    abort: AbortHandle,
    schedule: ScheduleRunInfo | null,
    transactions: TransactionalExecution,
    bufferWaitMs: number,
  ): Promise<RunResult> {
    const { executor } = this.#deps
    let attempt: AttemptResult | undefined
    try {
      const applied = await transactions.runInTransaction(async (tx) => {
        attempt = await this.#attempt(job, registration, abort, schedule, tx, bufferWaitMs)
        const c = attempt.completion
        if (c.outcome !== 'succeeded' && c.outcome !== 'snoozed') return { commit: false, value: false }
        const ok = await transactions.completeInTransaction({
          completion: c,
          now: storeNow(executor.clock),
          tx,
        })
        return { commit: ok, value: ok }
      })
      const a = attempt!
      if (applied) return { ...toRunResult(a), write: null, written: true }
      const c = a.completion
      if (c.outcome !== 'succeeded' && c.outcome !== 'snoozed') return toRunResult(a)
      // Not applied: the job was rescued or cancelled meanwhile, so its handler's work was rolled back.
      return {
        write: null,
        completion: { id: job.id, outcome: 'released' },
        outcome: a.outcome,
        durationMs: a.durationMs,
        written: false,
      }
    } catch (error) {
      // The transaction itself failed (commit, lost connection): the work is rolled back; retry the job.
      const now = executor.clock.now()
      const e = toAttemptError(job.attempt, now, error)
      const logs = attempt?.completion.logs
      const write: Completion =
        job.attempt >= job.maxAttempts
          ? { id: job.id, outcome: 'failed', error: e, attempt: job.attempt, logs, bufferWaitMs }
          : {
              id: job.id,
              outcome: 'retry',
              error: e,
              ...runAgain(executor.clock, now, 0),
              attempt: job.attempt,
              logs,
              bufferWaitMs,
            }
      return {
        write,
        completion: write,
        outcome: { outcome: 'failed', error },
        durationMs: attempt?.durationMs ?? 0,
        written: false,
      }
    }
  }

  /** Writes one completion now (batched runs hand theirs to the completer instead); false when the store skipped it. */
  async #write(completion: Completion): Promise<boolean> {
    const { store, executor } = this.#deps
    const { skipped } = await store.completeJobs({ completions: [completion], now: storeNow(executor.clock) })
    return skipped.length === 0
  }

  async #scheduleInfo(job: JobRecord): Promise<ScheduleRunInfo> {
    const { store } = this.#deps
    const name = job.scheduleName!
    const tick = job.scheduleTick ?? job.runAt
    const s = (await store.listSchedules()).find((x) => x.name === name)
    let previousSuccessAt = s?.lastSuccessAt ?? null
    if (previousSuccessAt !== null && previousSuccessAt >= tick) {
      // A newer tick succeeded first (retries, snoozes, several processes): the previous success is
      // the newest succeeded job of the schedule enqueued before this one (ticks are enqueued in
      // order), or none known (never, or pruned).
      const [before] = await store.listJobs({
        filter: { scheduleName: name, states: ['succeeded'] },
        limit: 1,
        beforeId: job.id,
      })
      const earlier = before?.scheduleTick ?? null
      previousSuccessAt = earlier !== null && earlier < tick ? earlier : null
    }
    return { name, tick, previousSuccessAt }
  }
}

function toRunResult(a: AttemptResult): RunResult & { readonly write: Completion } {
  // The executor's completions name the job's attempt already (the guard of the write).
  const write = a.completion
  return { write, completion: write, outcome: a.outcome, durationMs: a.durationMs, written: false }
}
