/**
 * One system through the held-horizon scenario on a fresh database: a producer at a fixed rate (one
 * batch every 10 ms, catching up when an insert took longer), the system's worker in its own process,
 * a database-wide VACUUM every few seconds, the design's own maintenance if it has any, and the phases
 * warmup, clean, held (another session idles in a REPEATABLE READ transaction that took an xid, so
 * the xmin horizon stays put) and recovery (that transaction has ended). A report every `interval`
 * seconds; after recovery the producer stops and the worker must drain every job.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { CLAIM_SESSION_SETTINGS } from '../../src/adapters/postgres/claim-pool.js'
import { baseline, keysetClaim } from '../candidates/current-table.js'
import { candidateById } from '../candidates/registry.js'
import type { Candidate } from '../candidates/types.js'
import { type DatabaseFactory, liveChildren } from '../lib/resources.js'
import { percentile, sleep, stamp } from '../lib/stats.js'
import { cpuTicks, DatabaseMonitor } from './monitor.js'
import type { PressureOptions } from './options.js'
import { pressurePayload, type WorkerToParent } from './protocol.js'
import { openPressureProducer } from './systems.js'

const CHILD = fileURLToPath(new URL('./worker-child.ts', import.meta.url))
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BATCH_MS = 10

/** The phases, in order. */
export const PHASES = ['warmup', 'clean', 'held', 'recovery'] as const
/** One phase. */
export type Phase = (typeof PHASES)[number]

/** One report interval. */
export interface PressureWindow {
  readonly phase: Phase
  /** Seconds since the producer started, at the end of the window. */
  readonly at: number
  readonly seconds: number
  readonly enqueuedPerSecond: number
  readonly completionsPerSecond: number
  /** Jobs enqueued and not yet completed, at the end of the window. */
  readonly backlog: number
  readonly pickups: number
  readonly pickupP50: number
  readonly pickupP99: number
  readonly deadTuples: number
  readonly tableMb: number
  /** Database server CPU over the window, % of one core (200% = both cores of this machine). */
  readonly dbCpuPercent: number
  /** Worker process CPU over the window, % of one core. */
  readonly workerCpuPercent: number
}

/** Everything one system's run produced. */
export interface SystemRun {
  readonly system: string
  readonly windows: PressureWindow[]
  /** Pickup latencies of each phase (kept for the summary, not written out). */
  readonly latencies: Record<Phase, number[]>
  enqueued: number
  completed: number
  duplicates: number
  /** Seconds from stopping the producer to every job completed. */
  drainSeconds: number
  /** EXPLAIN (ANALYZE, BUFFERS) of the claim at the end of the held phase, or null. */
  explain: string | null
  failure: string | null
}

/** Runs one system through the scenario; a failure is recorded in the result, not thrown. */
export async function runPressureSystem(
  system: string,
  options: PressureOptions,
  databases: DatabaseFactory,
  log: (message: string) => void,
): Promise<SystemRun> {
  const result: SystemRun = {
    system,
    windows: [],
    latencies: { warmup: [], clean: [], held: [], recovery: [] },
    enqueued: 0,
    completed: 0,
    duplicates: 0,
    drainSeconds: Number.NaN,
    explain: null,
    failure: null,
  }
  const cleanups: (() => Promise<unknown> | unknown)[] = []
  const db = await databases.create(`pressure_${system}`)
  cleanups.push(() => databases.drop(db.name))
  try {
    await scenario(system, db.url, options, result, cleanups, log)
  } catch (error) {
    result.failure = (error as Error).message.split('\n')[0]!.slice(0, 500)
    log(`${system}: FAILED: ${result.failure}`)
  } finally {
    for (const cleanup of cleanups.reverse())
      await Promise.resolve()
        .then(cleanup)
        .catch(() => {})
  }
  return result
}

