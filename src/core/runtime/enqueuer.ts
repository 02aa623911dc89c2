/**
 * The enqueue side: validating jobs and storing them (`Enqueuer`), with an enqueue span each. A
 * process that only enqueues needs nothing else; `createQueue` builds one for its `Queue` too.
 */

import { type EnqueueOptions, resolveNewJob, validateEnqueueOptions } from '../domain/enqueue-options.js'
import { InvalidArgumentError } from '../domain/errors.js'
import type { EventBus } from '../domain/events.js'
import { isJobDefinition, type JobDefinition, validatePayload } from '../domain/job-definition.js'
import { describe, validateOptionsObject } from '../domain/validation.js'
import type { Clock } from '../ports/clock.js'
import type { EnqueueManyItem, EnqueueManyItems, EnqueueResult, Enqueuer } from '../ports/queue.js'
import type { InsertOutcome, JobStore, NewJob, TransactionHandle } from '../ports/store.js'
import { type SendTarget, type TraceCarrier, Tracing, type TracingOptions } from './tracing.js'

/** What the enqueuer works with. */
export interface JobEnqueuerDeps {
  readonly store: JobStore
  readonly clock: Clock
  readonly events: EventBus
  /** Tracing settings (default: on, with the global tracer provider). */
  readonly tracing?: TracingOptions
}

/** Validates and stores jobs. */
export class JobEnqueuer implements Enqueuer {
  readonly #store: JobStore
  readonly #clock: Clock
  readonly #events: EventBus
  readonly #tracing: Tracing

  constructor(deps: JobEnqueuerDeps) {
    this.#store = deps.store
    this.#clock = deps.clock
    this.#events = deps.events
    this.#tracing = new Tracing(deps.tracing)
  }

  async enqueue<P>(job: JobDefinition<P>, payload: P, options?: EnqueueOptions): Promise<EnqueueResult> {
    const opts = validateEnqueueOptions(options)
    const target = this.#tracing.enabled
      ? { queue: queueOf(job, opts.queue), kind: kindOf(job), count: undefined }
      : NO_TARGET
    return this.#tracing.send(
      target,
      async (traceContext) => {
        const row = await this.prepare(job, payload, opts, traceContext)
        const [outcome] = await this.#store.insertJobs({ jobs: [row], now: this.#clock.now(), tx: opts.tx })
        return this.#reportInsert(outcome!)
      },
      (span, result) => {
        span.setAttribute('messaging.message.id', result.id)
        if (result.duplicate) span.setAttribute('conveyor.job.duplicate', true)
      },
    )
  }

  async enqueueMany<const T extends readonly unknown[]>(
    items: EnqueueManyItems<T>,
    options?: { tx?: TransactionHandle },
  ): Promise<EnqueueResult[]> {
    if (!Array.isArray(items))
      throw new InvalidArgumentError(
        `enqueueMany(items) needs an array of { job, payload, options }; got ${describe(items)}.`,
      )
    validateOptionsObject(options, 'enqueueMany options', ['tx'])
    const tx = options?.tx === undefined ? undefined : validateEnqueueOptions({ tx: options.tx }).tx
    if (items.length === 0) return []
    const target = this.#tracing.enabled ? batchTarget(items as readonly EnqueueManyItem[]) : NO_TARGET
    return this.#tracing.send(target, (traceContext) =>
      this.#enqueueMany(items as readonly EnqueueManyItem[], tx, traceContext),
    )
  }

  async #enqueueMany(
    items: readonly EnqueueManyItem[],
    tx: TransactionHandle | undefined,
    traceContext: TraceCarrier | null,
  ): Promise<EnqueueResult[]> {
    const rows: NewJob[] = []
    for (let i = 0; i < items.length; i++) {
      const item = items[i]
      if (typeof item !== 'object' || item === null)
        throw new InvalidArgumentError(
          `enqueueMany: item ${i} must be { job, payload, options? }; got ${describe(item)}.`,
        )
      const opts = validateEnqueueOptions(item.options)
      if (opts.tx)
        throw new InvalidArgumentError(
          `enqueueMany: item ${i} sets tx; pass the transaction once as enqueueMany(items, { tx }).`,
        )
      try {
        rows.push(await this.prepare(item.job, item.payload, opts, traceContext))
      } catch (error) {
        if (error instanceof Error) error.message = `enqueueMany item ${i}: ${error.message}`
        throw error
      }
    }
    const outcomes = await this.#store.insertJobs({ jobs: rows, now: this.#clock.now(), tx })
    return outcomes.map((o) => this.#reportInsert(o))
  }

  /** Validates a job and its payload and builds the row to store (no I/O but an async schema). */
  async prepare(
    job: JobDefinition<unknown>,
    payload: unknown,
    opts: EnqueueOptions,
    traceContext: TraceCarrier | null = null,
  ): Promise<NewJob> {
    if (!isJobDefinition(job))
      throw new InvalidArgumentError(`enqueue needs a job made by defineJob(); got ${describe(job)}.`)
    const value = await validatePayload(job, payload)
    return resolveNewJob(job, value, opts, this.#clock.now(), { traceContext })
  }

  #reportInsert(outcome: InsertOutcome): EnqueueResult {
    const { job, duplicate } = outcome
    this.#events.emit('enqueued', { job, duplicate })
    return { id: job.id, kind: job.kind, queue: job.queue, state: job.state, runAt: job.runAt, duplicate }
  }
}

const NO_TARGET: SendTarget = { queue: undefined, kind: undefined, count: undefined }

/** The queue a job will go to, for its enqueue span (undefined when `job` is not a definition). */
function queueOf(job: unknown, queue: unknown): string | undefined {
  if (typeof queue === 'string') return queue
  return isJobDefinition(job) ? job.defaults.queue : undefined
}

/** The kind of a job, for its enqueue span (undefined when `job` is not a definition). */
function kindOf(job: unknown): string | undefined {
  return isJobDefinition(job) ? job.kind : undefined
}

/** An `enqueueMany` span's target: the count, and the queue and kind when every item shares them. */
function batchTarget(items: readonly EnqueueManyItem[]): SendTarget {
  let queue: string | undefined
  let kind: string | undefined
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as Partial<EnqueueManyItem> | null | undefined
    const q = queueOf(item?.job, item?.options?.queue)
    const k = kindOf(item?.job)
    if (i === 0) {
      queue = q
      kind = k
    } else {
      if (q !== queue) queue = undefined
      if (k !== kind) kind = undefined
    }
  }
  return { queue, kind, count: items.length }
}
