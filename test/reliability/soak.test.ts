/**
 * Load soak (issue 9): a producer process enqueues a steady stream of jobs while several worker
 * processes drain them, with planned retries and recurring schedules firing throughout. Every attempt
 * is recorded by the handlers, so the outcome is checked from the database: no job lost, none run
 * again after it succeeded, retries exactly as planned, each schedule tick enqueued and run once.
 * Throughput per window, each worker's memory over time and table sizes are measured and written to
 * `reliability-results/soak.json` (and `soak-pruning.json` for the variant that prunes finished jobs
 * during the soak). Only outcomes are asserted, never speed. `RELIABILITY_SCALE=long`: 200,000 jobs.
 */
import type { ChildProcess } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { afterEach, expect, it } from 'vitest'
import { databaseUrl, describePostgres, type StoreFixture, useStore } from '../postgres/fixture.js'
import { exited, startProcess, stopAll } from '../postgres/processes/spawn.js'
import { byScale, reliabilityScale, writeScenarioResult } from '../support/reliability-results.js'
import { waitFor } from '../support/wait.js'
import { expectedRetries, ledgerTablesSql, SCHEDULES, TICK_KIND, WORK_KIND } from './processes/soak-plan.js'

const WORKER = fileURLToPath(new URL('./processes/soak-worker.ts', import.meta.url))
const PRODUCER = fileURLToPath(new URL('./processes/soak-producer.ts', import.meta.url))

/** One soak's size and shape. */
interface SoakConfig {
  readonly scenario: string
  readonly total: number
  readonly workers: number
  readonly concurrency: number
  readonly batch: number
  readonly maxBacklog: number
  /** Prune finished jobs this long after they finished, or keep them all. */
  readonly retentionMs: number | null
  /** Width of a throughput window. */
  readonly windowMs: number
  readonly timeoutMs: number
}

const SOAK: SoakConfig = byScale<SoakConfig>({
  short: {
    scenario: 'soak',
    total: 4000,
    workers: 2,
    concurrency: 10,
    batch: 200,
    maxBacklog: 2000,
    retentionMs: null,
    windowMs: 500,
    timeoutMs: 120_000,
  },
  long: {
    scenario: 'soak',
    total: 200_000,
    workers: 3,
    concurrency: 10,
    batch: 500,
    maxBacklog: 20_000,
    retentionMs: null,
    windowMs: 2000,
    timeoutMs: 3_600_000,
  },
})

const PRUNING: SoakConfig = byScale<SoakConfig>({
  short: { ...SOAK, scenario: 'soak-pruning', total: 3000, retentionMs: 1000 },
  long: { ...SOAK, scenario: 'soak-pruning', total: 50_000, maxBacklog: 10_000, retentionMs: 1000 },
})

/** One memory sample a worker printed. */
interface MemorySample {
  readonly at: number
  readonly rss: number
  readonly heapUsed: number
  /** Heap in use after the last full collection. */
  readonly liveHeap: number
}

/** One sample of the jobs table taken by the test while the soak runs. */
interface TableSample {
  readonly at: number
  readonly rows: number
  readonly bytes: number
  /** Age of the stalest soak worker's heartbeat (a process silent 15 s is taken for dead). */
  readonly heartbeatAgeMs: number
}

/** What the ledger query counts over the committed work jobs and their recorded attempts. */
interface LedgerFigures {
  readonly enqueued: number
  readonly planned_retries: number
  readonly lost: number
  readonly doubled: number
  readonly succeeded_twice: number
  readonly rerun_after_success: number
  readonly irregular: number
  readonly retries: number
}

const MB = 1024 * 1024
const round1 = (n: number) => Math.round(n * 10) / 10
const round2 = (n: number) => Math.round(n * 100) / 100
const mb = (bytes: number) => round1(bytes / MB)

/** Minimum, median and maximum of a list (nulls when empty). */
function spread(values: readonly number[]): {
  min: number | null
  median: number | null
  max: number | null
} {
  if (values.length === 0) return { min: null, median: null, max: null }
  const sorted = [...values].sort((a, b) => a - b)
  return { min: sorted[0]!, median: sorted[Math.floor(sorted.length / 2)]!, max: sorted[sorted.length - 1]! }
}

