/**
 * Metrics cases, run on every adapter: counters and histograms from the queue's events, gauges of
 * jobs by queue and state from one `stats()` call per scrape, and the `/metrics` handler.
 */
import { Registry } from 'prom-client'
import { expect, it, vi } from 'vitest'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { createMetrics, metricsHandler } from '../../src/instrumentation/index.js'
import { waitFor } from '../support/wait.js'
import { buildReport, drainAll, type MakeQueue, sendEmail } from './harness.js'

/** The value of one series of a metric (0 when the series does not exist). */
export async function seriesValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = registry.getSingleMetric(name)
  if (!metric) throw new Error(`no metric ${name}`)
  const { values } = await metric.get()
  const match = values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
  return match?.value ?? 0
}

/** The series of a histogram, each with its full name (`..._bucket`, `..._sum`, `..._count`). */
export async function histogramSeries(
  registry: Registry,
  name: string,
): Promise<{ metricName?: string; labels: Record<string, string | number>; value: number }[]> {
  const metric = registry.getSingleMetric(name)
  if (!metric) throw new Error(`no metric ${name}`)
  return (await metric.get()).values as {
    metricName?: string
    labels: Record<string, string | number>
    value: number
  }[]
}

/** Registers the metrics cases; `make` builds queues on the adapter under test. */
export function metricsCases(make: MakeQueue): void {
  it('counts jobs by queue and kind through their lifecycle', async () => {
    const queue = make()
    const registry = new Registry()
    createMetrics({ queue, registry })
    let calls = 0
    queue.register(sendEmail, async () => {
      if (++calls === 1) throw new Error('flaky')
    })
    queue.register(buildReport, async () => {
      throw new Error('boom')
    })
    await queue.enqueueMany([
      { job: sendEmail, payload: { to: 'a@example.com' } },
      { job: sendEmail, payload: { to: 'b@example.com' } },
    ])
    await queue.enqueue(buildReport, { id: 1 })
    await queue.enqueue(buildReport, { id: 2 }, { uniqueKey: 'r2' })
    await queue.enqueue(buildReport, { id: 2 }, { uniqueKey: 'r2' }) // a duplicate: not counted
    await drainAll(queue)
    const count = (event: string, kind: string, q: string) =>
      seriesValue(registry, `conveyor_jobs_${event}_total`, { queue: q, kind })
    const email = async (event: string) => count(event, 'send-email', 'emails')
    const report = async (event: string) => count(event, 'build-report', 'reports')
    expect(await email('enqueued')).toBe(2)
    expect(await email('started')).toBe(3)
    expect(await email('succeeded')).toBe(2)
    expect(await email('failed')).toBe(1)
    expect(await email('retried')).toBe(1)
    expect(await email('discarded')).toBe(0)
    expect(await report('enqueued')).toBe(2)
    expect(await report('failed')).toBe(2)
    expect(await report('discarded')).toBe(2)
    expect(await report('retried')).toBe(0)
    const duration = await histogramSeries(registry, 'conveyor_job_duration_seconds')
    const durationCount = (outcome: string) =>
      duration.find(
        (v) =>
          v.metricName === 'conveyor_job_duration_seconds_count' &&
          v.labels.kind === 'send-email' &&
          v.labels.outcome === outcome,
      )?.value
    expect(durationCount('succeeded')).toBe(2)
    expect(durationCount('failed')).toBe(1)
    const lag = await histogramSeries(registry, 'conveyor_job_lag_seconds')
    const lagCounts = lag.filter((v) => v.metricName === 'conveyor_job_lag_seconds_count')
    expect(lagCounts.reduce((sum, v) => sum + v.value, 0)).toBe(5)
  })

  it('counts cancellations, snoozes and background errors', async () => {
    const queue = make()
    const registry = new Registry()
    createMetrics({ queue, registry, prefix: 'app_' })
    queue.register(sendEmail, async ({ to }, ctx) => {
      if (to === 'cancel') return ctx.cancel('no longer wanted')
      if (ctx.attempt === 1 && !ctx.state) return ctx.snooze(0, { state: 'snoozed' })
    })
    await queue.enqueue(sendEmail, { to: 'cancel' })
    await queue.enqueue(sendEmail, { to: 'snooze' })
    queue.on('started', () => {
      throw new Error('a listener broke')
    })
    await drainAll(queue)
    const labels = { queue: 'emails', kind: 'send-email' }
    expect(await seriesValue(registry, 'app_jobs_cancelled_total', labels)).toBe(1)
    expect(await seriesValue(registry, 'app_jobs_snoozed_total', labels)).toBe(1)
    expect(await seriesValue(registry, 'app_errors_total', { during: 'started listener' })).toBe(3)
  })

  it('computes the gauges of jobs by queue and state with one stats() call per scrape', async () => {
    const queue = make()
    const registry = new Registry()
    const stats = vi.fn(() => queue.stats())
    createMetrics({ queue: { on: queue.on.bind(queue), stats }, registry })
    queue.register(sendEmail, async () => {})
    await queue.enqueue(sendEmail, { to: 'a@example.com' })
    await queue.enqueue(sendEmail, { to: 'b@example.com' }, { delayMs: 3_600_000 })
    const held = await queue.enqueue(sendEmail, { to: 'c@example.com' })
    await queue.pauseJobs({ ids: [held.id] })
    await queue.drain()
    await queue.pauseQueue('reports')
    const { contentType, body } = await metricsHandler(registry)()
    expect(stats).toHaveBeenCalledTimes(1)
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(body).toContain('conveyor_jobs{queue="emails",state="succeeded"} 1')
    expect(body).toContain('conveyor_jobs{queue="emails",state="scheduled"} 1')
    expect(body).toContain('conveyor_jobs{queue="emails",state="failed"} 0')
    expect(body).toContain('conveyor_jobs{queue="emails",state="paused"} 1')
    expect(body).toContain('conveyor_queue_paused{queue="reports"} 1')
    expect(body).toContain('conveyor_queue_paused{queue="emails"} 0')
    expect(body).toContain('# TYPE conveyor_job_duration_seconds histogram')
    await registry.metrics()
    expect(stats).toHaveBeenCalledTimes(2)
  })

  it('gauges orphaned jobs and orphaned schedules by queue and kind, with one findOrphans() per scrape', async () => {
    // Kinds of their own: a drain in an earlier case recorded a heartbeat with the shared kinds.
    const unsent = defineJob<{ to: string }>({ kind: 'orphan-email', queue: 'emails' })
    const unbuilt = defineJob<{ id: number }>({ kind: 'orphan-report', queue: 'reports' })
    const queue = make()
    const registry = new Registry()
    const findOrphans = vi.fn(() => queue.findOrphans())
    createMetrics({ queue: { on: queue.on.bind(queue), stats: () => queue.stats(), findOrphans }, registry })
    await queue.enqueue(unsent, { to: 'a@example.com' })
    await queue.enqueue(unsent, { to: 'b@example.com' })
    await queue.enqueue(unbuilt, { id: 1 })
    await queue.schedule('@every 1 hour', unbuilt, { id: 2 }, { name: 'hourly' })
    await queue.schedule('@every 2 hours', unbuilt, { id: 3 }, { name: 'two-hourly' })
    await queue.schedule('@every 1 day', unbuilt, { id: 4 }, { name: 'daily-elsewhere', queue: 'archive' })
    // On a real clock, jobs enqueued "now" are due once the store's clock reaches their run time.
    let scrapes = 0
    const body = await waitFor(async () => {
      scrapes++
      const text = await registry.metrics()
      return text.includes('conveyor_orphaned_jobs{queue="reports"') ? text : null
    })
    expect(findOrphans).toHaveBeenCalledTimes(scrapes)
    expect(body).toContain('conveyor_orphaned_jobs{queue="emails",kind="orphan-email"} 2')
    expect(body).toContain('conveyor_orphaned_jobs{queue="reports",kind="orphan-report"} 1')
    expect(body).toContain('conveyor_orphaned_schedules{queue="reports",kind="orphan-report"} 2')
    expect(body).toContain('conveyor_orphaned_schedules{queue="archive",kind="orphan-report"} 1')
  })

  it('counts pruned jobs', async () => {
    const queue = make()
    const registry = new Registry()
    createMetrics({ queue, registry })
    queue.register(sendEmail, async () => {})
    await queue.enqueue(sendEmail, { to: 'a@example.com' })
    await queue.drain()
    // Pruning takes jobs finished strictly before now: wait for the clock to move past the finish.
    const manual = queue.clock as { advance?: (ms: number) => void }
    await waitFor(async () => {
      manual.advance?.(1)
      return (await queue.prune({ olderThanMs: 0 })) === 1
    })
    expect(await queue.prune({ olderThanMs: 0 })).toBe(0)
    expect(await seriesValue(registry, 'conveyor_jobs_pruned_total', {})).toBe(1)
  })

  it('keeps scraping when stats() fails, counting the error', async () => {
    const queue = make()
    const registry = new Registry()
    const stats = vi.fn(async () => {
      throw new Error('database down')
    })
    createMetrics({ queue: { on: queue.on.bind(queue), stats }, registry })
    const body = await registry.metrics()
    expect(body).not.toContain('conveyor_jobs{')
    expect(await seriesValue(registry, 'conveyor_errors_total', { during: 'metrics stats' })).toBe(1)
  })

  it('never labels by job id', async () => {
    const queue = make()
    const registry = new Registry()
    createMetrics({ queue, registry })
    queue.register(sendEmail, async () => {})
    await queue.enqueue(sendEmail, { to: 'a@example.com' })
    await queue.drain()
    const labelNames = new Set(
      (await registry.getMetricsAsJSON()).flatMap((m) => m.values.flatMap((v) => Object.keys(v.labels))),
    )
    for (const label of labelNames)
      expect(['during', 'kind', 'le', 'outcome', 'queue', 'rule', 'state', 'table']).toContain(label)
  })

  it('registers once per registry and prefix, and unregisters on close()', async () => {
    const queue = make()
    const registry = new Registry()
    const metrics = createMetrics({ queue, registry })
    expect(() => createMetrics({ queue, registry })).toThrow(/already has Conveyor metrics/)
    const other = createMetrics({ queue, registry, prefix: 'second_' })
    other.close()
    metrics.close()
    metrics.close()
    expect(registry.getMetricsAsArray()).toEqual([])
    queue.register(sendEmail, async () => {})
    await queue.enqueue(sendEmail, { to: 'a@example.com' })
    await queue.drain()
    // Closed metrics no longer follow the queue; new ones can be registered again.
    const again = createMetrics({ queue, registry })
    expect(
      await seriesValue(registry, 'conveyor_jobs_started_total', { queue: 'emails', kind: 'send-email' }),
    ).toBe(0)
    again.close()
  })

  it('rejects a missing queue or registry', () => {
    expect(() => createMetrics({ queue: make(), registry: undefined as never })).toThrow(/registry/)
    expect(() => createMetrics({ queue: undefined as never, registry: new Registry() })).toThrow(/queue/)
  })
}
