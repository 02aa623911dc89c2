/**
 * Prometheus metrics of a queue with `prom-client`, on a registry the application passes in (never
 * the global one). Counters and histograms follow the queue's typed events; the gauges of jobs by
 * queue and state are computed at scrape time from one `queue.stats()` call, and the storage gauges
 * (dead tuples, sizes, the oldest transaction holding the xmin horizon) from one
 * `queue.storageHealth()` call. Labels are queue, kind, state, outcome, table or rule only, never a
 * job id, so the number of series stays small.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { InvalidArgumentError } from '../core/domain/errors.js'
import { JOB_STATES } from '../core/domain/job.js'
import type { Clock } from '../core/ports/clock.js'
import type { Queue } from '../core/ports/queue.js'
import type { OrphanReport, QueueStats } from '../core/ports/store.js'
import { registerStorageGauges } from './storage-metrics.js'

/** Options of `createMetrics`. */
export interface MetricsOptions {
  /**
   * The queue to measure: its events feed the counters, its `stats()` the gauges (its
   * `findOrphans()`, when it has one, the orphan gauges), and its `clock`
   * (every queue has one; the database's on Postgres) times the lag at the handler's start (without
   * one, lag ends at the claim).
   */
  readonly queue: Pick<Queue, 'on' | 'stats'> &
    Partial<Pick<Queue, 'findOrphans'>> & {
      readonly clock?: Pick<Clock, 'now'>
      /**
       * With it (every Conveyor queue has it), the storage gauges are read at scrape time from one call;
       * a queue whose store cannot read its health (memory) answers null and they have no series.
       */
      readonly storageHealth?: Queue['storageHealth']
    }
  /** Where the metrics are registered: the application's own `new Registry()`. */
  readonly registry: Registry
  /** Prefix of every metric name (default `conveyor_`). */
  readonly prefix?: string
  /** Buckets of the run duration histogram, in seconds. */
  readonly durationBuckets?: readonly number[]
  /** Buckets of the queue lag histogram (start time minus due time), in seconds. */
  readonly lagBuckets?: readonly number[]
}

/** The metrics of one queue, registered until `close()`. */
export interface QueueMetrics {
  /** The registry they are registered on. */
  readonly registry: Registry
  /** Stops following the queue and removes these metrics from the registry. */
  close(): void
}

/** A `/metrics` response: serve `body` with the `Content-Type` header set to `contentType`. */
export interface MetricsResponse {
  readonly contentType: string
  readonly body: string
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]
const LAG_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600]

/** Counters by queue and kind, fed by the event of the same name. */
const COUNTED = {
  enqueued: 'Jobs stored by enqueue, enqueueMany or a schedule (duplicates of a unique key not counted).',
  started: 'Attempts started.',
  succeeded: 'Attempts that succeeded (the job is done).',
  failed: 'Attempts that failed, whether or not they will be retried.',
  retried: 'Failed attempts that will be retried.',
  discarded: 'Jobs that failed for good (attempts exhausted or failed permanently).',
  cancelled: 'Jobs cancelled by their handler or an operator.',
  snoozed: 'Attempts that snoozed the job.',
  rescued: 'Running jobs returned to the queue because their worker process stopped heartbeating.',
} as const

type CountedEvent = keyof typeof COUNTED

/**
 * Registers Conveyor's metrics for `queue` on `registry` and keeps them up to date; one call per
 * registry and prefix. Serve them with `metricsHandler(registry)`.
 */