/** Peak of `pick` over the samples in [from, to). */
function peak<T extends { at: number }>(
  samples: readonly T[],
  from: number,
  to: number,
  pick: (s: T) => number,
) {
  const inside = samples.filter((s) => s.at >= from && s.at < to)
  return { samples: inside.length, peak: inside.length === 0 ? 0 : Math.max(...inside.map(pick)) }
}

/** Throughput figures from the success times: per window, per tenth of the jobs, first vs last quarter. */
function throughput(successTimes: readonly number[], start: number, windowMs: number) {
  const end = successTimes[successTimes.length - 1] ?? start
  const windows: number[] = []
  for (let from = start; from + windowMs <= end; from += windowMs) windows.push(0)
  for (const t of successTimes) {
    const w = Math.floor((t - start) / windowMs)
    if (w < windows.length) windows[w]!++
  }
  const perWindow = windows.map((n) => Math.round((n * 1000) / windowMs))
  const tenth = Math.floor(successTimes.length / 10)
  const perTenth: number[] = []
  for (let k = 0; k < 10 && tenth > 0; k++) {
    const from = k === 0 ? start : successTimes[k * tenth - 1]!
    const to = successTimes[(k + 1) * tenth - 1]!
    perTenth.push(Math.round((tenth * 1000) / Math.max(1, to - from)))
  }
  const quarter = (end - start) / 4
  const count = (from: number, to: number) => successTimes.filter((t) => t >= from && t < to).length
  const firstQuarter = Math.round((count(start, start + quarter) * 1000) / Math.max(1, quarter))
  const lastQuarter = Math.round((count(end - quarter, end + 1) * 1000) / Math.max(1, quarter))
  const w = spread(perWindow)
  return {
    overallPerSec: Math.round((successTimes.length * 1000) / Math.max(1, end - start)),
    windowMs,
    perWindow,
    perWindowSpread: w,
    minOverMedian: w.min !== null && w.median ? round2(w.min / w.median) : null,
    maxOverMedian: w.max !== null && w.median ? round2(w.max / w.median) : null,
    perTenthOfJobs: perTenth,
    firstQuarterPerSec: firstQuarter,
    lastQuarterPerSec: lastQuarter,
    lastOverFirstQuarter: firstQuarter ? round2(lastQuarter / firstQuarter) : null,
  }
}

