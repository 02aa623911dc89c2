/**
 * The queue every adapter exposes: the core's implementation of `Queue` on top of any `JobStore`.
 * Adapters only provide the store (and their extras, such as migrations or test helpers).
 */
import type { QueueOptions } from './config/queue-options.js'
import { type ResolvedConfig, type ResolvedWorker, resolveConfig } from './config/resolve-config.js'
import { DEFAULTS, MAX_TIMER_MS } from './defaults.js'
import type { EnqueueOptions } from './domain/enqueue-options.js'
import { InvalidArgumentError, JobCancelledError, LifecycleError } from './domain/errors.js'
import { EventBus, type QueueEventListener, type QueueEventName } from './domain/events.js'
import type { JobRecord } from './domain/job.js'
import type { JobDefinition } from './domain/job-definition.js'
import type { JobRef } from './domain/job-ref.js'
import type { StorageHealth, StorageHealthOptions } from './domain/storage-health.js'
import { describe, validateName, validateOptionalInt, validateOptionsObject } from './domain/validation.js'
import { MaintenanceService } from './maintenance/maintenance-service.js'
import { ScheduleService } from './maintenance/schedule-service.js'
import { type Clock, storeNow } from './ports/clock.js'
import type {
  AttemptOutcome,
  DrainOptions,
  DrainResult,
  EnqueueManyItems,
  EnqueueResult,
  HandlerModule,
  JobHandler,
  JobPatch,
  Queue,
  RegisterOptions,
  ScheduleOptions,
  ShutdownOptions,
  UpdateJobOptions,
} from './ports/queue.js'
import type {
  JobFilter,
  JobStore,
  OrphanReport,
  ProcessRecord,
  QueueStats,
  ScheduleRecord,
  TransactionHandle,
} from './ports/store.js'
import { Completer } from './runtime/completer.js'
import { drainJobs } from './runtime/drain.js'
import { JobEnqueuer } from './runtime/enqueuer.js'
import type { ExecutorDeps } from './runtime/executor.js'
import { HandlerRegistry } from './runtime/handler-registry.js'
import type { IsolationHost } from './runtime/isolation/isolation-host.js'
import { JobManager } from './runtime/job-manager.js'
import { JobRunner, type RunMode } from './runtime/job-runner.js'
import { MiddlewareChain } from './runtime/middleware-chain.js'
import { emitOutcome } from './runtime/outcome-events.js'
import { performJob } from './runtime/perform-job.js'
import { ScheduleRegistrar } from './runtime/schedule-registrar.js'
import { StorageHealthMonitor } from './runtime/storage-health-monitor.js'
import { Worker } from './runtime/worker.js'

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

/** Creates a queue on a store; `isolation` runs handlers registered as modules (threads, processes). */
export function createQueue(
  store: JobStore,
  options: QueueOptions = {},
  isolation?: IsolationHost,
): CoreQueue {
  assertStore(store)
  return new CoreQueueImpl(store, resolveConfig(options), isolation)
}

/** Creates a queue on a store from options an adapter already resolved (once, with `resolveConfig`). */
export function createConfiguredQueue(
  store: JobStore,
  config: ResolvedConfig,
  isolation?: IsolationHost,
): CoreQueue {
  assertStore(store)
  return new CoreQueueImpl(store, config, isolation)
}

function assertStore(store: JobStore): void {
  if (!store || typeof store.claimJobs !== 'function') {
    throw new InvalidArgumentError(`createQueue(store) needs a JobStore; got ${describe(store)}.`)
  }
}