async function scenario(
  system: string,
  databaseUrl: string,
  options: PressureOptions,
  result: SystemRun,
  cleanups: (() => Promise<unknown> | unknown)[],
  log: (message: string) => void,
): Promise<void> {
  const producer = await openPressureProducer(system, databaseUrl)
  cleanups.push(() => producer.close())
  const candidate =
    system === 'conveyor'
      ? keysetClaim
      : system === 'conveyor-front'
        ? baseline
        : system === 'graphile-worker'
          ? null
          : candidateById(system)
  const worker = await WorkerProcess.spawn(system, databaseUrl, options.handlerMs)
  cleanups.push(() => worker.kill())
  const monitor = await DatabaseMonitor.open(databaseUrl)
  cleanups.push(() => monitor.close())

  await worker.start()
  let stopped = false
  let producerError: unknown = null
  const background: Promise<void>[] = []
  const t0 = performance.now()
  // Producer: every 10 ms, the jobs due by now at `rate` that are not inserted yet, in one batch.
  background.push(
    (async () => {
      let next = t0
      while (!stopped) {
        const due = Math.floor((options.rate * (performance.now() - t0)) / 1000)
        const n = Math.min(due - result.enqueued, options.rate)
        if (n > 0) {
          const t = stamp()
          const first = result.enqueued
          await producer.insert(Array.from({ length: n }, (_, k) => pressurePayload(first + k, t)))
          result.enqueued += n
        }
        next += BATCH_MS
        await sleep(Math.max(0, next - performance.now()))
      }
    })().catch((error) => {
      producerError = error
    }),
  )
  // VACUUM of the whole database every `vacuumEvery` seconds, as autovacuum would.
  const vacuum = new pg.Client({ connectionString: databaseUrl })
  vacuum.on('error', () => {})
  await vacuum.connect()
  cleanups.push(() => vacuum.end())
  background.push(
    (async () => {
      while (!stopped) {
        const started = performance.now()
        await vacuum.query('VACUUM')
        await sleepUnless(() => stopped, options.vacuumEvery * 1000 - (performance.now() - started))
      }
    })().catch((error) => log(`${system}: vacuum: ${(error as Error).message}`)),
  )
  // The design's own maintenance (C's rotation), on its own connection.
  if (candidate?.maintenance && !system.startsWith('conveyor')) {
    const { everyMs, run } = candidate.maintenance
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 })
    pool.on('error', () => {})
    cleanups.push(() => pool.end())
    background.push(
      (async () => {
        while (!stopped) {
          await run(pool)
          await sleepUnless(() => stopped, everyMs)
        }
      })().catch((error) => log(`${system}: maintenance: ${(error as Error).message}`)),
    )
  }

  let holder: pg.Client | null = null
  let last = { at: 0, enqueued: 0, completed: 0, workerTicks: worker.cpuTicks() }
  for (const phase of PHASES) {
    const length = phaseSeconds(options, phase)
    if (phase === 'held') {
      holder = new pg.Client({ connectionString: databaseUrl })
      holder.on('error', () => {})
      await holder.connect()
      await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ')
      await holder.query('SELECT txid_current()')
    }
    const phaseStart = (performance.now() - t0) / 1000
    for (let done = 0; done < length - 1e-9; ) {
      const step = Math.min(options.interval, length - done)
      done += step
      const end = phaseStart + done
      await sleep(Math.max(0, (end - (performance.now() - t0) / 1000) * 1000))
      worker.throwIfFailed()
      if (producerError) throw producerError
      const at = (performance.now() - t0) / 1000
      await worker.refresh()
      const db = await monitor.sample()
      const latencies = worker.takeLatencies()
      append(result.latencies[phase], latencies)
      const seconds = at - last.at
      const workerTicks = worker.cpuTicks()
      const window: PressureWindow = {
        phase,
        at,
        seconds,
        enqueuedPerSecond: (result.enqueued - last.enqueued) / seconds,
        completionsPerSecond: (worker.completed - last.completed) / seconds,
        backlog: result.enqueued - worker.completed,
        pickups: latencies.length,
        pickupP50: percentile(latencies, 50),
        pickupP99: percentile(latencies, 99),
        deadTuples: db.deadTuples,
        tableMb: db.tableBytes / 1e6,
        dbCpuPercent: (db.cpuMs / 1000 / seconds) * 100,
        workerCpuPercent: (((workerTicks - last.workerTicks) / 100) * 100) / seconds,
      }
      result.windows.push(window)
      log(
        `${system} ${phase} ${at.toFixed(0)} s: ${window.completionsPerSecond.toFixed(0)} done/s, backlog ${window.backlog}, ` +
          `pickup p50 ${window.pickupP50.toFixed(1)} p99 ${window.pickupP99.toFixed(1)} ms, dead ${window.deadTuples}, ` +
          `${window.tableMb.toFixed(1)} MB, db CPU ${window.dbCpuPercent.toFixed(0)}%, worker CPU ${window.workerCpuPercent.toFixed(0)}%`,
      )
      last = { at, enqueued: result.enqueued, completed: worker.completed, workerTicks }
    }
    if (phase === 'held' && holder) {
      if (options.explain && candidate) result.explain = await explainClaim(candidate, databaseUrl)
      await holder.query('ROLLBACK')
      await holder.end()
      holder = null
    }
  }

  stopped = true
  await Promise.all(background)
  if (producerError) throw producerError
  const drainStart = performance.now()
  while (worker.completed < result.enqueued) {
    worker.throwIfFailed()
    if (performance.now() - drainStart > options.drainTimeout * 1000)
      throw new Error(
        `did not drain in ${options.drainTimeout} s: ${result.enqueued - worker.completed} jobs left`,
      )
    await sleep(50)
  }
  result.drainSeconds = (performance.now() - drainStart) / 1000
  await worker.stop()
  result.completed = worker.completed
  result.duplicates = worker.duplicates
  append(result.latencies.recovery, worker.takeLatencies())
}

