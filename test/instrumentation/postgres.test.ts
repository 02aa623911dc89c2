/**
 * The instrumentation cases on PostgreSQL (each file on a fresh schema; skipped without a database),
 * the trace joined across two queues that share only the database, as two processes would, and the
 * SQL bound on the stored logs.
 */
import pg from 'pg'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { createMetrics } from '../../src/instrumentation/index.js'
import { databaseUrl, describePostgres, useStore } from '../postgres/fixture.js'
import { waitFor } from '../support/wait.js'
import { drainAll, sendEmail, useQueues } from './harness.js'
import { logsCases } from './logs-cases.js'
import { metricsCases } from './metrics-cases.js'
import { middlewareCases } from './middleware-cases.js'
import { useTracing } from './otel.js'
import { tracingCases } from './tracing-cases.js'

const otel = useTracing()

describePostgres('instrumentation on PostgreSQL', () => {
  const db = useStore()
  const make = useQueues((options) =>
    createPostgresQueue({ ...options, pool: db.pool, schema: db.schema, maintenance: { enabled: false } }),
  )
  describe('tracing', () => tracingCases(make, otel))
  describe('per-run logs', () => logsCases(make))
  describe('middleware', () => middlewareCases(make, otel))
  describe('metrics', () => metricsCases(make))

  it('exports the storage gauges of its schema and the warning while a session holds the horizon', async () => {
    const queue = make({ storageHealth: { horizonWarnAfterMs: 0, deadTuplesWarnAt: 0, cacheMs: 0 } })
    const registry = new Registry()
    createMetrics({ queue, registry })
    const holder = new pg.Client({ connectionString: databaseUrl() })
    await holder.connect()
    try {
      await holder.query('BEGIN')
      await holder.query('SELECT txid_current()')
      const body = await registry.metrics()
      expect(body).toMatch(/^conveyor_table_bytes\{table="jobs"\} [1-9]\d*$/m)
      expect(body).toMatch(/^conveyor_table_index_bytes\{table="jobs"\} [1-9]\d*$/m)
      expect(body).toMatch(/^conveyor_table_dead_tuples\{table="queues"\} \d+$/m)
      expect(body).toMatch(/^conveyor_xmin_horizon_age_transactions [1-9]\d*$/m)
      expect(body).toContain('conveyor_storage_warning{rule="heldHorizon"} 1')
    } finally {
      await holder.query('ROLLBACK')
      await holder.end()
    }
  })

  it('continues the trace in another process: a queue sharing only the database runs the job', async () => {
    const producer = make({ tracing: { tracerProvider: otel.provider } })
    const worker = make({ tracing: { tracerProvider: otel.provider }, pollIntervalMs: 20 })
    let calls = 0
    worker.register(sendEmail, async () => {
      if (++calls === 1) throw new Error('first try fails')
    })
    await worker.start()
    const { id } = await otel.provider.getTracer('test').startActiveSpan('request', async (span) => {
      try {
        return await producer.enqueue(
          sendEmail,
          { to: 'a@example.com' },
          { backoff: { baseMs: 50, jitter: 0 } },
        )
      } finally {
        span.end()
      }
    })
    await waitFor(async () => (await worker.getJob(id))?.state === 'succeeded')
    const [send] = otel.named('send emails')
    const runs = otel.named('process emails')
    expect(runs.map((r) => r.attributes['conveyor.job.attempt'])).toEqual([1, 2])
    for (const run of runs) {
      expect(run.spanContext().traceId).toBe(send?.spanContext().traceId)
      expect(run.parentSpanContext?.spanId).toBe(send?.spanContext().spanId)
      expect(run.parentSpanContext?.isRemote).toBe(true)
    }
  })

  it('appends a run log and drops the oldest in the completion statements alone', async () => {
    const chatty = defineJob<Record<string, never>>({ kind: 'chatty', queue: 'chat', maxAttempts: 30 })
    const queue = make()
    queue.register(chatty, async (_, ctx) => {
      ctx.log.info(`attempt ${ctx.attempt}`)
      if (ctx.attempt < 14) throw new Error('again')
    })
    const { id } = await queue.enqueue(chatty, {})
    await drainAll(queue)
    const { rows } = await db.pool.query(`SELECT logs FROM ${db.everyJob} WHERE id = $1`, [id])
    const logs = rows[0]?.logs as { attempt: number }[]
    expect(logs.map((r) => r.attempt)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14])
  })

  it('stores the logs and traces the run of a transactional job, written in its own transaction', async () => {
    const queue = make({ tracing: { tracerProvider: otel.provider } })
    queue.register(
      sendEmail,
      async (_, ctx) => {
        ctx.log.info('in the transaction', { tx: ctx.tx !== null })
      },
      { transactional: true },
    )
    const { id } = await queue.enqueue(sendEmail, { to: 'a@example.com' })
    await drainAll(queue)
    const job = await queue.getJob(id)
    expect(job?.state).toBe('succeeded')
    expect(job?.logs?.[0]?.lines.map((l) => [l.message, l.fields])).toEqual([
      ['in the transaction', { tx: true }],
    ])
    const [run] = otel.named('process emails')
    expect(run?.attributes['conveyor.job.outcome']).toBe('succeeded')
    expect(run?.parentSpanContext?.spanId).toBe(otel.named('send emails')[0]?.spanContext().spanId)
  })

  it('stores a logged NUL character as U+FFFD instead of failing the completion batch', async () => {
    const queue = make()
    queue.register(sendEmail, async ({ to }, ctx) => ctx.log.info(`to\u0000${to}`, { raw: '\u0000' }))
    const { id } = await queue.enqueue(sendEmail, { to: 'a@example.com' })
    await drainAll(queue)
    const job = await queue.getJob(id)
    expect(job?.state).toBe('succeeded')
    expect(job?.logs?.[0]?.lines[0]).toMatchObject({
      message: 'to\ufffda@example.com',
      fields: { raw: '\ufffd' },
    })
  })
})