/** Runs one soak against the fixture's schema and returns its figures (already asserted by the caller). */
async function runSoak(db: StoreFixture, config: SoakConfig, children: ChildProcess[]) {
  const { schema, pool } = db
  const count = async (sql: string, values: unknown[] = []): Promise<number> =>
    Number((await pool.query(sql, values)).rows[0].n)
  await pool.query(ledgerTablesSql(schema))
  const loadAtStart = loadavg()

  // Workers, each printing its memory every 250 ms.
  const memory = new Map<string, MemorySample[]>()
  const events: { worker: string; at: number; line: string }[] = []
  const names = Array.from({ length: config.workers }, (_, n) => `soak-w${n + 1}`)
  await Promise.all(
    names.map(async (name) => {
      const retention = config.retentionMs === null ? 'keep' : String(config.retentionMs)
      const child = await startProcess(WORKER, [
        databaseUrl(),
        schema,
        name,
        String(config.concurrency),
        retention,
      ])
      children.push(child)
      const samples: MemorySample[] = []
      memory.set(name, samples)
      let pending = ''
      child.stdout?.on('data', (chunk: Buffer) => {
        pending += chunk.toString()
        const lines = pending.split('\n')
        pending = lines.pop() ?? ''
        for (const line of lines) {
          const [tag, at, rss, heapUsed, liveHeap] = line.split(' ')
          if (tag === 'event') events.push({ worker: name, at: Date.now(), line: line.slice(6) })
          if (tag === 'mem')
            samples.push({
              at: Number(at),
              rss: Number(rss),
              heapUsed: Number(heapUsed),
              liveHeap: Number(liveHeap),
            })
        }
      })
    }),
  )

  // The jobs table, sampled once a second while the soak runs (a measurement, not a wait). Rows are
  // counted exactly when pruning keeps the table small; else the statistics' estimate (a count would
  // scan the whole table every second and slow the soak it measures).
  const table: TableSample[] = []
  const sampleTable = async () => {
    const { rows } = await pool.query(
      `SELECT ${config.retentionMs === null ? 'n_live_tup' : `(SELECT count(*) FROM ${db.everyJob})`}::int AS rows,
         pg_total_relation_size(relid)::bigint AS bytes,
         (SELECT (extract(epoch FROM max(clock_timestamp() - last_heartbeat_at)) * 1000)::float8
          FROM "${schema}".processes WHERE substring(id FROM '^(.*)-[0-9a-f]{6}$') = ANY($2::text[])) AS heartbeat_age
       FROM pg_stat_user_tables WHERE relid = $1::regclass`,
      [`"${schema}".jobs`, names],
    )
    table.push({
      at: Date.now(),
      rows: rows[0].rows,
      bytes: Number(rows[0].bytes),
      heartbeatAgeMs: Math.round(rows[0].heartbeat_age ?? 0),
    })
  }
  let sampling = Promise.resolve()
  const sampler = setInterval(() => {
    sampling = sampling.then(sampleTable).catch(() => {})
  }, 1000)

  // Production servers run autovacuum; CI servers may not (`autovacuum = off`). Without it the jobs
  // table keeps every dead row version and is never analyzed, so the claim's cached plans stay those
  // made for an empty table (a sequential scan per claim): throughput then falls as the table grows,
  // which measures the server's settings, not Conveyor. Stand in for autovacuum on such servers.
  const autovacuum = (await pool.query('SHOW autovacuum')).rows[0].autovacuum === 'on'
  let standInVacuums = 0
  let vacuuming = Promise.resolve()
  const vacuumer = autovacuum
    ? null
    : setInterval(() => {
        vacuuming = vacuuming
          .then(async () => {
            await pool.query(`VACUUM (ANALYZE) ${db.table('jobs')}`)
            standInVacuums++
          })
          .catch(() => {})
      }, 10_000)

  /** Runs the producer until every job is finished; returns the times that frame the soak. */
  const drive = async () => {
    // The producer: a steady stream, at most `maxBacklog` jobs waiting. The soak starts when it is ready.
    const producer = await startProcess(PRODUCER, [
      databaseUrl(),
      schema,
      String(config.total),
      String(config.batch),
      String(config.maxBacklog),
    ])
    const start = Date.now()
    children.push(producer)
    let producerDone = false
    let producerDoneAt = 0
    const producerExit = exited(producer).then(() => {
      producerDone = true
      producerDoneAt = Date.now()
    })
    await waitFor(
      async () => {
        if (!producerDone) return false
        if (producer.exitCode !== 0)
          throw new Error(`the producer exited with ${producer.exitCode ?? producer.signalCode}`)
        // Two index probes (the claim and running indexes), not a count over the whole table.
        const { rows } = await pool.query(
          `SELECT EXISTS (SELECT 1 FROM ${db.table('jobs')} WHERE queue = 'default' AND state IN ('scheduled', 'available', 'retryable'))
             OR EXISTS (SELECT 1 FROM ${db.table('jobs')} WHERE queue = 'default' AND state = 'running') AS busy`,
        )
        return rows[0].busy === false
      },
      { timeoutMs: config.timeoutMs, message: `all ${config.total} soak jobs to finish` },
    )
    const end = Date.now()
    await producerExit
    // Every schedule fires at least once before the workers stop (short soaks can be shorter than a tick).
    await waitFor(
      async () =>
        (await count(`SELECT count(DISTINCT schedule)::int AS n FROM "${schema}".soak_ticks`)) ===
        SCHEDULES.length,
      { timeoutMs: 60_000, message: 'every schedule to have run a tick' },
    )

    // With pruning, every finished work job goes within the retention (the workers keep pruning).
    let prunedAtEnd: number | null = null
    if (config.retentionMs !== null) {
      await waitFor(
        async () =>
          (await count(`SELECT count(*)::int AS n FROM ${db.everyJob} WHERE kind = $1`, [WORK_KIND])) === 0,
        { timeoutMs: 60_000, message: 'the finished soak jobs to be pruned' },
      )
      prunedAtEnd = Date.now() - end
    }
    return { start, end, producerDoneAt, prunedAtEnd }
  }
  let timing: Awaited<ReturnType<typeof drive>>
  try {
    timing = await drive()
  } finally {
    clearInterval(sampler)
    if (vacuumer) clearInterval(vacuumer)
    await Promise.all([sampling, vacuuming])
  }
  const { start, end, producerDoneAt, prunedAtEnd } = timing
  await stopAll(children)
  const loadAtEnd = loadavg()

  // Work jobs: the ledger of committed enqueues against the recorded attempts.
  const ledger = (
    await pool.query(
      `WITH per AS (
         SELECT e.job_id, e.fail_times,
           count(r.id) FILTER (WHERE r.outcome = 'succeeded') AS s,
           count(r.id) FILTER (WHERE r.outcome = 'failed') AS f,
           count(r.id) AS n, count(DISTINCT r.attempt) AS distinct_attempts, max(r.attempt) AS last_attempt,
           max(r.id) FILTER (WHERE r.outcome = 'succeeded') AS success_run,
           max(r.id) AS last_run
         FROM "${schema}".soak_enqueued e LEFT JOIN "${schema}".soak_runs r USING (job_id)
         GROUP BY e.job_id, e.fail_times)
       SELECT count(*)::int AS enqueued,
         coalesce(sum(fail_times), 0)::int AS planned_retries,
         count(*) FILTER (WHERE s = 0)::int AS lost,
         count(*) FILTER (WHERE s > 1 OR last_run > success_run)::int AS doubled,
         count(*) FILTER (WHERE s > 1)::int AS succeeded_twice,
         count(*) FILTER (WHERE last_run > success_run)::int AS rerun_after_success,
         count(*) FILTER (WHERE f <> fail_times OR n <> fail_times + 1 OR distinct_attempts <> n
           OR last_attempt <> fail_times + 1)::int AS irregular,
         coalesce(sum(f), 0)::int AS retries
       FROM per`,
    )
  ).rows[0] as LedgerFigures
  // How doubled jobs ran (empty when none did): their recorded attempts and what the table says.
  const doubledExamples = (
    await pool.query(
      `SELECT r.job_id::text AS job_id,
         json_agg(json_build_object('attempt', r.attempt, 'worker', r.worker, 'outcome', r.outcome,
           'at', r.at) ORDER BY r.id) AS runs,
         (SELECT json_build_object('state', j.state, 'attempt', j.attempt, 'errors', j.errors)
          FROM ${db.everyJob} j WHERE j.id = r.job_id) AS job
       FROM "${schema}".soak_runs r
       WHERE r.job_id IN (SELECT job_id FROM "${schema}".soak_runs WHERE outcome = 'succeeded'
                          GROUP BY job_id HAVING count(*) > 1 LIMIT 5)
       GROUP BY r.job_id`,
    )
  ).rows
  const rescuedInTable = await count(
    `SELECT count(*)::int AS n FROM ${db.everyJob} WHERE errors @> '[{"name": "WorkerDied"}]'`,
  )
  const stray = await count(
    `SELECT count(*)::int AS n FROM "${schema}".soak_runs r
     WHERE NOT EXISTS (SELECT 1 FROM "${schema}".soak_enqueued e WHERE e.job_id = r.job_id)`,
  )
  const perWorker = Object.fromEntries(
    (
      await pool.query(
        `SELECT worker, count(*)::int AS n FROM "${schema}".soak_runs WHERE outcome = 'succeeded' GROUP BY worker ORDER BY worker`,
      )
    ).rows.map((r) => [r.worker, r.n]),
  )

  // Schedule ticks: those run (recorded by the handler) and those still waiting in the table.
  const tickRuns = (
    await pool.query(
      `SELECT schedule, tick, count(*)::int AS runs FROM "${schema}".soak_ticks GROUP BY schedule, tick`,
    )
  ).rows as { schedule: string; tick: number; runs: number }[]
  const tickJobs = (
    await pool.query(
      `SELECT schedule_name AS schedule, (extract(epoch FROM schedule_tick) * 1000)::float8 AS tick, state,
         count(*) OVER (PARTITION BY schedule_name, schedule_tick)::int AS copies
       FROM ${db.everyJob} WHERE kind = $1`,
      [TICK_KIND],
    )
  ).rows as { schedule: string; tick: number; state: string; copies: number }[]
  const lastTicks = new Map(
    (
      await pool.query(
        `SELECT name, (extract(epoch FROM last_tick_at) * 1000)::float8 AS last FROM ${db.table('schedules')}`,
      )
    ).rows.map((r) => [r.name as string, r.last as number]),
  )
  const schedules = SCHEDULES.map((s) => {
    const runs = tickRuns.filter((r) => r.schedule === s.name)
    const jobs = tickJobs.filter((j) => j.schedule === s.name)
    const ran = new Set(runs.map((r) => r.tick))
    const all = [...new Set([...ran, ...jobs.map((j) => j.tick)])].sort((a, b) => a - b)
    let missing = 0
    for (let k = 1; k < all.length; k++) missing += Math.round((all[k]! - all[k - 1]!) / s.everyMs) - 1
    return {
      name: s.name,
      everyMs: s.everyMs,
      ticks: all.length,
      ticksRun: ran.size,
      ticksWaitingAtEnd: jobs.filter((j) => j.state !== 'succeeded').length,
      ranTwice: runs.filter((r) => r.runs > 1).length,
      enqueuedTwice: jobs.filter((j) => j.copies > 1).length,
      succeededWithoutRun: jobs.filter((j) => j.state === 'succeeded' && !ran.has(j.tick)).length,
      missing,
      offGrid: all.filter((t) => (t - all[0]!) % s.everyMs !== 0).length,
      lastTickIsNewest: all.length > 0 && lastTicks.get(s.name) === all[all.length - 1],
    }
  })

  // Throughput, from the time of each successful attempt.
  const successTimes = (
    await pool.query(
      `SELECT (extract(epoch FROM at) * 1000)::float8 AS t FROM "${schema}".soak_runs WHERE outcome = 'succeeded' ORDER BY at`,
    )
  ).rows.map((r) => r.t as number)

  // Memory of each worker: peak over the soak, and first vs last quarter of it.
  const quarter = (end - start) / 4
  const workersMemory = names.map((name) => {
    const samples = memory.get(name) ?? []
    const first = peak(samples, start, start + quarter, (s) => s.rss)
    const last = peak(samples, end - quarter, end + 1, (s) => s.rss)
    const firstHeap = peak(samples, start, start + quarter, (s) => s.liveHeap)
    const lastHeap = peak(samples, end - quarter, end + 1, (s) => s.liveHeap)
    const during = samples.filter((s) => s.at >= start && s.at <= end)
    const step = Math.max(1, Math.floor(during.length / 20))
    return {
      name,
      samples: during.length,
      peakRssMb: mb(Math.max(0, ...during.map((s) => s.rss))),
      firstQuarterPeakRssMb: mb(first.peak),
      lastQuarterPeakRssMb: mb(last.peak),
      peakHeapUsedMb: mb(Math.max(0, ...during.map((s) => s.heapUsed))),
      firstQuarterPeakLiveHeapMb: mb(firstHeap.peak),
      lastQuarterPeakLiveHeapMb: mb(lastHeap.peak),
      quarterSamples: Math.min(first.samples, last.samples),
      rssMbOverTime: during.filter((_, k) => k % step === 0).map((s) => mb(s.rss)),
      liveHeapMbOverTime: during.filter((_, k) => k % step === 0).map((s) => mb(s.liveHeap)),
    }
  })

  const sizes = (
    await pool.query(
      `SELECT pg_total_relation_size($1::regclass)::bigint AS jobs, pg_total_relation_size($2::regclass)::bigint AS runs,
         (SELECT count(*) FROM ${db.everyJob})::int AS job_rows`,
      [`"${schema}".jobs`, `"${schema}".soak_runs`],
    )
  ).rows[0]
  const firstEnqueued = await count(
    `SELECT (extract(epoch FROM min(created_at)) * 1000)::float8 AS n FROM ${db.everyJob} WHERE kind = $1`,
    [WORK_KIND],
  )
  const step = Math.max(1, Math.floor(table.length / 20))
  return {
    config,
    start,
    end,
    autovacuum: autovacuum
      ? 'server'
      : `off on the server: the test ran VACUUM (ANALYZE) every 10 s (${standInVacuums} times)`,
    startup: {
      firstEnqueueAfterMs: config.retentionMs === null ? Math.round(firstEnqueued - start) : null,
      firstSuccessAfterMs: successTimes.length > 0 ? Math.round(successTimes[0]! - start) : null,
      producerDoneAfterMs: producerDoneAt - start,
    },
    ledger,
    stray,
    faults: {
      rescuedEvents: events.filter((e) => e.line.startsWith('rescued')).length,
      rescuedJobsInTable: config.retentionMs === null ? rescuedInTable : null,
      errorEvents: events.filter((e) => e.line.startsWith('error')).length,
      firstErrors: events
        .filter((e) => e.line.startsWith('error'))
        .slice(0, 10)
        .map((e) => `${e.worker} +${e.at - start} ms: ${e.line.slice(0, 300)}`),
      maxHeartbeatAgeMs: Math.max(0, ...table.map((t) => t.heartbeatAgeMs)),
      doubledExamples,
    },
    perWorker,
    schedules,
    throughput: throughput(successTimes, start, config.windowMs),
    workersMemory,
    table: {
      jobsTableMbAtEnd: mb(Number(sizes.jobs)),
      runsLedgerMbAtEnd: mb(Number(sizes.runs)),
      jobRowsAtEnd: sizes.job_rows as number,
      peakJobRows: Math.max(0, ...table.map((s) => s.rows)),
      peakJobsTableMb: mb(Math.max(0, ...table.map((s) => s.bytes))),
      jobRowsOverTime: table.filter((_, k) => k % step === 0).map((s) => s.rows),
      prunedWithinMsAfterDrain: prunedAtEnd,
    },
    machine: { loadAverageAtStart: loadAtStart.map(round1), loadAverageAtEnd: loadAtEnd.map(round1) },
  }
}

