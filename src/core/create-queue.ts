/**
 * The queue every adapter exposes: the core's implementation of `Queue` on top of any `JobStore`.
 * Adapters only provide the store (and their extras, such as migrations or test helpers).
 */
import type { QueueOptions } from './config/queue-options.js'
import { type ResolvedConfig, resolveConfig } from './config/resolve-config.js'
import { DEFAULTS } from './defaults.js'
import type { EnqueueOptions } from './domain/enqueue-options.js'
import { InvalidArgumentError } from './domain/errors.js'
import { EventBus, type QueueEventListener, type QueueEventName } from './domain/events.js'
import type { JobRecord } from './domain/job.js'
import { isJobDefinition, type JobDefinition } from './domain/job-definition.js'
import type { JobRef } from './domain/job-ref.js'
import type { StorageHealth, StorageHealthOptions } from './domain/storage-health.js'
import { describe, validateName } from './domain/validation.js'
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
import { QueueLifecycle } from './queue-lifecycle.js'
import { Completer } from './runtime/completer.js'
import { type DrainStop, drainJobs } from './runtime/drain.js'
import { JobEnqueuer } from './runtime/enqueuer.js'
import type { ExecutorDeps } from './runtime/executor.js'
import { HandlerRegistry } from './runtime/handler-registry.js'
import type { IsolationHost } from './runtime/isolation/isolation-host.js'
import { JobManager } from './runtime/job-manager.js'
import { JobRunner } from './runtime/job-runner.js'
import { MiddlewareChain } from './runtime/middleware-chain.js'
import { emitOutcome } from './runtime/outcome-events.js'
import { performJob } from './runtime/perform-job.js'
import { ScheduleRegistrar } from './runtime/schedule-registrar.js'
import { StorageHealthMonitor } from './runtime/storage-health-monitor.js'

/** A queue as built by the core: the `Queue` port plus what adapters and tests build on. */
export interface CoreQueue extends Queue {
  /** The store this queue runs on. */
  readonly store: JobStore
  /**
   * This queue object's id in heartbeats, `attemptedBy` and `listProcesses()`: the `processId` option
   * followed by a suffix of this run's own, or a random id.
   */
  readonly processId: string
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
  readonly processId: string
  readonly #config: ResolvedConfig
  readonly #events = new EventBus()
  readonly #registry: HandlerRegistry
  readonly #executor: ExecutorDeps
  readonly #completer: Completer
  readonly #runner: JobRunner
  readonly #enqueuer: JobEnqueuer
  readonly #schedules: ScheduleRegistrar
  readonly #manager: JobManager
  readonly #health: StorageHealthMonitor
  readonly #lifecycle: QueueLifecycle

