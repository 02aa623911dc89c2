/**
 * Claims at a trickle (issue 19, "claim less often, take more per claim"): a producer enqueues
 * `--rate` jobs per second, one job per statement (each its own transaction, so one NOTIFY each),
 * to one Conveyor worker process of concurrency 10 with a 1 ms handler, on its defaults. The worker
 * counts its store's claims (empty ones too) and the jobs they return; the report gives claims per
 * second, jobs per claim, the share of empty claims and pickup latency (insert to handler start).
 *
 *   npx tsx bench/trickle.ts --rate 2000 --seconds 20
 *
 * The database is created fresh and dropped on any exit.
 */
import { fork } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { createPostgresQueue } from '../src/adapters/postgres/index.js'
import { defineJob } from '../src/core/domain/job-definition.js'
import { positiveArg } from './lib/args.js'
import { benchDatabases, killChildren, liveChildren } from './lib/resources.js'

const SCHEMA = 'conveyor'
const CONCURRENCY = 10
const HANDLER_MS = 1
/** Producer statements in flight at most (each enqueue is one autocommit statement). */
const PRODUCER_CONNECTIONS = 8

interface TricklePayload {
  /** Insert time, `performance.timeOrigin + performance.now()` of the producer. */
  readonly t: number
}

/** What the worker child reports when asked. */
interface WorkerStats {
  readonly claims: number
  readonly emptyClaims: number
  readonly jobs: number
  readonly started: number
  readonly latencies: number[]
}

const job = defineJob<TricklePayload>({ kind: 'trickle' })
const now = () => performance.timeOrigin + performance.now()

/** The worker process: counts claims by wrapping its store's `claimJobs`. */
async function worker(databaseUrl: string): Promise<void> {
  const queue = createPostgresQueue({
    connectionString: databaseUrl,
    schema: SCHEMA,
    queues: { default: { concurrency: CONCURRENCY } },
  })
  let stats: WorkerStats = { claims: 0, emptyClaims: 0, jobs: 0, started: 0, latencies: [] }
  const store = queue.store
  const claimJobs = store.claimJobs.bind(store)
  store.claimJobs = async (params) => {
    const jobs = await claimJobs(params)
    stats = {
      ...stats,
      claims: stats.claims + 1,
      emptyClaims: stats.emptyClaims + (jobs.length === 0 ? 1 : 0),
      jobs: stats.jobs + jobs.length,
    }
    return jobs
  }
  queue.register(job, async (payload) => {
    stats.latencies.push(now() - payload.t)
    stats = { ...stats, started: stats.started + 1 }
    await sleep(HANDLER_MS)
  })
  await queue.start()
  process.on('message', (message: string) => {
    if (message === 'reset') {
      stats = { claims: 0, emptyClaims: 0, jobs: 0, started: 0, latencies: [] }
    } else if (message === 'report') {
      process.send?.(stats)
    } else if (message === 'stop') {
      void queue.shutdown().finally(() => process.exit(0))
    }
  })
  process.send?.('ready')
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

async function main(): Promise<number> {
  const rate = positiveArg('rate', 2000)
  const seconds = positiveArg('seconds', 20)
  const warmup = positiveArg('warmup', 5)
  const databases = await benchDatabases()
  if (!databases) return 3
  process.on('exit', killChildren)
  const { url } = await databases.create('trickle')
  const producer = createPostgresQueue({
    connectionString: url,
    schema: SCHEMA,
    maxConnections: PRODUCER_CONNECTIONS,
  })
  try {
    await producer.migrate()
    const child = fork(fileURLToPath(import.meta.url), ['worker', url], { execArgv: ['--import', 'tsx'] })
    liveChildren.add(child)
    const next = <T>() => new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T)))
    await next<'ready'>()
    let produced = 0
    let inFlight = 0
    let dropped = 0
    let failed = 0
    const perTick = rate / 100
    let owed = 0
    const tick = setInterval(() => {
      owed += perTick
      while (owed >= 1) {
        owed--
        if (inFlight >= PRODUCER_CONNECTIONS * 4) {
          dropped++
          continue
        }
        inFlight++
        void producer
          .enqueue(job, { t: now() })
          .then(
            () => produced++,
            () => failed++,
          )
          .finally(() => inFlight--)
      }
    }, 10)
    await sleep(warmup * 1000)
    child.send('reset')
    const producedBefore = produced
    const began = now()
    await sleep(seconds * 1000)
    child.send('report')
    const stats = await next<WorkerStats>()
    const elapsed = (now() - began) / 1000
    clearInterval(tick)
    while (inFlight > 0) await sleep(10)
    child.send('stop')
    await new Promise((resolve) => child.once('exit', resolve))
    const sorted = [...stats.latencies].sort((a, b) => a - b)
    const report = {
      rate,
      seconds: Number(elapsed.toFixed(1)),
      enqueuedPerSecond: Math.round((produced - producedBefore) / elapsed),
      producerDropped: dropped,
      producerFailed: failed,
      startedPerSecond: Math.round(stats.started / elapsed),
      claimsPerSecond: Math.round(stats.claims / elapsed),
      emptyClaimsShare: Number((stats.emptyClaims / Math.max(1, stats.claims)).toFixed(3)),
      jobsPerClaim: Number((stats.jobs / Math.max(1, stats.claims)).toFixed(2)),
      jobsPerNonEmptyClaim: Number((stats.jobs / Math.max(1, stats.claims - stats.emptyClaims)).toFixed(2)),
      pickupMs: {
        p50: Number(percentile(sorted, 50).toFixed(2)),
        p90: Number(percentile(sorted, 90).toFixed(2)),
        p99: Number(percentile(sorted, 99).toFixed(2)),
      },
    }
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    return 0
  } finally {
    await producer.shutdown().catch(() => {})
    killChildren()
    await databases.dropAll()
  }
}

if (process.argv[2] === 'worker') {
  void worker(process.argv[3]!)
} else {
  main().then(
    (code) => process.exit(code),
    (error) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      process.exit(1)
    },
  )
}
