/** The instrumentation cases on the memory adapter, and what only a manual clock can show exactly. */
import { readFileSync } from 'node:fs'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createMemoryQueue, type MemoryQueue } from '../../src/adapters/memory/index.js'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import type { StorageHealthReading } from '../../src/core/domain/storage-health.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import { createQueue } from '../../src/index.js'
import { createMetrics } from '../../src/instrumentation/index.js'
import { waitFor } from '../support/wait.js'
import { sendEmail, useQueues } from './harness.js'
import { logsCases } from './logs-cases.js'
import { histogramSeries, metricsCases, seriesValue } from './metrics-cases.js'
import { middlewareCases } from './middleware-cases.js'
import { useTracing } from './otel.js'
import { tracingCases } from './tracing-cases.js'

const otel = useTracing()

describe('instrumentation on the memory adapter', () => {
  const make = useQueues((options) => createMemoryQueue(options))
  describe('tracing', () => tracingCases(make, otel))
  describe('per-run logs', () => logsCases(make))
  describe('middleware', () => middlewareCases(make, otel))
  describe('metrics', () => {
    metricsCases(make)

    it('exports the storage gauges from one storageHealth() per scrape (none on the memory store)', async () => {
      const memory = new Registry()
      createMetrics({ queue: make(), registry: memory })
      expect(await memory.metrics()).not.toMatch(/^conveyor_table_dead_tuples\{/m)

      const T0 = Date.UTC(2030, 0, 1)
      const store = new MemoryStore()
      Object.defineProperty(store, 'capabilities', { value: { ...store.capabilities, storageHealth: true } })
      const reading: StorageHealthReading = {
        checkedAt: T0,
        database: 'app',
        schema: 'conveyor',
        tables: [
          {
            name: 'jobs',
            liveTuples: 120,
            deadTuples: 25_000,
            totalBytes: 819_200,
            indexBytes: 409_600,
            lastVacuumAt: T0 - 60_000,
            lastAutovacuumAt: T0 - 30_000,
          },
        ],
        holders: [
          {
            kind: 'session',
            pid: 42,
            name: 'report',
            state: 'idle in transaction',
            user: 'app',
            database: 'app',
            xmin: '700',
            xminAge: 5000,
            transactionStartedAt: T0 - 90_000,
            queryStartedAt: T0 - 90_000,
            query: 'SELECT 1',
          },
        ],
      }
      let reads = 0
      let down = false
      Object.assign(store, {
        storageHealth: async () => {
          reads++
          if (down) throw new Error('database down')
          return reading
        },
      })
      const queue = createQueue(store, { clock: new ManualClock(T0), storageHealth: { cacheMs: 0 } })
      const registry = new Registry()
      createMetrics({ queue, registry })
      const body = await registry.metrics()
      expect(reads).toBe(1)
      expect(body).toContain('conveyor_table_dead_tuples{table="jobs"} 25000')
      expect(body).toContain('conveyor_table_live_tuples{table="jobs"} 120')
      expect(body).toContain('conveyor_table_bytes{table="jobs"} 819200')
      expect(body).toContain('conveyor_table_index_bytes{table="jobs"} 409600')
      expect(body).toContain(
        `conveyor_table_last_vacuum_timestamp_seconds{table="jobs"} ${(T0 - 30_000) / 1000}`,
      )
      expect(body).toContain('conveyor_oldest_transaction_age_seconds 90')
      expect(body).toContain('conveyor_xmin_horizon_age_transactions 5000')
      expect(body).toContain('conveyor_storage_warning{rule="heldHorizon"} 1')

      down = true
      const failed = await registry.metrics()
      expect(failed).not.toMatch(/^conveyor_table_dead_tuples\{/m)
      // Counted during this scrape, after the counter was rendered: read it afterwards.
      expect(await seriesValue(registry, 'conveyor_errors_total', { during: 'metrics storage health' })).toBe(
        1,
      )
    })

    it('measures queue lag as start time minus due time, on the queue clock', async () => {
      const queue = make() as MemoryQueue<ManualClock>
      const registry = new Registry()
      createMetrics({ queue, registry })
      queue.register(sendEmail, async () => {})
      await queue.enqueue(sendEmail, { to: 'a@example.com' }, { delayMs: 5000 })
      queue.clock.advance(7500)
      await queue.drain()
      const lag = await histogramSeries(registry, 'conveyor_job_lag_seconds')
      const sum = lag.find((v) => v.metricName === 'conveyor_job_lag_seconds_sum')
      expect(sum?.value).toBe(2.5)
      const bucket = (le: number) =>
        lag.find((v) => v.metricName === 'conveyor_job_lag_seconds_bucket' && v.labels.le === le)?.value
      expect(bucket(1)).toBe(0)
      expect(bucket(5)).toBe(1)
    })

    it('measures queue lag up to the handler start, including the wait in the claim buffer', async () => {
      const queue = make({
        queues: { emails: { concurrency: 1 } },
        prefetch: 1,
        maxBufferWaitMs: 60_000,
      }) as MemoryQueue<ManualClock>
      const registry = new Registry()
      createMetrics({ queue, registry })
      let release = () => {}
      const gate = new Promise<void>((resolve) => {
        release = resolve
      })
      const started: string[] = []
      queue.register(sendEmail, async ({ to }) => {
        started.push(to)
        if (to === 'first') await gate
      })
      await queue.enqueue(sendEmail, { to: 'first' })
      await queue.enqueue(sendEmail, { to: 'second' })
      await queue.start()
      await waitFor(() => started.length === 1)
      // Both were claimed at once: the second waits in the buffer while the first runs for 3 s.
      expect((await queue.listJobs()).map((j) => j.state)).toEqual(['running', 'running'])
      queue.clock.advance(3000)
      release()
      await waitFor(() => started.length === 2)
      const lag = await histogramSeries(registry, 'conveyor_job_lag_seconds')
      expect(lag.find((v) => v.metricName === 'conveyor_job_lag_seconds_sum')?.value).toBe(3)
      expect(lag.find((v) => v.metricName === 'conveyor_job_lag_seconds_count')?.value).toBe(2)
    })

    it('the Grafana dashboard only queries metrics that createMetrics registers', () => {
      const registry = new Registry()
      createMetrics({ queue: make(), registry })
      // The storage gauges come with a store that reports its health (Postgres).
      const storage = new Registry()
      createMetrics({ queue: Object.assign(make(), { storageHealth: async () => null }), registry: storage })
      const registered = new Set(
        [...registry.getMetricsAsArray(), ...storage.getMetricsAsArray()].map((m) => m.name),
      )
      const text = readFileSync(new URL('../../grafana/conveyor-dashboard.json', import.meta.url), 'utf8')
      const used = new Set(
        [...text.matchAll(/\bconveyor_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')),
      )
      expect(used.size).toBeGreaterThan(8)
      for (const name of used) expect(registered).toContain(name)
      // Operators see orphans and a held horizon on the dashboard, not only on the admin page.
      for (const name of [
        'conveyor_orphaned_jobs',
        'conveyor_orphaned_schedules',
        'conveyor_oldest_transaction_age_seconds',
        'conveyor_storage_warning',
        'conveyor_table_dead_tuples',
      ])
        expect(used).toContain(name)
    })
  })
})

describe('createQueue of the main entry point', () => {
  it('installs the tracing middleware by default, honouring the tracing option, before the given middleware', async () => {
    const seen: string[] = []
    const queue = createQueue(new MemoryStore(), {
      clock: new ManualClock(),
      tracing: { tracerProvider: otel.provider },
      middleware: [
        {
          run: (_job, next) => {
            seen.push('run')
            return next()
          },
        },
      ],
    })
    queue.register(sendEmail, async () => {})
    await queue.enqueue(sendEmail, { to: 'a@example.com' })
    await queue.drain()
    expect(otel.spans().map((s) => s.name)).toEqual(['send emails', 'process emails'])
    expect(seen).toEqual(['run'])
    const off = createQueue(new MemoryStore(), { tracing: { tracerProvider: otel.provider, enabled: false } })
    await off.enqueue(sendEmail, { to: 'b@example.com' })
    expect(otel.spans()).toHaveLength(2)
    expect(() => createQueue(new MemoryStore(), { tracing: { runSpan: 'x' as never } })).toThrow(/runSpan/)
  })
})
