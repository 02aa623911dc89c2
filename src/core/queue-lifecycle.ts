/**
 * The running part of a queue: starts and stops its workers, maintenance and scheduler, and aborts
 * local runs of cancelled jobs. `createQueue` builds the roles; this class runs them.
 */
import type { ResolvedConfig, ResolvedWorker } from './config/resolve-config.js'
import { MAX_TIMER_MS } from './defaults.js'
import { JobCancelledError, LifecycleError } from './domain/errors.js'
import type { EventBus } from './domain/events.js'
import { validateOptionalInt, validateOptionsObject } from './domain/validation.js'
import { MaintenanceService } from './maintenance/maintenance-service.js'
import { ScheduleService } from './maintenance/schedule-service.js'
import { type Clock, storeNow } from './ports/clock.js'
import type { ShutdownOptions } from './ports/queue.js'
import type { JobStore, ProcessWorker } from './ports/store.js'
import type { Completer } from './runtime/completer.js'
import { DrainStop } from './runtime/drain.js'
import { awaitWithGrace } from './runtime/grace-period.js'
import type { HandlerRegistry } from './runtime/handler-registry.js'
import type { IsolationHost } from './runtime/isolation/isolation-host.js'
import type { JobRunner, RunMode } from './runtime/job-runner.js'
import { Worker } from './runtime/worker.js'

/** The error of a call to a queue whose shutdown closed its store (adapters use it for their own calls). */
export function shutDownError(method: string): LifecycleError {
  return new LifecycleError(
    `${method}(): this queue was shut down (its store is closed); create a new queue to use it again.`,
  )
}

/** The roles a queue's lifecycle starts, stops and wires together. */
export interface QueueLifecycleDeps {
  readonly store: JobStore
  readonly clock: Clock
  readonly config: ResolvedConfig
  readonly events: EventBus
  readonly registry: HandlerRegistry
  readonly runner: JobRunner
  readonly completer: Completer
  readonly isolation: IsolationHost | undefined
}

