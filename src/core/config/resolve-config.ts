/**
 * Resolving `QueueOptions` once: validated, defaults applied, and cut into one settings slice per
 * role (executor, workers, scheduler, maintenance, drain, shutdown), so each role receives only what
 * it uses and nothing downstream validates or defaults an option again.
 */
import { randomUUID } from 'node:crypto'
import { AUTO_PREFETCH, DEFAULTS } from '../defaults.js'
import { resolveBackoff } from '../domain/backoff.js'
import { InvalidArgumentError } from '../domain/errors.js'
import type { MaintenanceSettings } from '../maintenance/maintenance-service.js'
import type { ScheduleServiceSettings } from '../maintenance/schedule-service.js'
import { type Clock, createSystemClock } from '../ports/clock.js'
import { silentLogger } from '../ports/logger.js'
import type { Middleware } from '../ports/middleware.js'
import type { PollStrategy } from '../ports/store.js'
import type { ExecutorSettings } from '../runtime/executor.js'
import type { StorageHealthSettings } from '../runtime/storage-health-monitor.js'
import type { WorkerSettings } from '../runtime/worker.js'
import { type QueueOptions, validateQueueOptions, type WorkerOptions } from './queue-options.js'

/** A worker's settings and whether it runs jobs in their own transactions. */
export interface ResolvedWorker {
  readonly settings: WorkerSettings
  readonly transactional: boolean
  /** Where this worker runs the kinds registered as modules without their own isolation. */
  readonly isolation: 'thread' | 'process' | null
}

/** What `drain` runs with. */
export interface DrainSettings {
  readonly strategy: PollStrategy
  readonly workerId: string
  readonly missedToleranceMs: number
  readonly heartbeatIntervalMs: number
  /** A process silent this long no longer serves its kinds (orphan reports after a drain). */
  readonly rescueAfterMs: number
}

/** The queue options, resolved: one slice per role. */
export interface ResolvedConfig {
  readonly clock: Clock
  /** Identifies this process in worker ids, `attemptedBy` and heartbeats. */
  readonly processId: string
  readonly executor: ExecutorSettings
  /** Hooks around enqueue calls and runs, outermost first. */
  readonly middleware: readonly Middleware[]
  /** Default grace period of `shutdown`. */
  readonly shutdownGraceMs: number
  /** The schedule service's settings; null when `scheduler.enabled` is false. */
  readonly scheduler: ScheduleServiceSettings | null
  /** The maintenance loop's settings; null when `maintenance.enabled` is false. */
  readonly maintenance: MaintenanceSettings | null
  readonly drain: DrainSettings
  /** Thresholds and cache of `storageHealth()`. */
  readonly storageHealth: StorageHealthSettings
  /**
   * The workers to run: `options.workers`, else one per entry of `options.queues`, else one worker
   * named `default` over `defaultQueues` (the queues of the registered kinds, known at start).
   */
  workers(defaultQueues: readonly string[]): ResolvedWorker[]
}

/** Defaults an adapter sets for options the user left out. */
export interface AdapterDefaults {
  /** Makes the clock when none is given (default: the system clock). */
  readonly clock?: () => Clock
  /** `prefetch` when none is given (default 0). */
  readonly prefetch?: number | 'auto'
}

/**
 * This queue object's process id. Crash rescue tells runs apart by it: a run that reused its crashed
 * predecessor's id would keep that run's running jobs looking alive. So the `processId` option is a
 * readable prefix and each queue object adds a random suffix, drawn from the `random` option when one
 * is given (a test that fixes it gets the same ids on every run, and the admin screenshots with them).
 */
function runProcessId(name: string | undefined, random: (() => number) | undefined): string {
  if (name === undefined) return randomUUID().slice(0, 8)
  const suffix =
    random === undefined
      ? randomUUID().slice(0, 6)
      : Math.floor(random() * 0x1000000)
          .toString(16)
          .padStart(6, '0')
          .slice(-6)
  return `${name}-${suffix}`
}

/**
 * Validates `options` (throwing `InvalidArgumentError` naming the field; `extraKeys` are the
 * adapter's own options) and resolves them with `DEFAULTS` and the adapter's defaults.
 */
