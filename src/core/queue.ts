/**
 * The queue every adapter exposes: the core's implementation of `Queue` on top of any `JobStore`.
 * Adapters only provide the store (and their extras, such as migrations or test helpers).
 */
import { randomUUID } from 'node:crypto'
import { AbortHandle } from './abort-handle.js'
import { DEFAULT_BACKOFF, resolveBackoff } from './backoff.js'
import { type Clock, createSystemClock } from './clock.js'
import { Completer } from './completer.js'
import { drainJobs } from './drain.js'
import { backoffFunctionOf, type EnqueueOptions, validateEnqueueOptions } from './enqueue-options.js'
import { InvalidArgumentError, JobCancelledError, LifecycleError, UnknownJobKindError } from './errors.js'
import { EventBus, type QueueEventListener, type QueueEventName } from './events.js'
import { type ExecutorDeps, runAttempt } from './executor.js'
import type { JobRecord } from './job.js'
import { isJobDefinition, type JobDefinition } from './job-definition.js'
import { JobManager } from './job-manager.js'
import { JobRunner, type RunMode } from './job-runner.js'
import { silentLogger } from './logger.js'
import { MaintenanceService } from './maintenance.js'
import type {
  AttemptOutcome,
  DrainOptions,
  DrainResult,
  EnqueueManyItem,
  EnqueueResult,
  JobHandler,
  JobPatch,
  Queue,
  RegisterOptions,
  ScheduleOptions,
  ShutdownOptions,
  UpdateJobOptions,
} from './ports.js'
import { Producer } from './producer.js'
import { type QueueOptions, validateQueueOptions } from './queue-options.js'
import { HandlerRegistry } from './registry.js'
import { type ResolvedWorker, resolveMaintenance, resolveWorkers } from './runtime-settings.js'
import { ScheduleService } from './schedule-service.js'
import type { JobFilter, JobStore, QueueStats, ScheduleRecord, TransactionHandle } from './store.js'
import { describe, validateName, validateOptionalInt, validateOptionsObject } from './validation.js'
import { Worker } from './worker.js'

/** A queue as built by the core: the `Queue` port plus what adapters and tests build on. */
export interface CoreQueue extends Queue {
  /** The store this queue runs on. */
  readonly store: JobStore
  /** Runs the registered handler of `job` once on `payload`, as a worker would, without storing the job. */
  performJob<P>(
    job: JobDefinition<P>,
    payload: P,
    options?: Omit<EnqueueOptions, 'tx'> & { attempt?: number },
  ): Promise<AttemptOutcome>
}

/** Creates a queue on a store. */
export function createQueue(store: JobStore, options: QueueOptions = {}): CoreQueue {
  return new CoreQueueImpl(store, options)
}

class CoreQueueImpl implements CoreQueue {
  readonly store: JobStore
  readonly clock: Clock
  readonly #options: QueueOptions
  readonly #events = new EventBus()
  readonly #registry = new HandlerRegistry()
  readonly #executor: ExecutorDeps
  readonly #completer: Completer
  readonly #processId: string
  readonly #runner: JobRunner
  readonly #producer: Producer
  readonly #manager: JobManager
  #workers: Worker[] = []
  #maintenance: MaintenanceService | null = null
  #cancelFeed: { users: number; unsubscribe: () => void } | null = null
  #scheduler: ScheduleService | null = null
  #unsubscribe: (() => void)[] = []
  #startPromise: Promise<void> | null = null
  #shutdownPromise: Promise<void> | null = null