type SoakResult = Awaited<ReturnType<typeof runSoak>>

/** The outcome assertions shared by both variants: nothing lost, nothing doubled, retries and ticks exact. */
function expectExactOutcome(result: SoakResult): void {
  const { config, ledger, faults } = result
  expect(ledger.enqueued).toBe(config.total)
  expect(ledger.lost).toBe(0)
  // No worker dies in the soak, so a second run can only come from a rescue of a live worker whose
  // heartbeat went stale (seen on an overloaded machine): the message says how many and how stale.
  expect(
    ledger.doubled,
    `jobs run again; rescued jobs: ${faults.rescuedEvents}, stalest heartbeat: ${faults.maxHeartbeatAgeMs} ms`,
  ).toBe(0)
  expect(ledger.succeeded_twice).toBe(0)
  expect(ledger.rerun_after_success).toBe(0)
  expect(ledger.irregular).toBe(0)
  expect(result.stray).toBe(0)
  expect(ledger.planned_retries).toBe(expectedRetries(config.total))
  expect(ledger.retries).toBe(expectedRetries(config.total))
  for (const s of result.schedules) {
    expect(s, `schedule ${s.name}`).toMatchObject({
      ranTwice: 0,
      enqueuedTwice: 0,
      succeededWithoutRun: 0,
      missing: 0,
      offGrid: 0,
      lastTickIsNewest: true,
    })
    expect(s.ticksRun, `schedule ${s.name} ran`).toBeGreaterThan(0)
  }
  // Bounded memory: no worker's peak in the last quarter of the soak doubles its first-quarter peak,
  // neither its RSS nor its live heap (measured after a full collection, so garbage does not count).
  for (const w of result.workersMemory) {
    if (w.quarterSamples < 8) continue
    expect(w.lastQuarterPeakRssMb, `${w.name} RSS`).toBeLessThan(2 * w.firstQuarterPeakRssMb)
    expect(w.lastQuarterPeakLiveHeapMb, `${w.name} live heap`).toBeLessThan(2 * w.firstQuarterPeakLiveHeapMb)
  }
}