/** Starts a queue's workers, maintenance and scheduler once, and shuts them down once. */
export class QueueLifecycle {
  readonly #deps: QueueLifecycleDeps
  #workers: Worker[] = []
  #maintenance: MaintenanceService | null = null
  #cancelFeed: { users: number; unsubscribe: () => void } | null = null
  #scheduler: ScheduleService | null = null
  #unsubscribe: (() => void)[] = []
  #startPromise: Promise<void> | null = null
  #shutdownPromise: Promise<void> | null = null
  /** Set once shutdown closes the store: from then on the queue refuses every call that needs it. */
  #closed = false
  /** The queues the started workers serve, fixed when `start()` is called (null before). */
  #servedQueues: readonly string[] | null = null
  /** The started workers as recorded with heartbeats (kept through shutdown: they ran until then). */
  #workerRecords: readonly ProcessWorker[] = []
  /**
   * The drains running now (`runDrain`): shutdown stops and waits for them, and each that has
   * announced its queues is recorded as one more worker (`recordedWorkers`).
   */
  readonly #drains = new Set<{
    readonly stop: DrainStop
    done: Promise<unknown>
    queues: readonly string[] | null
  }>()

  constructor(deps: QueueLifecycleDeps) {
    this.#deps = deps
  }

  /** Whether this queue runs workers: started and not shut down. */
  get running(): boolean {
    return this.#startPromise !== null && this.#shutdownPromise === null
  }

  /** The queues this queue's workers serve, fixed at `start()` (null before it). */
  get servedQueues(): readonly string[] | null {
    return this.#servedQueues
  }

  /**
   * The workers this process records with its heartbeats, which orphan checks read as the (queue,
   * kind) pairs it serves: the started workers (from `start()` on, through shutdown), and one per
   * drain running now (its queues, capacity 1).
   */
  recordedWorkers(): readonly ProcessWorker[] {
    if (this.#drains.size === 0) return this.#workerRecords
    const drains = [...this.#drains].flatMap((d) =>
      d.queues === null ? [] : [{ queues: d.queues, capacity: 1, oversized: 'alone' as const }],
    )
    return [...this.#workerRecords, ...drains]
  }

  /**
   * Runs a drain that shutdown can stop (`DrainStop`) and waits for; refused with `LifecycleError`
   * once shutdown has begun (a drain started then would run jobs the shutdown does not wait for).
   * The drain calls `serving(queues)` once it knows its queues: from then until it ends, it is
   * recorded as a worker of those queues.
   */
  async runDrain<T>(
    drain: (stop: DrainStop, serving: (queues: readonly string[]) => void) => Promise<T>,
  ): Promise<T> {
    if (this.#shutdownPromise)
      throw new LifecycleError(
        'drain(): this queue is being shut down, so it starts no more jobs; drain before shutdown(), or create a new queue.',
      )
    const entry = {
      stop: new DrainStop(),
      done: Promise.resolve() as Promise<unknown>,
      queues: null as readonly string[] | null,
    }
    this.#drains.add(entry)
    try {
      const done = drain(entry.stop, (queues) => {
        entry.queues ??= queues
      })
      entry.done = done.catch(() => undefined)
      return await done
    } finally {
      this.#drains.delete(entry)
    }
  }

  /**
   * Stops the running drains: they start no more jobs; a job still running after `graceMs` (on the
   * clock) is aborted with `ShutdownAbortError`, so it is returned to the queue. Waits for them.
   */
  async #stopDrains(graceMs: number): Promise<void> {
    const drains = [...this.#drains]
    if (drains.length === 0) return
    for (const d of drains) d.stop.stop()
    await awaitWithGrace(
      this.#deps.clock,
      graceMs,
      () => Promise.all(drains.map((d) => d.done)),
      () => {
        for (const d of drains) d.stop.abort()
      },
    )
  }

  /**
   * Throws `LifecycleError` when this queue runs workers and none of them serves `queue`: the
   * workers are fixed at `start()`, so a handler registered afterwards for such a queue would never
   * run, while the heartbeat would announce its kind as served (hiding its jobs from orphan checks).
   */
  assertServes(kind: string, queue: string): void {
    const served = this.#servedQueues
    if (!this.running || served === null || served.includes(queue)) return
    throw new LifecycleError(
      `register(${JSON.stringify(kind)}): this queue's workers started without queue ${JSON.stringify(queue)} (they serve ${served.map((q) => JSON.stringify(q)).join(', ')}), so its jobs would never run here. Register handlers before start() (without the queues or workers option, a queue serves the queues of the kinds registered by then), or configure a worker for ${JSON.stringify(queue)}: queues: { ${queue}: { concurrency } } or workers: [{ queues: [${JSON.stringify(queue)}] }].`,
    )
  }

  /**
   * Throws `LifecycleError` once shutdown has closed the store (until then, e.g. while running jobs
   * finish, calls still work): a store that opened its own pool has ended it, and the database is not
   * to blame for a call to a queue that was shut down.
   */
  assertOpen(method: string): void {
    if (this.#closed) throw shutDownError(method)
  }

  /** True once shutdown has closed the store. */
  get closed(): boolean {
    return this.#closed
  }

  /** Starts workers, maintenance and the scheduler; a second call returns the first call's promise. */
  start(): Promise<void> {
    if (this.#shutdownPromise)
      return Promise.reject(new LifecycleError('This queue was shut down; create a new one to start again.'))
    this.#startPromise ??= this.#start()
    return this.#startPromise
  }

  async #start(): Promise<void> {
    const { config, store, clock, events, registry } = this.#deps
    const defaultQueues = [...new Set(['default', ...registry.all().map((r) => r.definition.defaults.queue)])]
    const workers = config.workers(defaultQueues)
    this.#servedQueues = [...new Set(workers.flatMap((w) => w.settings.queues))]
    // The store prepares what these workers' strategies need (Postgres: the `time` strategy's index).
    await store.ready({ strategies: [...new Set(workers.map((w) => w.settings.strategy))] })
    this.#workers = workers.map((w) => this.#createWorker(w))
    this.#workerRecords = this.#workers.map(({ settings: w }) => ({
      queues: w.queues,
      capacity: w.capacity,
      oversized: w.oversized,
    }))
    if (config.maintenance) {
      this.#maintenance = new MaintenanceService({
        store,
        clock,
        events,
        settings: config.maintenance,
        workers: () => this.recordedWorkers(),
        kinds: () => registry.kinds,
      })
      await this.#maintenance.start()
    }
    this.#unsubscribe.push(
      store.onJobsAvailable((queues) => {
        for (const w of this.#workers)
          if (queues.length === 0 || w.settings.queues.some((q) => queues.includes(q))) w.wake()
      }),
    )
    this.#unsubscribe.push(this.useCancelFeed())
    for (const w of this.#workers) w.start()
    if (config.scheduler) {
      this.#scheduler = new ScheduleService({ store, clock, events, settings: config.scheduler })
      this.#scheduler.start()
    }
  }

  #createWorker({ settings, transactional, isolation }: ResolvedWorker): Worker {
    const { store, clock, events, registry, runner } = this.#deps
    const mode: RunMode = { batched: true, transactional, isolation }
    return new Worker(settings, {
      clock,
      claim: async (p) => {
        const kinds = registry.kinds
        if (kinds.length === 0) return []
        const jobs = await store.claimJobs({ ...p, kinds, now: storeNow(clock), resume: true })
        if (jobs.length > 0 && events.has('claimed')) events.emit('claimed', { jobs, workerId: p.workerId })
        return jobs
      },
      run: (job, abort, bufferWaitMs) => runner.run(job, abort, mode, bufferWaitMs),
      release: async (jobs) => {
        if (jobs.length === 0) return
        await store.completeJobs({
          completions: jobs.map((j) => ({ id: j.id, outcome: 'released' as const, attempt: j.attempt })),
          now: storeNow(clock),
        })
      },
      onError: (error, during) => events.emit('error', { error, during }),
    })
  }

  /** Wakes every worker (a handler was registered, or a completion may have freed a job). */
  wakeAll(): void {
    for (const w of this.#workers) w.wake()
  }

  /**
   * Stops everything (workers, running drains, maintenance, the scheduler), waiting up to the grace
   * period for running jobs; a second call returns the first's promise.
   */
  shutdown(options: ShutdownOptions = {}): Promise<void> {
    if (this.#shutdownPromise) return this.#shutdownPromise
    const { config, completer, isolation, store } = this.#deps
    let grace: number
    try {
      grace =
        validateOptionalInt(
          validateOptionsObject(options, 'shutdown options', ['graceMs']).graceMs,
          'graceMs',
          0,
          MAX_TIMER_MS,
        ) ?? config.shutdownGraceMs
    } catch (error) {
      return Promise.reject(error)
    }
    // Drains stop starting jobs now, not once a start() in progress has settled.
    for (const d of this.#drains) d.stop.stop()
    this.#shutdownPromise = (async () => {
      await this.#startPromise?.catch(() => undefined)
      for (const u of this.#unsubscribe) u()
      this.#unsubscribe = []
      await Promise.all([
        this.#scheduler?.stop(),
        this.#maintenance?.stop(),
        ...this.#workers.map((w) => w.stop(grace)),
        this.#stopDrains(grace),
      ])
      await completer.idle()
      await isolation?.close()
      this.#closed = true
      await store.close()
    })()
    return this.#shutdownPromise
  }

  /**
   * Aborts local runs of cancelled jobs; subscribes to the store's feed while anyone needs it.
   * Returns the release function (safe to call twice).
   */
  useCancelFeed(): () => void {
    if (!this.#cancelFeed) {
      const unsubscribe = this.#deps.store.onJobsCancelled((ids) => this.abortLocal(ids))
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

  /** Drops buffered claims of `ids` and aborts their local runs. */
  abortLocal(ids: readonly string[]): void {
    if (ids.length === 0) return
    const set = new Set(ids)
    for (const w of this.#workers) w.dropBuffered(set)
    for (const id of ids)
      this.#deps.runner.localRuns.get(id)?.abort(new JobCancelledError('cancelled by an operator'))
  }
}
