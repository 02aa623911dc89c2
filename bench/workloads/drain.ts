/**
 * W3 drain, W5 peak RSS and W6 drain with retained finished rows. A drain enqueues N jobs in bulk,
 * runs VACUUM ANALYZE, then starts one worker child at concurrency 10 and times from `start` to the
 * moment the parent's count query sees no unfinished job. The parent polls every 100 ms until the
 * child says every handler ran, then every 2 ms (so the polling does not load the database during
 * the drain, and the end is still seen within a few ms). A drain not done within its budget reports
 * the rate of the jobs done so far, marked partial.
 */
import { WorkerChild } from '../lib/child.js'
import { type BenchContext, freshTarget, measure, type Sample, type Scope, scaled } from '../lib/context.js'
import type { MetricSpec } from '../lib/recorder.js'
import { sleep, stamp } from '../lib/stats.js'
import type { QueueSystem } from '../lib/types.js'
import { DRIVERS } from '../systems/drivers.js'
import { runSql } from '../systems/pg-counter.js'

const BATCH = 1000
const THROUGHPUT: MetricSpec = { metric: 'throughput', unit: 'jobs/s', better: 'higher' }
const PEAK_RSS: MetricSpec = { metric: 'peak RSS', unit: 'MB', better: 'lower' }

/** What one drain measured. */
export interface DrainResult {
  readonly rate: number
  readonly partial: boolean
  readonly peakRssMb: number | null
  readonly seconds: number
}

/** Enqueues `n` jobs (plus `retained` finished rows), drains them in a worker child, and checks them. */
export async function drainOnce(
  ctx: BenchContext,
  scope: Scope,
  system: QueueSystem,
  config: string,
  n: number,
  retained = 0,
): Promise<DrainResult> {
  const driver = DRIVERS[system]
  const budgetMs = ctx.options.quick ? 2_000 : 30_000
  const target = await freshTarget(ctx, scope, system, driver.backend)
  await driver.prepare(target, config)
  const producer = await driver.openProducer(target, config)
  for (let start = 0; start < n; start += BATCH) {
    const size = Math.min(BATCH, n - start)
    await producer.enqueueMany(Array.from({ length: size }, (_, k) => start + k))
  }
  await producer.close()
  if (retained > 0) {
    if (!driver.insertRetained) throw new Error(`${system} cannot insert retained rows`)
    await driver.insertRetained(target, retained)
  }
  if (target.databaseUrl) await runSql(target.databaseUrl, 'VACUUM ANALYZE')
  const counter = await driver.openCounter(target)
  scope.defer('close counter', () => counter.close())
  const before = await counter.remaining()
  if (before !== n) throw new Error(`${before} jobs waiting before the drain, expected ${n}`)

  const child = await WorkerChild.spawn(
    ctx.workerScript,
    { system, config, target, n, stamps: false },
    60_000,
  )
  scope.defer('kill worker', () => child.kill())
  const t0 = child.start()
  let left = n
  let t1 = 0
  for (;;) {
    // The count's snapshot is taken when the query starts: that is when the jobs were seen done.
    const asked = stamp()
    left = await counter.remaining()
    t1 = asked
    if (left === 0) break
    if (t1 - t0 > budgetMs) break
    child.throwIfFailed()
    // Until every handler ran, poll every 100 ms but wake at once when the worker says so: a fixed
    // 100 ms sleep overshot the end of a sub-second drain by 50 ms on average.
    if (child.has('handled-all')) await sleep(2)
    else await child.until('handled-all', 100)
  }
  const seconds = (t1 - t0) / 1000
  const peakRssKb = child.peakRssKb()
  const report = await child.stop(30_000)
  const partial = left > 0
  const done = n - left
  if (done === 0)
    throw new Error(`no job finished within ${budgetMs / 1000} s; worker output: ${child.tail()}`)
  if (report.duplicated > 0) throw new Error(`${report.duplicated} jobs ran more than once`)
  if (!partial) {
    if (report.distinct !== n) throw new Error(`the worker ran ${report.distinct} of ${n} jobs`)
    const problem = await counter.verify(n)
    if (problem) throw new Error(`final state: ${problem}`)
  }
  const rss = report.peakRssKb ?? peakRssKb
  return { rate: done / seconds, partial, peakRssMb: rss === null ? null : rss / 1024, seconds }
}

/** Runs W3 and W5 (one drain gives both) for one system and configuration in one round. */
export async function runDrain(
  ctx: BenchContext,
  system: QueueSystem,
  config: string,
  round: number,
  workloads: { throughput: boolean; rss: boolean },
): Promise<void> {
  const n = scaled(ctx, 20_000, 200)
  // W5's figure comes from the same drain; it is recorded under W5 below, not under W3.
  const metrics = workloads.throughput ? [THROUGHPUT] : []
  const budget = ctx.options.quick ? 2 : 30
  let result: DrainResult | null = null
  // One measurement with both metrics: record under W3, then copy the RSS to W5.
  await measure(ctx, { workload: 'W3', system, config, round, metrics }, 900_000, async (scope) => {
    result = await drainOnce(ctx, scope, system, config, n)
    const note = result.partial
      ? `partial: not drained within the ${budget} s budget; rate of the jobs done by then`
      : undefined
    const samples: Sample[] = []
    if (workloads.throughput) samples.push({ ...THROUGHPUT, value: result.rate, note })
    return samples
  })
  if (workloads.rss) {
    const r = result as DrainResult | null
    if (r && r.peakRssMb !== null) {
      ctx.recorder.add(
        {
          workload: 'W5',
          system,
          config,
          ...PEAK_RSS,
          value: r.peakRssMb,
          note: r.partial ? `measured during a partial drain (${budget} s budget)` : undefined,
        },
        round,
      )
    } else {
      ctx.recorder.fail({ workload: 'W5', system, config, metrics: [PEAK_RSS] }, round, 'the drain failed')
    }
  }
}

const EMPTY: MetricSpec = { metric: 'throughput, empty table', unit: 'jobs/s', better: 'higher' }
const RETAINED: MetricSpec = {
  metric: 'throughput, finished rows retained',
  unit: 'jobs/s',
  better: 'higher',
}
const FRACTION: MetricSpec = { metric: 'retained / empty', unit: 'x', better: 'higher' }

/** Runs W6 for one system and configuration in one round: an empty-table drain, then a retained one. */
export async function runRetained(
  ctx: BenchContext,
  system: QueueSystem,
  config: string,
  round: number,
): Promise<void> {
  const n = scaled(ctx, 20_000, 200)
  const retained = scaled(ctx, ctx.options.retained, 1000)
  const metrics = [EMPTY, RETAINED, FRACTION]
  await measure(ctx, { workload: 'W6', system, config, round, metrics }, 1_800_000, async (scope) => {
    const empty = await drainOnce(ctx, scope, system, config, n)
    // The empty run's database is dropped before the retained run builds its own.
    await scope.close()
    const full = await drainOnce(ctx, scope, system, config, n, retained)
    const note = empty.partial || full.partial ? 'partial drain (budget reached)' : undefined
    return [
      { ...EMPTY, value: empty.rate, note },
      {
        ...RETAINED,
        value: full.rate,
        note: `${retained.toLocaleString('en-US')} finished rows in the table`,
      },
      { ...FRACTION, value: full.rate / empty.rate },
    ]
  })
}
