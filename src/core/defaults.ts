/**
 * Every default of the core in one place: what an option, a job definition or a call falls back to
 * when it sets none. A leaf module (it imports nothing), so every role may read it.
 */

/** The longest delay a host timer holds (2^31 - 1 ms, about 24.8 days): the bound of every `...Ms` option. */
export const MAX_TIMER_MS = 2_147_483_647

const DAY_MS = 24 * 3600_000

/** The defaults, frozen at every level. */
export const DEFAULTS = Object.freeze({
  /** Defaults of `defineJob` for a kind that sets none. */
  job: Object.freeze({
    queue: 'default',
    priority: 0,
    maxAttempts: 25,
    /** 0: no timeout. */
    timeoutMs: 0,
    /** Capacity a running job takes from its worker. */
    weight: 1,
    /** The retry policy: exponential from `baseMs`, capped at `maxMs`, with +/- `jitter`. */
    backoff: Object.freeze({ baseMs: 1000, factor: 2, maxMs: 3_600_000, jitter: 0.1 }),
  }),
  /** Defaults of one worker (`QueueOptions.workers[i]`, or the queue-wide options they fall back to). */
  worker: Object.freeze({
    /** Name of the worker a queue runs when `workers` and `queues` are not given. */
    name: 'default',
    concurrency: 10,
    strategy: 'priority' as const,
    pollIntervalMs: 1000,
    /** Without `prefetch`, a worker buffers nothing (adapters may choose another default). */
    prefetch: 0,
    maxBufferWaitMs: 5000,
  }),
  /** The range of `prefetch: 'auto'`: the base keeps the buffer modest when there is no backlog. */
  autoPrefetch: Object.freeze({ base: 100, max: 1600 }),
  /** Grace period of `shutdown`. */
  shutdownGraceMs: 10_000,
  /** Isolated handlers (`register(job, module, { isolation })`). */
  isolation: Object.freeze({
    /** How long an aborted isolated handler may go on, its `ctx.signal` aborted, before its runner is terminated. */
    abortGraceMs: 1000,
  }),
  /** The schedule service. */
  scheduler: Object.freeze({ intervalMs: 1000, missedToleranceMs: 60_000 }),
  /** Heartbeats, rescue and pruning. */
  maintenance: Object.freeze({
    heartbeatIntervalMs: 2000,
    rescueAfterMs: 15_000,
    rescueIntervalMs: 5000,
    /** A job still running this long past its timeout is rescued (failover at max execution time). */
    timeoutRescueMarginMs: 60_000,
    /** Finished jobs are kept this long (also the default of `prune()`'s `olderThanMs`). */
    retentionMs: 7 * DAY_MS,
    pruneIntervalMs: 60_000,
    /** Rows per rescue or prune statement (also the default of `prune()`'s `batchSize`). */
    batchSize: 1000,
  }),
  /**
   * `storageHealth()`: the `heldHorizon` warning fires when something has held the xmin horizon for
   * `horizonWarnAfterMs` while a table of the queue has `deadTuplesWarnAt` dead row versions; a
   * reading is reused for `cacheMs`.
   */
  storageHealth: Object.freeze({ horizonWarnAfterMs: 30_000, deadTuplesWarnAt: 10_000, cacheMs: 5000 }),
  /** Orphan checks: how often, and never failing orphans unless asked. */
  orphans: Object.freeze({ intervalMs: 30_000, failAfterMs: null }),
  /** Page size of `listJobs`. */
  listJobsLimit: 100,
  /** The completer: most completions per write, and writes in flight at once. */
  completer: Object.freeze({ maxBatch: 1000, maxInFlight: 2 }),
})

/** Concurrency of a worker that sets none. */
export const DEFAULT_CONCURRENCY = DEFAULTS.worker.concurrency

/**
 * The range of `prefetch: 'auto'`. The base keeps the buffer modest whenever there is no backlog;
 * the maximum is reached only while fast jobs drain a backlog faster than claims of the base size
 * refill it (measured in BENCHMARKS.md).
 */
export const AUTO_PREFETCH = DEFAULTS.autoPrefetch