  constructor(store: JobStore, config: ResolvedConfig, isolation: IsolationHost | undefined) {
    this.store = store
    this.processId = config.processId
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
      abortHere: (ids) => this.#lifecycle.abortLocal(ids),
      definitionOf: (kind) => this.#registry.get(kind)?.definition,
    })
    this.#runner = new JobRunner({
      store,
      executor: this.#executor,
      events: this.#events,
      registry: this.#registry,
      completer: this.#completer,
      // A store that announces what completions free wakes the workers itself, where the job is.
      afterComplete:
        store.capabilities.announcesFreedJobs === true ? () => {} : () => this.#lifecycle.wakeAll(),
      middleware,
    })
    this.#lifecycle = new QueueLifecycle({
      store,
      clock: this.clock,
      config,
      events: this.#events,
      registry: this.#registry,
      runner: this.#runner,
      completer: this.#completer,
      isolation,
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
    if (isJobDefinition(job)) this.#lifecycle.assertServes(job.kind, job.defaults.queue)
    this.#registry.register(job, handler, options)
    if (this.#events.has('registered'))
      this.#events.emit('registered', { kind: job.kind, queue: job.defaults.queue, replaced })
    this.#lifecycle.wakeAll()
  }

  enqueue<P>(job: JobDefinition<P>, payload: P, options?: EnqueueOptions): Promise<EnqueueResult> {
    return this.#open('enqueue', () => this.#enqueuer.enqueue(job, payload, options))
  }

  enqueueMany<const T extends readonly unknown[]>(
    items: EnqueueManyItems<T>,
    options?: { tx?: TransactionHandle },
  ): Promise<EnqueueResult[]> {
    return this.#open('enqueueMany', () => this.#enqueuer.enqueueMany(items, options))
  }

  schedule<P>(
    expression: string,
    job: JobDefinition<P>,
    payload: P,
    options?: ScheduleOptions,
  ): Promise<ScheduleRecord> {
    return this.#open('schedule', () => this.#schedules.schedule(expression, job, payload, options))
  }

  unschedule(name: string): Promise<boolean> {
    return this.#open('unschedule', () => this.#schedules.unschedule(name))
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return this.#open('listSchedules', () => this.#schedules.listSchedules())
  }

  /** Runs `call`, or rejects with `LifecycleError` once shutdown has closed the store. */
  #open<T>(method: string, call: () => Promise<T>): Promise<T> {
    try {
      this.#lifecycle.assertOpen(method)
    } catch (error) {
      return Promise.reject(error)
    }
    return call()
  }

  // ---- running ----

  start(): Promise<void> {
    return this.#lifecycle.start()
  }

  shutdown(options?: ShutdownOptions): Promise<void> {
    return this.#lifecycle.shutdown(options)
  }

  async drain(options: DrainOptions = {}): Promise<DrainResult> {
    this.#lifecycle.assertOpen('drain')
    return this.#lifecycle.runDrain(async (stop, serving) => {
      const release = this.#lifecycle.useCancelFeed()
      try {
        return await this.#drainJobs(options, stop, serving)
      } finally {
        release()
      }
    })
  }

  #drainJobs(
    options: DrainOptions,
    stop: DrainStop,
    serving: (queues: readonly string[]) => void,
  ): Promise<DrainResult> {
    return drainJobs(
      {
        store: this.store,
        clock: this.clock,
        events: this.#events,
        registry: this.#registry,
        runner: this.#runner,
        ...this.#config.drain,
        stop,
        heartbeat: async (queues) => {
          // Shutdown waits for drains before it closes the store; this is a guard all the same.
          if (this.#lifecycle.closed) return
          // The drain is recorded as one more worker of this process while it runs (beside the
          // started workers, if any): orphan checks count its kinds as served in these queues.
          serving(queues)
          await this.store.recordHeartbeat({
            processId: this.#config.processId,
            now: storeNow(this.clock),
            kinds: this.#registry.kinds,
            workers: this.#lifecycle.recordedWorkers(),
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
    return this.#open('getJob', () => this.#manager.getJob(job))
  }

  listJobs(filter?: JobFilter, page?: { limit?: number; beforeId?: string }): Promise<JobRecord[]> {
    return this.#open('listJobs', () => this.#manager.listJobs(filter, page))
  }

  retryJobs(filter: JobFilter): Promise<number> {
    return this.#open('retryJobs', () => this.#manager.retryJobs(filter))
  }

  cancelJobs(filter: JobFilter): Promise<number> {
    return this.#open('cancelJobs', () => this.#manager.cancelJobs(filter))
  }

  deleteJobs(filter: JobFilter): Promise<number> {
    return this.#open('deleteJobs', () => this.#manager.deleteJobs(filter))
  }

  pauseJobs(filter: JobFilter): Promise<number> {
    return this.#open('pauseJobs', () => this.#manager.pauseJobs(filter))
  }

  resumeJobs(filter: JobFilter): Promise<number> {
    return this.#open('resumeJobs', () => this.#manager.resumeJobs(filter))
  }

  updateJob(job: JobRef, patch: JobPatch, options?: UpdateJobOptions): Promise<JobRecord> {
    return this.#open('updateJob', () => this.#manager.updateJob(job, patch, options))
  }

  jobDefinition(kind: string): JobDefinition<unknown> | undefined {
    return this.#registry.get(validateName(kind, 'jobDefinition(kind)'))?.definition
  }

  pauseQueue(queue: string): Promise<void> {
    return this.#open('pauseQueue', () => this.#manager.setPaused(queue, true))
  }

  resumeQueue(queue: string): Promise<void> {
    return this.#open('resumeQueue', () => this.#manager.setPaused(queue, false))
  }

  stats(): Promise<QueueStats[]> {
    return this.#open('stats', () => this.#manager.stats())
  }

  listProcesses(): Promise<ProcessRecord[]> {
    const liveWithinMs = this.#config.maintenance?.rescueAfterMs ?? DEFAULTS.maintenance.rescueAfterMs
    return this.#open('listProcesses', () =>
      this.store.listProcesses({ now: storeNow(this.clock), liveWithinMs }),
    )
  }

  storageHealth(options?: StorageHealthOptions): Promise<StorageHealth | null> {
    return this.#open('storageHealth', () => this.#health.storageHealth(options))
  }

  prune(options?: { olderThanMs?: number; batchSize?: number }): Promise<number> {
    return this.#open('prune', () => this.#manager.prune(options))
  }

  findOrphans(): Promise<OrphanReport> {
    return this.#open('findOrphans', () =>
      this.store.findOrphans({
        now: storeNow(this.clock),
        staleAfterMs: this.#config.drain.rescueAfterMs,
        // This queue's own kinds count in the queues of the workers it records: its started workers
        // and its drains running now (a process that only registers runs neither).
        registered: {
          queues: [...new Set(this.#lifecycle.recordedWorkers().flatMap((w) => w.queues))],
          kinds: this.#registry.kinds,
        },
      }),
    )
  }
}
