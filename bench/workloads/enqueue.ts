/**
 * W1 one-by-one enqueue (each call awaited before the next) and W2 batch enqueue (the library's
 * bulk API, 1,000 jobs a call), timed in the parent on a fresh target after one warm-up call.
 */
import { type BenchContext, freshTarget, measure, scaled } from '../lib/context.js'
import type { MetricSpec } from '../lib/recorder.js'
import type { QueueSystem } from '../lib/types.js'
import { DRIVERS } from '../systems/drivers.js'

const THROUGHPUT: MetricSpec = { metric: 'throughput', unit: 'jobs/s', better: 'higher' }
const BATCH = 1000

/** Runs W1 (`batch` false) or W2 (`batch` true) for one system in one round. */
export async function runEnqueue(
  ctx: BenchContext,
  system: QueueSystem,
  round: number,
  batch: boolean,
): Promise<void> {
  const driver = DRIVERS[system]
  const n = batch ? scaled(ctx, 50_000, 2 * BATCH) : scaled(ctx, 5_000, 50)
  const workload = batch ? 'W2' : 'W1'
  await measure(
    ctx,
    { workload, system, config: 'defaults', round, metrics: [THROUGHPUT] },
    600_000,
    async (scope) => {
      const target = await freshTarget(ctx, scope, system, driver.backend)
      await driver.prepare(target, 'defaults')
      const producer = await driver.openProducer(target, 'defaults')
      scope.defer('close producer', () => producer.close())
      const counter = await driver.openCounter(target)
      scope.defer('close counter', () => counter.close())
      // Warm-up: opens the producer's connections and prepares its statements before the clock runs.
      if (batch) await producer.enqueueMany([-1])
      else await producer.enqueueOne(-1)

      const t0 = performance.now()
      if (batch) {
        for (let start = 0; start < n; start += BATCH) {
          const size = Math.min(BATCH, n - start)
          await producer.enqueueMany(Array.from({ length: size }, (_, k) => start + k))
        }
      } else {
        for (let i = 0; i < n; i++) await producer.enqueueOne(i)
      }
      const seconds = (performance.now() - t0) / 1000

      const stored = await counter.remaining()
      if (stored !== n + 1) throw new Error(`${stored} jobs stored, expected ${n + 1} (with the warm-up job)`)
      return [{ ...THROUGHPUT, value: n / seconds }]
    },
  )
}