export function resolveConfig(
  input: unknown,
  adapter: AdapterDefaults & { readonly extraKeys?: readonly string[] } = {},
): ResolvedConfig {
  const options = validateQueueOptions(input, adapter.extraKeys)
  const processId = runProcessId(options.processId, options.random)
  const m = options.maintenance ?? {}
  const dm = DEFAULTS.maintenance
  const maintenance: MaintenanceSettings = {
    processId,
    heartbeatIntervalMs: m.heartbeatIntervalMs ?? dm.heartbeatIntervalMs,
    rescueAfterMs: m.rescueAfterMs ?? dm.rescueAfterMs,
    rescueIntervalMs: m.rescueIntervalMs ?? dm.rescueIntervalMs,
    timeoutRescueMarginMs: timeoutRescueMargin(m.timeoutRescueMarginMs, options.maxBufferWaitMs),
    retentionMs: m.retentionMs === null ? null : (m.retentionMs ?? dm.retentionMs),
    pruneIntervalMs: m.pruneIntervalMs ?? dm.pruneIntervalMs,
    batchSize: dm.batchSize,
    orphans: {
      intervalMs: options.orphans?.intervalMs ?? DEFAULTS.orphans.intervalMs,
      failAfterMs: options.orphans?.failAfterMs ?? DEFAULTS.orphans.failAfterMs,
    },
  }
  const s = options.scheduler ?? {}
  const health = options.storageHealth ?? {}
  const missedToleranceMs = s.missedToleranceMs ?? DEFAULTS.scheduler.missedToleranceMs
  const strategy = options.strategy ?? DEFAULTS.worker.strategy
  const prefetch = options.prefetch ?? adapter.prefetch ?? DEFAULTS.worker.prefetch
  return {
    clock: options.clock ?? adapter.clock?.() ?? createSystemClock(),
    processId,
    executor: {
      random: options.random ?? Math.random,
      logger: options.logger ?? silentLogger,
      defaultBackoff: resolveBackoff(options.backoff, DEFAULTS.job.backoff),
    },
    middleware: options.middleware ?? [],
    shutdownGraceMs: options.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs,
    scheduler:
      s.enabled === false
        ? null
        : { intervalMs: s.intervalMs ?? DEFAULTS.scheduler.intervalMs, missedToleranceMs },
    maintenance: m.enabled === false ? null : maintenance,
    drain: {
      strategy,
      workerId: `${processId}:drain`,
      missedToleranceMs,
      heartbeatIntervalMs: maintenance.heartbeatIntervalMs,
      rescueAfterMs: maintenance.rescueAfterMs,
    },
    storageHealth: {
      horizonWarnAfterMs: health.horizonWarnAfterMs ?? DEFAULTS.storageHealth.horizonWarnAfterMs,
      deadTuplesWarnAt: health.deadTuplesWarnAt ?? DEFAULTS.storageHealth.deadTuplesWarnAt,
      cacheMs: health.cacheMs ?? DEFAULTS.storageHealth.cacheMs,
    },
    workers: (defaultQueues) => resolveWorkers(options, processId, strategy, prefetch, defaultQueues),
  }
}

/** The workers' settings, from options already validated. */
function resolveWorkers(
  options: QueueOptions,
  processId: string,
  strategy: PollStrategy,
  prefetch: number | 'auto',
  defaultQueues: readonly string[],
): ResolvedWorker[] {
  const configs: readonly WorkerOptions[] =
    options.workers ??
    (options.queues
      ? Object.entries(options.queues).map(([queue, q]) => ({
          name: queue,
          queues: [queue],
          concurrency: q.concurrency,
          strategy: q.strategy,
        }))
      : [{ name: DEFAULTS.worker.name, queues: defaultQueues }])
  return configs.map((c) => ({
    settings: {
      id: `${processId}:${c.name ?? c.queues.join('+')}`,
      queues: c.queues,
      capacity: c.concurrency ?? DEFAULTS.worker.concurrency,
      oversized: c.oversized ?? options.oversized ?? 'alone',
      strategy: c.strategy ?? strategy,
      pollIntervalMs: c.pollIntervalMs ?? options.pollIntervalMs ?? DEFAULTS.worker.pollIntervalMs,
      ...prefetchBounds(c.prefetch ?? prefetch),
      maxBufferWaitMs: options.maxBufferWaitMs ?? DEFAULTS.worker.maxBufferWaitMs,
    },
    transactional: c.transactional === true,
    isolation: c.isolation ?? null,
  }))
}

/** A worker's buffer bounds: fixed (`prefetch` = `prefetchMax`), or the `'auto'` range. */
function prefetchBounds(value: number | 'auto'): { prefetch: number; prefetchMax: number } {
  if (value === 'auto') return { prefetch: AUTO_PREFETCH.base, prefetchMax: AUTO_PREFETCH.max }
  return { prefetch: value, prefetchMax: value }
}

/**
 * The timeout rescue's margin: it counts from the claim, and a job may wait up to `maxBufferWaitMs`
 * in a prefetching worker's buffer before its handler (and its timeout) starts, so a smaller margin
 * could rescue, and run again, a job its live worker is still running within its timeout. An
 * explicit smaller margin is refused; the default grows to the buffer wait.
 */
function timeoutRescueMargin(
  margin: number | null | undefined,
  bufferWait: number | undefined,
): number | null {
  if (margin === null) return null
  const wait = bufferWait ?? DEFAULTS.worker.maxBufferWaitMs
  if (margin === undefined) return Math.max(DEFAULTS.maintenance.timeoutRescueMarginMs, wait)
  if (margin < wait) {
    throw new InvalidArgumentError(
      `maintenance.timeoutRescueMarginMs (${margin}) must be at least maxBufferWaitMs (${wait}): the timeout rescue counts from the claim, and a job may wait that long in a worker's local buffer before its handler starts. Raise the margin, lower maxBufferWaitMs, or pass null to rescue on heartbeat silence only.`,
    )
  }
  return margin
}