/** Writes the figures of a soak to `reliability-results/<scenario>.json`. */
function report(result: SoakResult, notes: string): string {
  const { config, ledger } = result
  const ticks = result.schedules.reduce((n, s) => n + s.ticks, 0)
  return writeScenarioResult({
    scenario: config.scenario,
    rounds: 1,
    faultsInjected: ledger.planned_retries,
    jobs: config.total,
    lost: ledger.lost,
    doubled: ledger.doubled,
    durationMs: result.end - result.start,
    notes: `${notes}; autovacuum ${result.autovacuum}; ${config.workers} worker processes x concurrency ${config.concurrency}; ${ledger.retries} planned retries observed (expected ${expectedRetries(config.total)}); ${ticks} schedule ticks each enqueued and run once; ${result.throughput.overallPerSec} jobs/s overall, last/first quarter ${result.throughput.lastOverFirstQuarter}; peak worker RSS ${Math.max(...result.workersMemory.map((w) => w.peakRssMb))} MB`,
    config: {
      workers: config.workers,
      concurrency: config.concurrency,
      producerBatch: config.batch,
      maxBacklog: config.maxBacklog,
      retentionMs: config.retentionMs,
    },
    succeededTwice: ledger.succeeded_twice,
    rerunAfterSuccess: ledger.rerun_after_success,
    irregularAttemptSequences: ledger.irregular,
    retriesExpected: expectedRetries(config.total),
    retriesObserved: ledger.retries,
    runsPerWorker: result.perWorker,
    faults: result.faults,
    schedules: result.schedules,
    throughput: result.throughput,
    startup: result.startup,
    memory: result.workersMemory,
    table: result.table,
    machine: result.machine,
    rerun: `RELIABILITY_SCALE=${reliabilityScale()} npx vitest run test/reliability/soak.test.ts`,
  })
}

