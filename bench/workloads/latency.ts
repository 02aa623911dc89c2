/**
 * W4 pickup latency: a worker child starts and sits idle for 3 s, then the parent enqueues jobs one
 * at a time 20 ms apart. Latency of a job = the handler's start stamp (sent back by the child) minus
 * the parent's stamp taken just before the enqueue call; both are `performance.timeOrigin +
 * performance.now()`. One warm-up job is enqueued before the worker starts, so the producer's
 * first connection is not in the figures.
 */
import { WorkerChild } from '../lib/child.js'
import { type BenchContext, freshTarget, measure, scaled } from '../lib/context.js'
import type { MetricSpec } from '../lib/recorder.js'
import { percentile, sleep, stamp } from '../lib/stats.js'
import type { QueueSystem } from '../lib/types.js'
import { DRIVERS } from '../systems/drivers.js'

const GAP_MS = 20
const METRICS: MetricSpec[] = [
  { metric: 'latency p50', unit: 'ms', better: 'lower' },
  { metric: 'latency p95', unit: 'ms', better: 'lower' },
  { metric: 'latency p99', unit: 'ms', better: 'lower' },
  { metric: 'latency max', unit: 'ms', better: 'lower' },
]

/** Runs W4 for one system and configuration in one round. */
export async function runLatency(
  ctx: BenchContext,
  system: QueueSystem,
  config: string,
  round: number,
): Promise<void> {
  const driver = DRIVERS[system]
  const n = scaled(ctx, 200, 10)
  const idleMs = ctx.options.quick ? 300 : 3000
  await measure(ctx, { workload: 'W4', system, config, round, metrics: METRICS }, 600_000, async (scope) => {
    const target = await freshTarget(ctx, scope, system, driver.backend)
    await driver.prepare(target, config)
    const producer = await driver.openProducer(target, config)
    scope.defer('close producer', () => producer.close())
    await producer.enqueueOne(-1)

    const child = await WorkerChild.spawn(
      ctx.workerScript,
      { system, config, target, n, stamps: true },
      60_000,
    )
    scope.defer('kill worker', () => child.kill())
    child.start()
    await child.waitFor('started', 60_000)
    await sleep(idleMs)

    const sent: number[] = []
    const base = performance.now()
    for (let i = 0; i < n; i++) {
      const wait = base + i * GAP_MS - performance.now()
      if (wait > 0) await sleep(wait)
      sent.push(stamp())
      await producer.enqueueOne(i)
    }
    // A slow consumer (pg-boss on its defaults takes 5 jobs/s) works off the backlog after the last
    // enqueue; its latencies then include that queueing, which is what a user would see.
    await child.waitFor('handled-all', 30_000 + n * 500)
    const report = await child.stop(30_000)
    if (report.duplicated > 0) throw new Error(`${report.duplicated} jobs ran more than once`)
    const latencies: number[] = []
    for (let i = 0; i < n; i++) {
      const started = report.stamps?.[i]
      if (started === null || started === undefined) throw new Error(`job ${i} has no handler stamp`)
      latencies.push(started - sent[i]!)
    }
    return [
      { ...METRICS[0]!, value: percentile(latencies, 50) },
      { ...METRICS[1]!, value: percentile(latencies, 95) },
      { ...METRICS[2]!, value: percentile(latencies, 99) },
      { ...METRICS[3]!, value: Math.max(...latencies) },
    ]
  })
}
