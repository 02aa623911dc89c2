/**
 * What instrumentation costs: drains N no-op jobs on PostgreSQL (or memory) with a started worker,
 * in five set-ups, interleaved ROUNDS times, and prints the median throughput of each:
 * - `off`: `tracing: { enabled: false }`, no metrics;
 * - `metrics`: `createMetrics` only (tracing off);
 * - `default`: tracing on through the global `@opentelemetry/api` provider with no SDK installed
 *   (what every user gets unless they install one), no metrics;
 * - `on`: an SDK tracer provider (SimpleSpanProcessor + InMemorySpanExporter, AsyncLocalStorage
 *   context manager) and `createMetrics` on a fresh registry, scraped once per run;
 * - `batch`: the same with a BatchSpanProcessor, as production set-ups export (spans beyond its
 *   queue may be dropped, as in production).
 * Enqueue time (enqueueMany of 1000) is reported too. The database is `DATABASE_URL` or the local one.
 *
 *   npx tsx bench/instrumentation.bench.ts [N=20000] [ROUNDS=3] [postgres|memory]
 */
import { randomBytes } from 'node:crypto'
import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import pg from 'pg'
import { Registry } from 'prom-client'
import { createMemoryQueue } from '../src/adapters/memory/index.js'
import { createPostgresQueue } from '../src/adapters/postgres/index.js'
import { quoteIdentifier } from '../src/adapters/postgres/schema-name.js'
import type { CoreQueue } from '../src/core/create-queue.js'
import { defineJob } from '../src/core/domain/job-definition.js'
import { createSystemClock } from '../src/core/ports/clock.js'
import type { TracedQueueOptions as QueueOptions } from '../src/instrumentation/default-middleware.js'
import { createMetrics } from '../src/instrumentation/index.js'

const N = Number(process.argv[2] ?? 20_000)
const ROUNDS = Number(process.argv[3] ?? 3)
const ADAPTER = process.argv[4] === 'memory' ? 'memory' : 'postgres'
const URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const SETUPS = ['off', 'metrics', 'default', 'on', 'batch'] as const
type Setup = (typeof SETUPS)[number]

const job = defineJob<{ i: number }>({ kind: 'noop' })
const schema = `conveyor_bench_instr_${randomBytes(4).toString('hex')}`
const pool = ADAPTER === 'postgres' ? new pg.Pool({ connectionString: URL, max: 12 }) : null
const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const batchProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] })

interface RunResult {
  readonly enqueueMs: number
  readonly drainMs: number
  /** CPU time of this process while draining (user + system): less noisy than wall time on a shared machine. */
  readonly cpuMs: number
  readonly spans: number
}

function queueFor(setup: Setup): CoreQueue {
  const tracing: QueueOptions['tracing'] =
    setup === 'off' || setup === 'metrics'
      ? { enabled: false }
      : setup === 'default'
        ? undefined
        : { tracerProvider: setup === 'on' ? provider : batchProvider }
  const options: QueueOptions = { tracing, queues: { default: { concurrency: 10 } } }
  return pool
    ? createPostgresQueue({ ...options, pool, schema })
    : createMemoryQueue({ ...options, clock: createSystemClock() })
}

async function runOnce(setup: Setup): Promise<RunResult> {
  // The context manager is part of the SDK set-up: the other set-ups run without any.
  const sdk = setup === 'on' || setup === 'batch'
  if (sdk) context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  try {
    return await measure(setup)
  } finally {
    if (sdk) context.disable()
  }
}

async function measure(setup: Setup): Promise<RunResult> {
  if (pool) await pool.query(`TRUNCATE ${quoteIdentifier(schema)}.jobs RESTART IDENTITY`)
  exporter.reset()
  const queue = queueFor(setup)
  const registry = new Registry()
  const metrics =
    setup === 'metrics' || setup === 'on' || setup === 'batch' ? createMetrics({ queue, registry }) : null
  let ran = 0
  queue.register(job, () => {
    ran++
  })
  const t0 = performance.now()
  for (let i = 0; i < N; i += 1000) {
    const size = Math.min(1000, N - i)
    await queue.enqueueMany(Array.from({ length: size }, (_, k) => ({ job, payload: { i: i + k } })))
  }
  const enqueueMs = performance.now() - t0
  if (pool) await pool.query(`VACUUM ANALYZE ${quoteIdentifier(schema)}.jobs`)
  const t1 = performance.now()
  const cpu = process.cpuUsage()
  await queue.start()
  while (ran < N) await new Promise((r) => setTimeout(r, 2))
  // Done when the last completions are written, not only run.
  if (pool) {
    const running = `SELECT count(*)::int AS n FROM ${quoteIdentifier(schema)}.jobs WHERE state = 'running'`
    while ((await pool.query(running)).rows[0].n > 0) await new Promise((r) => setTimeout(r, 2))
  }
  const drainMs = performance.now() - t1
  const used = process.cpuUsage(cpu)
  const cpuMs = (used.user + used.system) / 1000
  if (metrics) {
    const body = await registry.metrics()
    if (!body.includes(`conveyor_jobs_succeeded_total{queue="default",kind="noop"} ${N}`))
      throw new Error('metrics did not count every job')
    metrics.close()
  }
  await queue.shutdown()
  await batchProvider.forceFlush()
  return { enqueueMs, drainMs, cpuMs, spans: exporter.getFinishedSpans().length }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

try {
  if (pool) {
    const setupQueue = createPostgresQueue({ pool, schema })
    await setupQueue.migrate()
    await setupQueue.shutdown()
  }
  await runOnce('on') // warm-up: JIT, prepared statements, connections
  const results = new Map<Setup, RunResult[]>(SETUPS.map((s) => [s, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const setup of SETUPS) {
      const r = await runOnce(setup)
      results.get(setup)!.push(r)
      console.log(
        `round ${round + 1} ${setup.padEnd(7)} drain ${(N / (r.drainMs / 1000)).toFixed(0).padStart(6)} jobs/s  cpu ${((r.cpuMs * 1000) / N).toFixed(1).padStart(5)} µs/job  enqueue ${r.enqueueMs.toFixed(0).padStart(5)} ms  spans ${r.spans}`,
      )
    }
  }
  console.log(`\n${ADAPTER}, N=${N}, medians of ${ROUNDS} rounds:`)
  const med = (setup: Setup, key: 'drainMs' | 'cpuMs' | 'enqueueMs') =>
    median(results.get(setup)!.map((r) => r[key]))
  const pct = (x: number, base: number) => `${x >= base ? '+' : ''}${((x / base - 1) * 100).toFixed(1)}%`
  for (const setup of SETUPS) {
    const drain = med(setup, 'drainMs')
    const cpu = med(setup, 'cpuMs')
    console.log(
      `  ${setup.padEnd(7)} drain ${(N / (drain / 1000)).toFixed(0).padStart(6)} jobs/s (${pct(drain, med('off', 'drainMs'))} time vs off)  cpu ${((cpu * 1000) / N).toFixed(1)} µs/job (${pct(cpu, med('off', 'cpuMs'))})  enqueue ${med(setup, 'enqueueMs').toFixed(0)} ms`,
    )
  }
} finally {
  if (pool) {
    await pool.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`)
    await pool.end()
  }
  await Promise.all([provider.shutdown(), batchProvider.shutdown()])
}