class CoreQueueImpl implements CoreQueue {
  readonly store: JobStore
  readonly clock: Clock
  readonly #config: ResolvedConfig
  readonly #events = new EventBus()
  readonly #registry: HandlerRegistry
  readonly #isolation: IsolationHost | undefined
  readonly #executor: ExecutorDeps
  readonly #completer: Completer
  readonly #runner: JobRunner
  readonly #enqueuer: JobEnqueuer
  readonly #schedules: ScheduleRegistrar
  readonly #manager: JobManager
  readonly #health: StorageHealthMonitor
  #workers: Worker[] = []
  #maintenance: MaintenanceService | null = null
  #cancelFeed: { users: number; unsubscribe: () => void } | null = null
  #scheduler: ScheduleService | null = null
  #unsubscribe: (() => void)[] = []
  #startPromise: Promise<void> | null = null
  #shutdownPromise: Promise<void> | null = null

  constructor(store: JobStore, config: ResolvedConfig, isolation: IsolationHost | undefined) {
    this.store = store
    this.#isolation = isolation
    this.#registry = new HandlerRegistry(isolation)
    this.#config = config
    this.clock = config.clock
    this.#executor = { clock: this.clock, ...config.executor }
    this.#completer = new Completer({
      store,
      clock: this.clock,
      onError: (error) => this.#events.emit('error', { error, during: 'complete' }),
      onApplied: (job, completion, durationMs) =>
        emitOutcome(this.#events, this.clock, job, completion, durationMs),
    })
    this.#schedules = new ScheduleRegistrar({ store, clock: this.clock })
    this.#health = new StorageHealthMonitor({ store, clock: this.clock, settings: config.storageHealth })
    // The chain is fixed once here, so a run pays nothing for middleware it does not have.
    const middleware = new MiddlewareChain(config.middleware)
    this.#enqueuer = new JobEnqueuer({
      store,
      clock: this.clock,
      events: this.#events,
      middleware,
    })
    this.#manager = new JobManager({
      store,
      clock: this.clock,
      events: this.#events,
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
      middleware,
    })
  }

  on<E extends QueueEventName>(event: E, listener: QueueEventListener<E>): () => void {
    return this.#events.on(event, listener)
  }

  register<P>(
    job: JobDefinition<P>,
    handler: JobHandler<P> | HandlerModule,
    options?: RegisterOptions,
  ): void {
    const replaced = typeof job?.kind === 'string' && this.#registry.get(job.kind) !== undefined
    this.#registry.register(job, handler, options)
    if (this.#events.has('registered'))
      this.#events.emit('registered', { kind: job.kind, queue: job.defaults.queue, replaced })
    for (const w of this.#workers) w.wake()
  }

  enqueue<P>(job: JobDefinition<P>, payload: P, options?: EnqueueOptions): Promise<EnqueueResult> {
    return this.#enqueuer.enqueue(job, payload, options)
  }

  enqueueMany<const T extends readonly unknown[]>(
    items: EnqueueManyItems<T>,
    options?: { tx?: TransactionHandle },
  ): Promise<EnqueueResult[]> {
    return this.#enqueuer.enqueueMany(items, options)
  }

  schedule<P>(
    expression: string,
    job: JobDefinition<P>,
    payload: P,
    options?: ScheduleOptions,
  ): Promise<ScheduleRecord> {
    return this.#schedules.schedule(expression, job, payload, options)
  }

  unschedule(name: string): Promise<boolean> {
    return this.#schedules.unschedule(name)
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return this.#schedules.listSchedules()
  }

  // ---- running ----

  start(): Promise<void> {
    if (this.#shutdownPromise)
      return Promise.reject(new LifecycleError('This queue was shut down; create a new one to start again.'))
    this.#startPromise ??= this.#start()
    return this.#startPromise
  }

  async #start(): Promise<void> {
    const config = this.#config
    const defaultQueues = [
      ...new Set(['default', ...this.#registry.all().map((r) => r.definition.defaults.queue)]),
    ]
    this.#workers = config.workers(defaultQueues).map((w) => this.#createWorker(w))
    if (config.maintenance) {
      this.#maintenance = new MaintenanceService({
        store: this.store,
        clock: this.clock,
        events: this.#events,
        settings: config.maintenance,
        workers: this.#workers.map(({ settings: w }) => ({
          queues: w.queues,
          capacity: w.capacity,
          oversized: w.oversized,
        })),
        kinds: () => this.#registry.kinds,
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
    if (config.scheduler) {
      this.#scheduler = new ScheduleService({
        store: this.store,
        clock: this.clock,
        events: this.#events,
        settings: config.scheduler,
      })
      this.#scheduler.start()
    }
  }

  #createWorker({ settings, transactional, isolation }: ResolvedWorker): Worker {
    const mode: RunMode = { batched: true, transactional, isolation }
    return new Worker(settings, {
      clock: this.clock,
      claim: async (p) => {
        const kinds = this.#registry.kinds
        if (kinds.length === 0) return []
        const jobs = await this.store.claimJobs({ ...p, kinds, now: storeNow(this.clock), resume: true })
        if (jobs.length > 0 && this.#events.has('claimed'))
          this.#events.emit('claimed', { jobs, workerId: p.workerId })
        return jobs
      },
      run: (job, abort, bufferWaitMs) => this.#runner.run(job, abort, mode, bufferWaitMs),
      release: async (jobs) => {
        if (jobs.length === 0) return
        await this.store.completeJobs({
          completions: jobs.map((j) => ({ id: j.id, outcome: 'released' as const, attempt: j.attempt })),
          now: storeNow(this.clock),
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
          MAX_TIMER_MS,
        ) ?? this.#config.shutdownGraceMs
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
      await this.#isolation?.close()
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
    return drainJobs(
      {
        store: this.store,
        clock: this.clock,
        events: this.#events,
        registry: this.#registry,
        runner: this.#runner,
        ...this.#config.drain,
        heartbeat: async () => {
          await this.store.recordHeartbeat({
            processId: this.#config.processId,
            now: storeNow(this.clock),
            kinds: this.#registry.kinds,
          })
        },
      },
      options,
    )
  }

  performJob<P>(
    job: JobDefinition<P>,
    payload: P,
    options: Omit<EnqueueOptions, 'tx'> & { attempt?: number } = {},
  ): Promise<AttemptOutcome> {
    return performJob(
      {
        registry: this.#registry,
        enqueuer: this.#enqueuer,
        executor: this.#executor,
        attemptedBy: `${this.#config.processId}:perform`,
      },
      job,
      payload,
      options,
    )
  }

  // ---- managing ----

  getJob(job: JobRef): Promise<JobRecord | null> {
    return this.#manager.getJob(job)
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

  pauseJobs(filter: JobFilter): Promise<number> {
    return this.#manager.pauseJobs(filter)
  }

  resumeJobs(filter: JobFilter): Promise<number> {
    return this.#manager.resumeJobs(filter)
  }

  updateJob(job: JobRef, patch: JobPatch, options?: UpdateJobOptions): Promise<JobRecord> {
    return this.#manager.updateJob(job, patch, options)
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

  listProcesses(): Promise<ProcessRecord[]> {
    const liveWithinMs = this.#config.maintenance?.rescueAfterMs ?? DEFAULTS.maintenance.rescueAfterMs
    return this.store.listProcesses({ now: storeNow(this.clock), liveWithinMs })
  }

  storageHealth(options?: StorageHealthOptions): Promise<StorageHealth | null> {
    return this.#health.storageHealth(options)
  }

  prune(options?: { olderThanMs?: number; batchSize?: number }): Promise<number> {
    return this.#manager.prune(options)
  }

  findOrphans(): Promise<OrphanReport> {
    return this.store.findOrphans({
      now: storeNow(this.clock),
      staleAfterMs: this.#config.drain.rescueAfterMs,
      // This queue's own kinds count once it runs workers (a process that only registers does not run them).
      registered: this.#startPromise && !this.#shutdownPromise ? this.#registry.kinds : [],
    })
  }
}