function phaseSeconds(options: PressureOptions, phase: Phase): number {
  return { warmup: options.warmup, clean: options.clean, held: options.hold, recovery: options.recovery }[
    phase
  ]
}

async function sleepUnless(stop: () => boolean, ms: number): Promise<void> {
  const until = performance.now() + ms
  while (!stop() && performance.now() < until) await sleep(Math.min(100, until - performance.now()))
}

/**
 * EXPLAIN (ANALYZE, BUFFERS) of the claim the candidate's worker would run next, on a claim-session
 * connection in a transaction that is rolled back (the jobs it locks are skipped by the worker
 * meanwhile and stay waiting).
 */
async function explainClaim(candidate: Candidate, databaseUrl: string): Promise<string> {
  const client = new pg.Client({
    connectionString: databaseUrl,
    options: `-c jit=off ${CLAIM_SESSION_SETTINGS}`,
  })
  client.on('error', () => {})
  await client.connect()
  try {
    const { text, values } = candidate.openClaimer('bench-explain').nextClaim(100)
    await client.query('BEGIN')
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${text}`,
      values,
    )
    return rows.map((r) => r['QUERY PLAN']).join('\n')
  } finally {
    await client.query('ROLLBACK').catch(() => {})
    await client.end().catch(() => {})
  }
}

/** The worker process of one run (see worker-child.ts). */
class WorkerProcess {
  readonly #child: ChildProcess
  #latencies: number[] = []
  #error: string | null = null
  #messages = new Set<string>()
  #progressCount = 0
  completed = 0
  duplicates = 0

  private constructor(child: ChildProcess) {
    this.#child = child
    liveChildren.add(child)
    let output = ''
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-2000)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    child.on('message', (raw) => {
      const m = raw as WorkerToParent
      this.#messages.add(m.type)
      if (m.type === 'progress') {
        this.#progressCount++
        append(this.#latencies, m.latencies)
        this.completed = m.completed
        this.duplicates = m.duplicates
      } else if (m.type === 'error') this.#error ??= `worker: ${m.message}`
    })
    child.on('exit', (code, signal) => {
      liveChildren.delete(child)
      if (!this.#messages.has('stopped'))
        this.#error ??= `worker exited (code ${code}, signal ${signal}): ${output.trim().split('\n').slice(-5).join(' | ')}`
    })
  }

  static async spawn(system: string, databaseUrl: string, handlerMs: number): Promise<WorkerProcess> {
    const child = fork(CHILD, [system, databaseUrl, String(handlerMs)], {
      cwd: REPO_ROOT,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    const worker = new WorkerProcess(child)
    await worker.#waitFor('loaded', 60_000)
    return worker
  }

  async start(): Promise<void> {
    this.#child.send({ type: 'start' })
    await this.#waitFor('started', 60_000)
  }

  async stop(): Promise<void> {
    this.#child.send({ type: 'stop' })
    await this.#waitFor('stopped', 60_000)
  }

  /** Asks for the worker's counts now and waits for them (reports otherwise lag up to 250 ms). */
  async refresh(): Promise<void> {
    const before = this.#progressCount
    this.#child.send({ type: 'report' })
    const until = performance.now() + 10_000
    while (this.#progressCount === before && performance.now() < until) {
      this.throwIfFailed()
      await sleep(1)
    }
  }

  /** The latencies received since the last call. */
  takeLatencies(): number[] {
    const taken = this.#latencies
    this.#latencies = []
    return taken
  }

  /** CPU time of the worker process so far, in clock ticks. */
  cpuTicks(): number {
    return cpuTicks(this.#child.pid ?? -1) ?? Number.NaN
  }

  throwIfFailed(): void {
    if (this.#error) throw new Error(this.#error)
  }

  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL')
    liveChildren.delete(this.#child)
  }

  async #waitFor(type: string, timeoutMs: number): Promise<void> {
    const until = performance.now() + timeoutMs
    while (!this.#messages.has(type)) {
      this.throwIfFailed()
      if (performance.now() > until) throw new Error(`worker did not send '${type}' in ${timeoutMs / 1000} s`)
      await sleep(20)
    }
  }
}

/** Appends without spreading (a drain of a large backlog reports more latencies than a call takes arguments). */
function append(target: number[], source: readonly number[]): void {
  for (const value of source) target.push(value)
}
