/** The instrumentation cases on the memory adapter, and what only a manual clock can show exactly. */
import { readFileSync } from 'node:fs'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createMemoryQueue, type MemoryQueue } from '../../src/adapters/memory/index.js'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import { createQueue } from '../../src/index.js'
import { createMetrics } from '../../src/instrumentation/index.js'
import { waitFor } from '../support/wait.js'
import { sendEmail, useQueues } from './harness.js'
import { logsCases } from './logs-cases.js'
import { histogramSeries, metricsCases } from './metrics-cases.js'
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
      const registered = new Set(registry.getMetricsAsArray().map((m) => m.name))
      const text = readFileSync(new URL('../../grafana/conveyor-dashboard.json', import.meta.url), 'utf8')
      const used = new Set(
        [...text.matchAll(/\bconveyor_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, '')),
      )
      expect(used.size).toBeGreaterThan(8)
      for (const name of used) expect(registered).toContain(name)
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
