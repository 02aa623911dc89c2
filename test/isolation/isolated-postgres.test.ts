/**
 * Isolated handlers on PostgreSQL with running workers (real threads and processes): a busy-looping
 * handler is terminated at its timeout and its job fails (not succeeds), process.exit(3) fails only
 * its attempt with the exit code in the error while the jobs next to it succeed, the pool recovers,
 * and the run's W3C trace context reaches the handler.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createPostgresQueue, type PostgresQueue } from '../../src/adapters/postgres/index.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { useTracing } from '../instrumentation/otel.js'
import { describePostgres, useStore } from '../postgres/fixture.js'
import { waitFor } from '../support/wait.js'
import type { WorkPayload } from './fixtures/work.handler.js'

const work = defineJob<WorkPayload>({ kind: 'pg-work', maxAttempts: 1, timeoutMs: 10_000 })
const workModule = new URL('./fixtures/work.handler.ts', import.meta.url)

describePostgres('isolated handlers on PostgreSQL workers', () => {
  const db = useStore()
  const tracing = useTracing()
  let queue: PostgresQueue

  describe.each(['thread', 'process'] as const)('%s', (isolation) => {
    beforeEach(() => {
      queue = createPostgresQueue({
        pool: db.pool,
        schema: db.schema,
        workers: [{ queues: ['default'], concurrency: 2 }],
        tracing: { tracerProvider: tracing.provider },
      })
      queue.register(work, workModule, { isolation })
    })
    afterEach(async () => {
      await queue.shutdown({ graceMs: 1000 })
    })

    it('times out a busy loop, fails only the exiting attempt, runs the rest; the trace context crosses', async () => {
      const busy = await queue.enqueue(work, { do: 'busy' }, { timeoutMs: 300 })
      const exited = await queue.enqueue(work, { do: 'exit', code: 3 })
      const traced = await queue.enqueue(work, { do: 'context' })
      const ok = await Promise.all(Array.from({ length: 6 }, () => queue.enqueue(work, { do: 'ok' })))
      await queue.start()
      const ids = [busy, exited, traced, ...ok].map((j) => j.id)
      await waitFor(
        async () => {
          const jobs = await Promise.all(ids.map((id) => queue.getJob(id)))
          return jobs.every((j) => j?.state === 'succeeded' || j?.state === 'failed')
        },
        { timeoutMs: 30_000, message: 'every job finished' },
      )
      expect(await queue.getJob(busy.id)).toMatchObject({
        state: 'failed',
        errors: [{ name: 'JobTimeoutError' }],
      })
      expect(await queue.getJob(exited.id)).toMatchObject({
        state: 'failed',
        errors: [{ name: 'IsolatedRunnerExitError', message: expect.stringContaining('exited with code 3') }],
      })
      for (const j of [traced, ...ok]) expect(await queue.getJob(j.id)).toMatchObject({ state: 'succeeded' })

      const lines = (await queue.getJob(traced.id))?.logs?.[0]?.lines ?? []
      const traceparent = lines.find((l) => l.message === 'trace')?.fields?.traceparent as string
      expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/)
      const [, traceId, spanId] = traceparent.split('-')
      await waitFor(() => tracing.spans().some((s) => s.spanContext().spanId === spanId))
      const span = tracing.spans().find((s) => s.spanContext().spanId === spanId)!
      expect(span.spanContext().traceId).toBe(traceId)
      expect(span.attributes).toMatchObject({ 'messaging.message.id': traced.id })
    })

    it('the pool recovers: after an exit, later jobs run on a fresh runner', async () => {
      await queue.start()
      const exited = await queue.enqueue(work, { do: 'exit', code: 3 })
      await waitFor(async () => (await queue.getJob(exited.id))?.state === 'failed')
      const after = await Promise.all(Array.from({ length: 4 }, () => queue.enqueue(work, { do: 'ok' })))
      await waitFor(async () => {
        const jobs = await Promise.all(after.map((j) => queue.getJob(j.id)))
        return jobs.every((j) => j?.state === 'succeeded')
      })
    })
  })

  describe('chosen per worker', () => {
    const inline = defineJob<{ n: number }>({ kind: 'pg-inline' })
    afterEach(async () => {
      await queue.shutdown({ graceMs: 1000 })
    })

    it("a worker's isolation runs the kinds registered as modules in its pool; functions stay in process", async () => {
      queue = createPostgresQueue({
        pool: db.pool,
        schema: db.schema,
        workers: [{ queues: ['default'], concurrency: 2, isolation: 'process' }],
      })
      queue.register(work, workModule) // a module, no isolation of its own: the worker's applies
      const ran: number[] = []
      queue.register(inline, ({ n }) => void ran.push(n))
      const exited = await queue.enqueue(work, { do: 'exit', code: 4 })
      const ok = await queue.enqueue(work, { do: 'ok' })
      const fn = await queue.enqueue(inline, { n: 1 })
      await queue.start()
      await waitFor(async () => {
        const jobs = await Promise.all([exited, ok, fn].map((j) => queue.getJob(j.id)))
        return jobs.every((j) => j?.state === 'succeeded' || j?.state === 'failed')
      })
      expect(await queue.getJob(exited.id)).toMatchObject({
        state: 'failed',
        errors: [
          { name: 'IsolatedRunnerExitError', message: expect.stringContaining('process exited with code 4') },
        ],
      })
      expect(await queue.getJob(ok.id)).toMatchObject({ state: 'succeeded' })
      expect(await queue.getJob(fn.id)).toMatchObject({ state: 'succeeded' })
      expect(ran).toEqual([1])
    })
  })
})
