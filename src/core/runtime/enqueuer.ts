/**
 * The enqueue side: validating jobs and storing them (`Enqueuer`), through the queue's insert
 * middleware (tracing's enqueue span is one). A process that only enqueues needs nothing else;
 * `createQueue` builds one for its `Queue` too.
 */

import { type EnqueueOptions, resolveNewJob, validateEnqueueOptions } from '../domain/enqueue-options.js'
import { InvalidArgumentError } from '../domain/errors.js'
import type { EventBus } from '../domain/events.js'
import { isJobDefinition, type JobDefinition, validatePayload } from '../domain/job-definition.js'
import { describe, validateOptionsObject } from '../domain/validation.js'
import type { Clock } from '../ports/clock.js'
import type { InsertCall, RowEdit } from '../ports/middleware.js'
import type { EnqueueManyItem, EnqueueManyItems, EnqueueResult, Enqueuer } from '../ports/queue.js'
import type { InsertOutcome, JobStore, NewJob, TransactionHandle } from '../ports/store.js'
import type { MiddlewareChain } from './middleware-chain.js'

/** What the enqueuer works with. */
export interface JobEnqueuerDeps {
  readonly store: JobStore
  readonly clock: Clock
  readonly events: EventBus
  /** The queue's middleware (its insert hooks wrap every enqueue call). */
  readonly middleware: MiddlewareChain
}

/** Validates and stores jobs. */
export class JobEnqueuer implements Enqueuer {
  readonly #store: JobStore
  readonly #clock: Clock
  readonly #events: EventBus
  readonly #middleware: MiddlewareChain

  constructor(deps: JobEnqueuerDeps) {
    this.#store = deps.store
    this.#clock = deps.clock
    this.#events = deps.events
    this.#middleware = deps.middleware
  }

  async enqueue<P>(job: JobDefinition<P>, payload: P, options?: EnqueueOptions): Promise<EnqueueResult> {
    const opts = validateEnqueueOptions(options)
    const call: InsertCall = this.#middleware.wrapsInserts
      ? { operation: 'enqueue', count: 1, queue: queueOf(job, opts.queue), kind: kindOf(job) }
      : NO_CALL
    const [outcome] = await this.#middleware.insert(call, async (edit) => {
      const row = await this.prepare(job, payload, opts)
      return this.#store.insertJobs({ jobs: [edited(row, edit)], now: this.#clock.now(), tx: opts.tx })
    })
    return this.#reportInsert(outcome!)
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
    const list = items as readonly EnqueueManyItem[]
    const call = this.#middleware.wrapsInserts ? batchCall(list) : NO_CALL
    const outcomes = await this.#middleware.insert(call, (edit) => this.#enqueueMany(list, tx, edit))
    return outcomes.map((o) => this.#reportInsert(o))
  }

  async #enqueueMany(
    items: readonly EnqueueManyItem[],
    tx: TransactionHandle | undefined,
    edit: RowEdit | undefined,
  ): Promise<InsertOutcome[]> {
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
        rows.push(edited(await this.prepare(item.job, item.payload, opts), edit))
      } catch (error) {
        if (error instanceof Error) error.message = `enqueueMany item ${i}: ${error.message}`
        throw error
      }
    }
    return this.#store.insertJobs({ jobs: rows, now: this.#clock.now(), tx })
  }

  /** Validates a job and its payload and builds the row to store (no I/O but an async schema). */
  async prepare(job: JobDefinition<unknown>, payload: unknown, opts: EnqueueOptions): Promise<NewJob> {
    if (!isJobDefinition(job))
      throw new InvalidArgumentError(`enqueue needs a job made by defineJob(); got ${describe(job)}.`)
    const value = await validatePayload(job, payload)
    return resolveNewJob(job, value, opts, this.#clock.now())
  }

  #reportInsert(outcome: InsertOutcome): EnqueueResult {
    const { job, duplicate } = outcome
    this.#events.emit('enqueued', { job, duplicate })
    return { id: job.id, kind: job.kind, queue: job.queue, state: job.state, runAt: job.runAt, duplicate }
  }
}

/** The call handed to the chain when no middleware wraps inserts (nothing reads it). */
const NO_CALL: InsertCall = { operation: 'enqueue', count: 1, queue: undefined, kind: undefined }

/** `row`, edited by the insert middleware when it asked to. */
function edited(row: NewJob, edit: RowEdit | undefined): NewJob {
  return edit === undefined ? row : edit(row)
}

/** The queue a job will go to, for insert middleware (undefined when `job` is not a definition). */
function queueOf(job: unknown, queue: unknown): string | undefined {
  if (typeof queue === 'string') return queue
  return isJobDefinition(job) ? job.defaults.queue : undefined
}

/** The kind of a job, for insert middleware (undefined when `job` is not a definition). */
function kindOf(job: unknown): string | undefined {
  return isJobDefinition(job) ? job.kind : undefined
}

/** An `enqueueMany` call: the count, and the queue and kind when every item shares them. */
function batchCall(items: readonly EnqueueManyItem[]): InsertCall {
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
  return { operation: 'enqueueMany', count: items.length, queue, kind }
}
