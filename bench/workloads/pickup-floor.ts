/**
 * The W4 shape with no queue runtime, for W0's pickup floors: a child process (`pickup-child.ts`)
 * LISTENs and claims on each notification, the parent enqueues one row every 20 ms after the same
 * idle time as W4. Latency of a row = the child's claim stamp minus the parent's stamp taken just
 * before its enqueue (both `performance.timeOrigin + performance.now()`).
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { MetricSpec } from '../lib/recorder.js'
import { liveChildren } from '../lib/resources.js'
import { percentile, sleep, stamp, withTimeout } from '../lib/stats.js'

const GAP_MS = 20

/** The metrics of a pickup floor (the same names in the raw and the adapter series). */
export const PICKUP_METRICS: readonly [MetricSpec, MetricSpec] = [
  { metric: 'pickup via NOTIFY + claim p50', unit: 'ms', better: 'lower' },
  { metric: 'pickup via NOTIFY + claim p99', unit: 'ms', better: 'lower' },
]

/** The samples of `PICKUP_METRICS` from a run's latencies. */
export function pickupSamples(latencies: readonly number[]) {
  return [
    { ...PICKUP_METRICS[0], value: percentile(latencies, 50) },
    { ...PICKUP_METRICS[1], value: percentile(latencies, 99) },
  ]
}

/** What one pickup measurement runs. */
export interface PickupSpec {
  /** `pickup-child.ts` arguments before the row count: mode, database URL, table or schema. */
  readonly child: readonly [mode: 'raw' | 'adapter', databaseUrl: string, name: string]
  readonly n: number
  readonly idleMs: number
  /** Inserts row `i` and notifies, returning once its statement committed. */
  readonly enqueue: (i: number) => Promise<void>
}

/** Runs one pickup measurement; returns the `n` latencies in ms, in enqueue order. */
export async function pickupLatencies(spec: PickupSpec): Promise<number[]> {
  const script = fileURLToPath(new URL('./pickup-child.ts', import.meta.url))
  // The child's stderr shows in the harness's output, so a crash at start-up says why.
  const child = fork(script, [...spec.child, String(spec.n)], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  liveChildren.add(child)
  const messages: unknown[] = []
  let wake = () => {}
  child.on('message', (m) => {
    messages.push(m)
    wake()
  })
  child.on('error', (error) => {
    messages.push({ error: error.message })
    wake()
  })
  child.on('exit', () => wake())
  /** Resolves with the first message `pick` accepts; rejects on an error message or an exit. */
  const next = <T>(pick: (m: unknown) => T | undefined, ms: number, what: string) =>
    withTimeout(
      new Promise<T>((resolve, reject) => {
        const check = () => {
          for (const m of messages) {
            const error = (m as { error?: string } | null)?.error
            if (error) return reject(new Error(`pickup child: ${error}`))
            const value = pick(m)
            if (value !== undefined) return resolve(value)
          }
          if (child.exitCode !== null || child.signalCode !== null)
            reject(new Error(`pickup child exited before ${what}`))
        }
        wake = check
        check()
      }),
      ms,
      what,
    )
  try {
    await next((m) => (m === 'ready' ? true : undefined), 30_000, 'pickup child start')
    // Warm-up: the first round trip of each connection is not in the figures.
    await spec.enqueue(-1)
    await next((m) => (m === 'warm' ? true : undefined), 10_000, 'warm-up pickup')
    await sleep(spec.idleMs)

    const sent: number[] = []
    const base = performance.now()
    for (let i = 0; i < spec.n; i++) {
      const wait = base + i * GAP_MS - performance.now()
      if (wait > 0) await sleep(wait)
      sent.push(stamp())
      await spec.enqueue(i)
    }
    const stamps = await next(
      (m) => (m as { stamps?: Record<number, number> } | null)?.stamps,
      30_000,
      'pickups',
    )
    return sent.map((at, i) => stamps[i]! - at)
  } finally {
    child.kill()
    liveChildren.delete(child)
  }
}