export function createMetrics(options: MetricsOptions): QueueMetrics {
  const { queue, registry } = options ?? ({} as MetricsOptions)
  if (typeof queue?.on !== 'function' || typeof queue?.stats !== 'function')
    throw new InvalidArgumentError('createMetrics needs { queue }: a queue with on() and stats().')
  if (typeof registry?.registerMetric !== 'function')
    throw new InvalidArgumentError(
      'createMetrics needs { registry }: a prom-client Registry (new Registry()).',
    )
  const prefix = options.prefix ?? 'conveyor_'
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix))
    throw new InvalidArgumentError(
      `prefix must be a valid metric name prefix; got ${JSON.stringify(prefix)}.`,
    )
  if (registry.getSingleMetric(`${prefix}jobs_started_total`))
    throw new InvalidArgumentError(
      `This registry already has Conveyor metrics with prefix "${prefix}": call createMetrics once per registry, or pass another prefix.`,
    )
  const registers = [registry]
  const names: string[] = []
  const named = <T extends { name: string }>(config: T): T => {
    names.push(config.name)
    return config
  }

  const counters = {} as Record<CountedEvent, (queue: string, kind: string) => void>
  for (const event of Object.keys(COUNTED) as CountedEvent[]) {
    const counter = new Counter(
      named({
        name: `${prefix}jobs_${event}_total`,
        help: COUNTED[event],
        labelNames: ['queue', 'kind'] as const,
        registers,
      }),
    )
    counters[event] = cached(
      (q, k) => counter.labels(q, k),
      (child) => child.inc(),
    )
  }
  const errors = new Counter(
    named({
      name: `${prefix}errors_total`,
      help: 'Background errors, by what the queue was doing.',
      labelNames: ['during'] as const,
      registers,
    }),
  )
  const duration = new Histogram(
    named({
      name: `${prefix}job_duration_seconds`,
      help: 'Run time of attempts that succeeded or failed.',
      labelNames: ['queue', 'kind', 'outcome'] as const,
      buckets: [...(options.durationBuckets ?? DURATION_BUCKETS)],
      registers,
    }),
  )
  const lag = new Histogram(
    named({
      name: `${prefix}job_lag_seconds`,
      help: 'How long jobs waited past their due time before an attempt started.',
      labelNames: ['queue', 'kind'] as const,
      buckets: [...(options.lagBuckets ?? LAG_BUCKETS)],
      registers,
    }),
  )
  const observeSucceeded = cached(
    (q, k) => duration.labels(q, k, 'succeeded'),
    (child, seconds: number) => child.observe(seconds),
  )
  const observeFailed = cached(
    (q, k) => duration.labels(q, k, 'failed'),
    (child, seconds: number) => child.observe(seconds),
  )
  const observeLag = cached(
    (q, k) => lag.labels(q, k),
    (child, seconds: number) => child.observe(seconds),
  )

  // Both gauges are collected at once by a scrape: they share one `stats()` call.
  let pending: Promise<QueueStats[] | null> | null = null
  const stats = () => {
    // A failed read leaves the gauges empty for this scrape (rather than failing the whole scrape).
    pending ??= queue.stats().catch(() => {
      errors.inc({ during: 'metrics stats' })
      return null
    })
    const current = pending
    void current.then(() => {
      if (pending === current) pending = null
    })
    return current
  }
  new Gauge(
    named({
      name: `${prefix}jobs`,
      help: 'Jobs by queue and state, read at scrape time.',
      labelNames: ['queue', 'state'] as const,
      registers,
      async collect() {
        const all = await stats()
        this.reset()
        for (const s of all ?? [])
          for (const state of JOB_STATES) this.labels(s.queue, state).set(s.counts[state] ?? 0)
      },
    }),
  )
  new Gauge(
    named({
      name: `${prefix}queue_paused`,
      help: '1 when the queue is paused, read at scrape time.',
      labelNames: ['queue'] as const,
      registers,
      async collect() {
        const all = await stats()
        this.reset()
        for (const s of all ?? []) this.labels(s.queue).set(s.paused ? 1 : 0)
      },
    }),
  )

  if (typeof queue.storageHealth === 'function') {
    const read = queue.storageHealth.bind(queue)
    registerStorageGauges(prefix, registers, named, () =>
      read().catch(() => {
        errors.inc({ during: 'metrics storage health' })
        return null
      }),
    )
  }

  const pruned = new Counter(
    named({
      name: `${prefix}jobs_pruned_total`,
      help: 'Finished jobs deleted past their retention (by the maintenance loop or prune()).',
      registers,
    }),
  )
  const findOrphans = queue.findOrphans?.bind(queue)
  if (findOrphans) {
    // Both orphan gauges are collected at once by a scrape: they share one `findOrphans()` call.
    let pendingOrphans: Promise<OrphanReport | null> | null = null
    const orphans = () => {
      pendingOrphans ??= findOrphans().catch(() => {
        errors.inc({ during: 'metrics orphans' })
        return null
      })
      const current = pendingOrphans
      void current.then(() => {
        if (pendingOrphans === current) pendingOrphans = null
      })
      return current
    }
    new Gauge(
      named({
        name: `${prefix}orphaned_jobs`,
        help: 'Due waiting jobs of a queue and kind no live process serves (they wait forever), read at scrape time.',
        labelNames: ['queue', 'kind'] as const,
        registers,
        async collect() {
          const report = await orphans()
          this.reset()
          for (const g of report?.jobs ?? []) this.labels(g.queue, g.kind).set(g.count)
        },
      }),
    )
    new Gauge(
      named({
        name: `${prefix}orphaned_schedules`,
        help: 'Schedules with ticks to come whose queue and kind no live process serves, read at scrape time.',
        labelNames: ['queue', 'kind'] as const,
        registers,
        async collect() {
          const report = await orphans()
          this.reset()
          // One series per (queue, kind) pair, as `orphaned_jobs`: the pair is what no process serves.
          for (const s of report?.schedules ?? []) this.inc({ queue: s.jobTemplate.queue, kind: s.kind })
        },
      }),
    )
  }

  const clock = queue.clock
  const unsubscribe = [
    queue.on('enqueued', ({ job, duplicate }) => {
      if (!duplicate) counters.enqueued(job.queue, job.kind)
    }),
    queue.on('scheduled', ({ job }) => counters.enqueued(job.queue, job.kind)),
    queue.on('started', ({ job }) => {
      counters.started(job.queue, job.kind)
      // Lag runs from the due time to the handler's start (this event), including the wait in the
      // local claim buffer, on the queue's clock.
      const startedAt = clock?.now() ?? job.attemptedAt
      if (startedAt !== null) observeLag(job.queue, job.kind, Math.max(0, startedAt - job.runAt) / 1000)
    }),
    queue.on('succeeded', ({ job, durationMs }) => {
      counters.succeeded(job.queue, job.kind)
      observeSucceeded(job.queue, job.kind, durationMs / 1000)
    }),
    queue.on('failed', ({ job, durationMs }) => {
      counters.failed(job.queue, job.kind)
      observeFailed(job.queue, job.kind, durationMs / 1000)
    }),
    queue.on('retried', ({ job }) => counters.retried(job.queue, job.kind)),
    queue.on('discarded', ({ job }) => counters.discarded(job.queue, job.kind)),
    queue.on('cancelled', ({ job }) => counters.cancelled(job.queue, job.kind)),
    queue.on('snoozed', ({ job }) => counters.snoozed(job.queue, job.kind)),
    queue.on('rescued', ({ job }) => counters.rescued(job.queue, job.kind)),
    queue.on('pruned', ({ count }) => pruned.inc(count)),
    queue.on('error', ({ during }) => errors.inc({ during })),
  ]
  let closed = false
  return {
    registry,
    close() {
      if (closed) return
      closed = true
      for (const off of unsubscribe) off()
      for (const name of names) registry.removeSingleMetric(name)
    },
  }
}

/** Returns the function that renders `registry` for a `/metrics` route (see `MetricsResponse`). */
export function metricsHandler(registry: Registry): () => Promise<MetricsResponse> {
  if (typeof registry?.metrics !== 'function')
    throw new InvalidArgumentError('metricsHandler needs a prom-client Registry.')
  return async () => ({ contentType: registry.contentType, body: await registry.metrics() })
}

/**
 * Wraps `use` so that the labelled child of each (queue, kind) is made once: events then cost a
 * map lookup instead of prom-client's label validation on every call.
 */
function cached<C, A extends unknown[]>(
  child: (queue: string, kind: string) => C,
  use: (child: C, ...args: A) => void,
): (queue: string, kind: string, ...args: A) => void {
  const children = new Map<string, C>()
  return (queue, kind, ...args) => {
    const key = `${queue}\u0000${kind}`
    let c = children.get(key)
    if (c === undefined) {
      c = child(queue, kind)
      children.set(key, c)
    }
    use(c, ...args)
  }
}