describePostgres('load soak: a steady stream across worker processes, with retries and schedules', () => {
  const db = useStore()
  let children: ChildProcess[] = []

  afterEach(async () => {
    await stopAll(children)
    children = []
  })

  it(`runs ${SOAK.total} jobs across ${SOAK.workers} processes: none lost or doubled, retries and ticks exact`, {
    timeout: SOAK.timeoutMs + 120_000,
  }, async () => {
    const result = await runSoak(db, SOAK, children)
    const path = report(result, 'finished jobs kept (no pruning)')
    console.log(`[soak] ${path}: ${JSON.stringify({ ...result.throughput, perWindow: undefined })}`)
    expectExactOutcome(result)
    expect(result.table.jobRowsAtEnd).toBeGreaterThanOrEqual(SOAK.total)
  })

  it(`keeps the jobs table bounded by pruning finished jobs during a ${PRUNING.total}-job soak`, {
    timeout: PRUNING.timeoutMs + 120_000,
  }, async () => {
    const result = await runSoak(db, PRUNING, children)
    const path = report(
      result,
      `finished jobs pruned after ${PRUNING.retentionMs} ms by the workers' maintenance`,
    )
    console.log(`[soak-pruning] ${path}: ${JSON.stringify(result.table)}`)
    expectExactOutcome(result)
    // Every finished work job was pruned (the waiting above); only recent schedule ticks may remain.
    expect(result.table.jobRowsAtEnd).toBeLessThan(PRUNING.total)
    // Over a long soak, pruning runs during the load: the table never held every job at once (it
    // holds the backlog plus about a second of finished jobs). Short soaks are too brief to tell.
    if (reliabilityScale() === 'long') expect(result.table.peakJobRows).toBeLessThan(PRUNING.total / 2)
  })
})