  constructor(store: JobStore, options: QueueOptions) {
    if (!store || typeof store.claimJobs !== 'function') {
      throw new InvalidArgumentError(`createQueue(store) needs a JobStore; got ${describe(store)}.`)
    }
    validateQueueOptions(options)
    this.store = store
    this.#options = options
    this.clock = options.clock ?? createSystemClock()
    this.#processId = options.processId ?? randomUUID().slice(0, 8)
    this.#executor = {
      clock: this.clock,
      random: options.random ?? Math.random,
      logger: options.logger ?? silentLogger,
      defaultBackoff: resolveBackoff(options.backoff, DEFAULT_BACKOFF),
    }
    this.#completer = new Completer({
      store,
      clock: this.clock,
      onError: (error) => this.#events.emit('error', { error, during: 'complete' }),
    })
    this.#producer = new Producer({
      store,
      clock: this.clock,
      events: this.#events,
      tracing: options.tracing,
    })
    this.#manager = new JobManager({
      store,
      clock: this.clock,
      events: this.#events,
      runningHere: () => new Set(this.#runner.localRuns.keys()),
      abortHere: (ids) => this.#abortLocal(ids),
      definitionOf: (kind) => this.#registry.get(kind)?.definition,
    })
    this.#runner = new JobRunner({
      store,
      executor: this.#executor,
      events: this.#events,
      registry: this.#registry,
      completer: this.#completer,
      afterComplete: () => this.#wakeAll(),
      tracing: options.tracing,
    })
    resolveMaintenance(this.#options, this.#processId)
    resolveWorkers(options, this.#processId, ['default']) // validate worker options now, not at start
    validateOptionalInt(options.shutdownGraceMs, 'shutdownGraceMs', 0, 2_147_483_647)
    validateOptionalInt(options.pollIntervalMs, 'pollIntervalMs', 1, 2_147_483_647)
  }

  on<E extends QueueEventName>(event: E, listener: QueueEventListener<E>): () => void {
    return this.#events.on(event, listener)
  }

  register<P>(job: JobDefinition<P>, handler: JobHandler<P>, options?: RegisterOptions): void {
    this.#registry.register(job, handler, options)
    for (const w of this.#workers) w.wake()
  }

  enqueue<P>(job: JobDefinition<P>, payload: P, options?: EnqueueOptions): Promise<EnqueueResult> {
    return this.#producer.enqueue(job, payload, options)
  }

  enqueueMany(
    items: readonly EnqueueManyItem<never>[] | readonly EnqueueManyItem[],
    options?: { tx?: TransactionHandle },
  ): Promise<EnqueueResult[]> {
    return this.#producer.enqueueMany(items, options)
  }

  schedule<P>(
    expression: string,
    job: JobDefinition<P>,
    payload: P,
    options?: ScheduleOptions,
  ): Promise<ScheduleRecord> {
    return this.#producer.schedule(expression, job, payload, options)
  }

  unschedule(name: string): Promise<boolean> {
    return this.#producer.unschedule(name)
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return this.#producer.listSchedules()
  }

  // ---- running ----

  start(): Promise<void> {
    if (this.#shutdownPromise)
      return Promise.reject(new LifecycleError('This queue was shut down; create a new one to start again.'))
    this.#startPromise ??= this.#start()
    return this.#startPromise
  }

  async #start(): Promise<void> {
    const base = this.#options
    const defaultQueues = [
      ...new Set(['default', ...this.#registry.all().map((r) => r.definition.defaults.queue)]),
    ]
    this.#workers = resolveWorkers(base, this.#processId, defaultQueues).map((w) => this.#createWorker(w))
    if (base.maintenance?.enabled !== false) {
      this.#maintenance = new MaintenanceService({
        store: this.store,
        clock: this.clock,
        events: this.#events,
        settings: resolveMaintenance(base, this.#processId),
      })
      await this.#maintenance.start()
    }
    this.#unsubscribe.push(
      this.store.onJobsAvailable((queues) => {
        for (const w of this.#workers)
          if (queues.length === 0 || w.settings.queues.some((q) => queues.includes(q))) w.wake()
      }),
    )
    this.#unsubscribe.push(this.#useCancelFeed())
    for (const w of this.#workers) w.start()
    const sched = base.scheduler ?? {}
    if (sched.enabled !== false) {
      this.#scheduler = new ScheduleService({
        store: this.store,
        clock: this.clock,
        events: this.#events,
        intervalMs: sched.intervalMs ?? 1000,
        missedToleranceMs: sched.missedToleranceMs ?? 60_000,
      })
      this.#scheduler.start()
    }
  }

  #createWorker({ settings, transactional }: ResolvedWorker): Worker {
    const mode: RunMode = { batched: true, transactional }
    return new Worker(settings, {
      clock: this.clock,
      claim: async (p) => {
        const kinds = this.#registry.kinds
        if (kinds.length === 0) return []
        return this.store.claimJobs({ ...p, kinds, now: this.clock.now() })
      },
      run: (job, abort) => this.#runner.run(job, abort, mode),
      release: async (jobs) => {
        if (jobs.length === 0) return
        await this.store.completeJobs({
          completions: jobs.map((j) => ({ id: j.id, outcome: 'released' as const, attempt: j.attempt })),
          now: this.clock.now(),
        })
      },
      onError: (error, during) => this.#events.emit('error', { error, during }),
    })
  }

  #wakeAll(): void {
    for (const w of this.#workers) w.wake()
  }

  shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (this.#shutdownPromise) return this.#shutdownPromise
    let grace: number
    try {
      grace =
        validateOptionalInt(
          validateOptionsObject(options, 'shutdown options', ['graceMs']).graceMs,
          'graceMs',
          0,
          2_147_483_647,
        ) ??
        this.#options.shutdownGraceMs ??
        10_000
    } catch (error) {
      return Promise.reject(error)
    }
    this.#shutdownPromise = (async () => {
      await this.#startPromise?.catch(() => undefined)
      for (const u of this.#unsubscribe) u()
      this.#unsubscribe = []
      await Promise.all([
        this.#scheduler?.stop(),
        this.#maintenance?.stop(),
        ...this.#workers.map((w) => w.stop(grace)),
      ])
      await this.#completer.idle()
      await this.store.close()
    })()
    return this.#shutdownPromise
  }

  /** Aborts local runs of cancelled jobs; subscribes to the store's feed while anyone needs it. */
  #useCancelFeed(): () => void {
    if (!this.#cancelFeed) {
      const unsubscribe = this.store.onJobsCancelled((ids) => this.#abortLocal(ids))
      this.#cancelFeed = { users: 0, unsubscribe }
    }
    const feed = this.#cancelFeed
    feed.users++
    let released = false
    return () => {
      if (released) return
      released = true
      if (--feed.users === 0) {
        feed.unsubscribe()
        this.#cancelFeed = null
      }
    }
  }

  #abortLocal(ids: readonly string[]): void {
    if (ids.length === 0) return
    const set = new Set(ids)
    for (const w of this.#workers) w.dropBuffered(set)
    for (const id of ids)
      this.#runner.localRuns.get(id)?.abort(new JobCancelledError('cancelled by an operator'))
  }

  async drain(options: DrainOptions = {}): Promise<DrainResult> {
    const release = this.#useCancelFeed()
    try {
      return await this.#drain(options)
    } finally {
      release()
    }
  }

  #drain(options: DrainOptions): Promise<DrainResult> {
    const m = resolveMaintenance(this.#options, this.#processId)
    return drainJobs(
      {
        store: this.store,
        clock: this.clock,
        events: this.#events,
        registry: this.#registry,
        runner: this.#runner,
        strategy: this.#options.strategy ?? 'priority',
        workerId: `${this.#processId}:drain`,
        missedToleranceMs: this.#options.scheduler?.missedToleranceMs ?? 60_000,
        heartbeat: async () => {
          await this.store.recordHeartbeat({ processId: this.#processId, now: this.clock.now() })
        },
        heartbeatIntervalMs: m.heartbeatIntervalMs,
      },
      options,
    )
  }

  async performJob<P>(
    job: JobDefinition<P>,
    payload: P,
    options: Omit<EnqueueOptions, 'tx'> & { attempt?: number } = {},
  ): Promise<AttemptOutcome> {
    const { attempt, ...rest } = options
    const registration = isJobDefinition(job) ? this.#registry.get(job.kind) : undefined
    if (!registration)
      throw new UnknownJobKindError(
        isJobDefinition(job) ? job.kind : String(describe(job)),
        'Register it with queue.register(job, handler) first.',
      )
    const opts = validateEnqueueOptions(rest)
    const row = await this.#producer.prepare(job, payload, opts)
    const now = this.clock.now()
    const record: JobRecord = {
      ...row,
      id: '0',
      state: 'running',
      createdAt: now,
      attempt: validateOptionalInt(attempt, 'attempt', 1, row.maxAttempts) ?? 1,
      errors: [],
      attemptedAt: now,
      attemptedBy: `${this.#processId}:perform`,
      finishedAt: null,
    }
    const result = await runAttempt(this.#executor, {
      job: record,
      handler: registration.handler,
      backoffFn: backoffFunctionOf(registration.definition),
      schedule: null,
      abort: new AbortHandle(),
    })
    return result.outcome
  }

  // ---- managing ----

  getJob(id: string): Promise<JobRecord | null> {
    return this.#manager.getJob(id)
  }

  listJobs(filter?: JobFilter, page?: { limit?: number; beforeId?: string }): Promise<JobRecord[]> {
    return this.#manager.listJobs(filter, page)
  }

  retryJobs(filter: JobFilter): Promise<number> {
    return this.#manager.retryJobs(filter)
  }

  cancelJobs(filter: JobFilter): Promise<number> {
    return this.#manager.cancelJobs(filter)
  }

  deleteJobs(filter: JobFilter): Promise<number> {
    return this.#manager.deleteJobs(filter)
  }

  updateJob(id: string, patch: JobPatch, options?: UpdateJobOptions): Promise<JobRecord> {
    return this.#manager.updateJob(id, patch, options)
  }

  jobDefinition(kind: string): JobDefinition<unknown> | undefined {
    return this.#registry.get(validateName(kind, 'jobDefinition(kind)'))?.definition
  }

  pauseQueue(queue: string): Promise<void> {
    return this.#manager.setPaused(queue, true)
  }

  resumeQueue(queue: string): Promise<void> {
    return this.#manager.setPaused(queue, false)
  }

  stats(): Promise<QueueStats[]> {
    return this.#manager.stats()
  }

  prune(options?: { olderThanMs?: number; batchSize?: number }): Promise<number> {
    return this.#manager.prune(options)
  }
}

const QUEUE_METHODS = [
  'enqueue',
  'enqueueMany',
  'schedule',
  'unschedule',
  'listSchedules',
  'register',
  'start',
  'shutdown',
  'drain',
  'on',
  'getJob',
  'listJobs',
  'retryJobs',
  'cancelJobs',
  'deleteJobs',
  'updateJob',
  'jobDefinition',
  'pauseQueue',
  'resumeQueue',
  'stats',
  'prune',
  'performJob',
] as const satisfies readonly (keyof CoreQueue)[]

/**
 * Returns a plain object with every method of `core` bound to it, plus `extras`: how adapters
 * add their own members (migrate, test helpers) without subclassing.
 */
export function extendQueue<Q extends CoreQueue, X extends object>(
  core: Q,
  extras: X,
): Omit<CoreQueue, keyof X> & X {
  const out: Record<string, unknown> = { clock: core.clock, store: core.store }
  for (const name of QUEUE_METHODS) out[name] = (core[name] as (...args: unknown[]) => unknown).bind(core)
  return Object.assign(out, extras) as Omit<CoreQueue, keyof X> & X
}
