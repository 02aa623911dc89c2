/**
 * Producing: validating and storing jobs (`Enqueuer`) and schedules (`Scheduler`). A producer-only
 * process needs nothing else; `createQueue` builds one for its `Queue` too.
 */
import type { Clock } from './clock.js'
import { type EnqueueOptions, resolveNewJob, validateEnqueueOptions } from './enqueue-options.js'
import { InvalidArgumentError } from './errors.js'
import type { EventBus } from './events.js'
import { isJobDefinition, type JobDefinition, validatePayload } from './job-definition.js'
import type { EnqueueManyItem, EnqueueResult, Enqueuer, ScheduleOptions, Scheduler } from './ports.js'
import { scheduleRecordFor } from './schedule-upsert.js'
import type { InsertOutcome, JobStore, NewJob, ScheduleRecord, TransactionHandle } from './store.js'
import { describe, validateName } from './validation.js'

/** What a producer works with. */
export interface ProducerDeps {
  readonly store: JobStore
  readonly clock: Clock
  readonly events: EventBus
}

/** Validates and stores jobs and schedules. */
export class Producer implements Enqueuer, Scheduler {
  readonly #store: JobStore
  readonly #clock: Clock
  readonly #events: EventBus

  constructor(deps: ProducerDeps) {
    this.#store = deps.store
    this.#clock = deps.clock
    this.#events = deps.events
  }

  async enqueue<P>(job: JobDefinition<P>, payload: P, options?: EnqueueOptions): Promise<EnqueueResult> {
    const opts = validateEnqueueOptions(options)
    const row = await this.prepare(job, payload, opts)
    const [outcome] = await this.#store.insertJobs({ jobs: [row], now: this.#clock.now(), tx: opts.tx })
    return this.#reportInsert(outcome!)
  }

  async enqueueMany(
    items: readonly EnqueueManyItem<never>[] | readonly EnqueueManyItem[],
    options?: { tx?: TransactionHandle },
  ): Promise<EnqueueResult[]> {
    if (!Array.isArray(items))
      throw new InvalidArgumentError(
        `enqueueMany(items) needs an array of { job, payload, options }; got ${describe(items)}.`,
      )
    const tx = options?.tx === undefined ? undefined : validateEnqueueOptions({ tx: options.tx }).tx
    const rows: NewJob[] = []
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as EnqueueManyItem
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
        rows.push(await this.prepare(item.job, item.payload, opts))
      } catch (error) {
        if (error instanceof Error) error.message = `enqueueMany item ${i}: ${error.message}`
        throw error
      }
    }
    if (rows.length === 0) return []
    const outcomes = await this.#store.insertJobs({ jobs: rows, now: this.#clock.now(), tx })
    return outcomes.map((o) => this.#reportInsert(o))
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

  async schedule<P>(
    expression: string,
    job: JobDefinition<P>,
    payload: P,
    options: ScheduleOptions = {},
  ): Promise<ScheduleRecord> {
    if (!isJobDefinition(job))
      throw new InvalidArgumentError(`schedule needs a job made by defineJob(); got ${describe(job)}.`)
    const value = await validatePayload(job, payload)
    const now = this.#clock.now()
    const name = options.name === undefined ? job.kind : validateName(options.name, 'schedule name')
    const existing = (await this.#store.listSchedules()).find((s) => s.name === name)
    const schedule = scheduleRecordFor({ expression, job, payload: value, options, name, now, existing })
    return this.#store.upsertSchedule({ schedule, now })
  }

  async unschedule(name: string): Promise<boolean> {
    return this.#store.deleteSchedule({ name: validateName(name, 'schedule name') })
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return this.#store.listSchedules()
  }
}
