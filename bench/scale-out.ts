/**
 * Scale-out: drain throughput of 1, 2 and 4 worker processes on one database (issue 19).
 * `npm run bench:scale-out -- [--jobs 20000] [--processes 1,2,4] [--concurrency 10] [--rounds 1]
 *   [--out bench/results/scale-out.json] [--postgres URL]`
 *
 * For each process count, on a fresh database: enqueue `jobs` no-op jobs (batches of 1,000), start
 * that many child processes, each a Postgres queue on its defaults (concurrency `concurrency`,
 * prefetch 'auto', LISTEN/NOTIFY, the claim pool), wait until every child is connected, then tell
 * them all to start at once. The drain ends when the children's handlers have run `jobs` jobs in
 * total (each child reports its count every 20 ms). Then the children shut down (flushing their
 * completions) and the parent checks that every job succeeded exactly once. Reports jobs/s and the
 * ratio to one process; with `--rounds` > 1 the counts are interleaved and the median is kept.
 *
 * Each child is its own Node process with its own event loop, pool (10 connections), claim pool (2)
 * and LISTEN connection: the question is how far one database scales with processes, not threads.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { createPostgresQueue } from '../src/adapters/postgres/index.js'
import { defineJob } from '../src/core/domain/job-definition.js'
import { DatabaseFactory } from './lib/resources.js'

const USAGE =
  'Usage: npm run bench:scale-out -- [--jobs N] [--processes 1,2,4] [--concurrency 10] [--rounds 1] [--out PATH] [--postgres URL]'

const noop = defineJob<{ i: number }>({ kind: 'scale-out-noop' })

type ToChild = { type: 'start' } | { type: 'stop' }
type FromChild =
  | { type: 'ready' }
  | { type: 'progress'; handled: number }
  | { type: 'stopped'; handled: number }

interface Options {
  readonly jobs: number
  readonly processes: readonly number[]
  readonly concurrency: number
  readonly rounds: number
  readonly out: string
  readonly postgresUrl: string
}

function log(message: string): void {
  process.stderr.write(`[scale-out ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

function parse(argv: readonly string[]): Options {
  const values = new Map<string, string>()
  const known = ['--jobs', '--processes', '--concurrency', '--rounds', '--out', '--postgres']
  for (let k = 0; k < argv.length; k += 2) {
    const key = argv[k]!
    if (key === '--help') throw new Error(USAGE)
    if (!known.includes(key) || argv[k + 1] === undefined) throw new Error(USAGE)
    values.set(key.slice(2), argv[k + 1]!)
  }
  const int = (name: string, fallback: number) => {
    const n = Number(values.get(name) ?? fallback)
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer\n${USAGE}`)
    return n
  }
  const processes = (values.get('processes') ?? '1,2,4').split(',').map(Number)
  if (processes.some((p) => !Number.isInteger(p) || p < 1 || p > 64))
    throw new Error(`--processes must be a comma-separated list of counts from 1 to 64\n${USAGE}`)
  return {
    jobs: int('jobs', 20_000),
    processes,
    concurrency: int('concurrency', 10),
    rounds: int('rounds', 1),
    out: values.get('out') ?? 'bench/results/scale-out.json',
    postgresUrl:
      values.get('postgres') ??
      process.env.BENCH_DATABASE_URL ??
      'postgres://postgres@127.0.0.1:5432/postgres',
  }
}

// ---- child: one worker process ----

async function child(url: string, concurrency: number): Promise<void> {
  const send = (message: FromChild) => process.send?.(message)
  const queue = createPostgresQueue({
    connectionString: url,
    queues: { default: { concurrency } },
    tracing: { enabled: false },
  })
  let handled = 0
  queue.register(noop, async () => {
    handled++
  })
  let ticker: NodeJS.Timeout | undefined
  process.on('message', (raw) => {
    const message = raw as ToChild
    if (message.type === 'start') {
      void queue.start().then(() => {
        let last = -1
        ticker = setInterval(() => {
          if (handled !== last) send({ type: 'progress', handled })
          last = handled
        }, 20)
      })
    } else if (message.type === 'stop') {
      clearInterval(ticker)
      void queue.shutdown({ graceMs: 10_000 }).then(() => {
        send({ type: 'stopped', handled })
        process.exit(0)
      })
    }
  })
  // Connect the pool and the clock before the start signal, so connecting is not measured.
  await queue.listJobs({}, { limit: 1 })
  send({ type: 'ready' })
}

// ---- parent ----

interface RunResult {
  readonly processes: number
  readonly seconds: number
  readonly jobsPerSecond: number
  readonly perProcess: readonly number[]
  readonly loadAverage1m: number
}

function waitFor<T extends FromChild['type']>(
  worker: ChildProcess,
  type: T,
): Promise<Extract<FromChild, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromChild) => {
      if (m.type === type) {
        worker.off('message', onMessage)
        resolve(m as Extract<FromChild, { type: T }>)
      }
    }
    worker.on('message', onMessage)
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`a worker process exited with code ${code} before '${type}'`))
    })
  })
}

async function runOnce(options: Options, factory: DatabaseFactory, processes: number): Promise<RunResult> {
  const { name, url } = await factory.create(`scale${processes}`)
  try {
    const producer = createPostgresQueue({ connectionString: url, tracing: { enabled: false } })
    await producer.migrate()
    for (let from = 0; from < options.jobs; from += 1000) {
      const batch = Array.from({ length: Math.min(1000, options.jobs - from) }, (_, k) => ({
        job: noop,
        payload: { i: from + k },
      }))
      await producer.enqueueMany(batch)
    }
    await producer.shutdown()
    await producer.store.close()
    // Every run starts from the same table: fresh statistics, no dead tuples from the inserts' checks.
    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    await admin.query('VACUUM ANALYZE conveyor.jobs')

    const script = fileURLToPath(import.meta.url)
    const workers = Array.from({ length: processes }, () =>
      fork(script, ['--child', url, String(options.concurrency)], {
        execArgv: process.execArgv,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }),
    )
    await Promise.all(workers.map((w) => waitFor(w, 'ready')))
    const latest = new Array<number>(processes).fill(0)
    const t0 = performance.now()
    let t1 = 0
    const done = new Promise<void>((resolve) => {
      workers.forEach((w, k) => {
        w.on('message', (m: FromChild) => {
          if (m.type !== 'progress') return
          latest[k] = m.handled
          if (t1 === 0 && latest.reduce((a, b) => a + b, 0) >= options.jobs) {
            t1 = performance.now()
            resolve()
          }
        })
      })
    })
    for (const w of workers) w.send({ type: 'start' } satisfies ToChild)
    await done
    const stopped = workers.map((w) => waitFor(w, 'stopped'))
    for (const w of workers) w.send({ type: 'stop' } satisfies ToChild)
    const perProcess = (await Promise.all(stopped)).map((m) => m.handled)
    const { rows } = await admin.query<{ state: string; n: number }>(
      // Finished jobs live in the history table since migration 009; waiting or running ones in jobs.
      `SELECT state, count(*)::int AS n
         FROM (SELECT state FROM conveyor.jobs UNION ALL SELECT state FROM conveyor.job_history) j
        GROUP BY state`,
    )
    await admin.end()
    const succeeded = rows.find((r) => r.state === 'succeeded')?.n ?? 0
    const ran = perProcess.reduce((a, b) => a + b, 0)
    if (succeeded !== options.jobs || ran !== options.jobs)
      throw new Error(
        `${processes} processes: ${succeeded} of ${options.jobs} jobs succeeded, handlers ran ${ran} times (${JSON.stringify(rows)})`,
      )
    const seconds = (t1 - t0) / 1000
    return {
      processes,
      seconds,
      jobsPerSecond: options.jobs / seconds,
      perProcess,
      loadAverage1m: loadavg()[0] ?? 0,
    }
  } finally {
    await factory.drop(name)
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2))
  const factory = new DatabaseFactory(options.postgresUrl)
  await factory.dropStale()
  const runs: RunResult[] = []
  for (let round = 1; round <= options.rounds; round++) {
    for (const processes of options.processes) {
      log(`round ${round}: ${processes} process(es), ${options.jobs} jobs...`)
      const result = await runOnce(options, factory, processes)
      log(
        `  ${result.jobsPerSecond.toFixed(0)} jobs/s in ${result.seconds.toFixed(2)} s (per process: ${result.perProcess.join(', ')}; load ${result.loadAverage1m.toFixed(1)})`,
      )
      runs.push(result)
    }
  }
  const summary = options.processes.map((processes) => {
    const mine = runs.filter((r) => r.processes === processes)
    return { processes, jobsPerSecond: median(mine.map((r) => r.jobsPerSecond)) }
  })
  const base = summary.find((s) => s.processes === 1)?.jobsPerSecond ?? summary[0]!.jobsPerSecond
  const lines = [
    '| worker processes | jobs/s | vs 1 process |',
    '|---|---|---|',
    ...summary.map(
      (s) =>
        `| ${s.processes} | ${Math.round(s.jobsPerSecond).toLocaleString('en-US')} | ${(s.jobsPerSecond / base).toFixed(2)} |`,
    ),
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
  await mkdir(dirname(options.out), { recursive: true })
  await writeFile(
    options.out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        cpus: cpus().length,
        options: { ...options, postgresUrl: undefined },
        runs,
        summary: summary.map((s) => ({ ...s, ratio: s.jobsPerSecond / base })),
      },
      null,
      2,
    )}\n`,
  )
  log(`wrote ${options.out}`)
}

if (process.argv[2] === '--child') {
  child(process.argv[3]!, Number(process.argv[4])).catch((error) => {
    console.error(error)
    process.exit(1)
  })
} else {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error)
    process.exit(1)
  })
}
