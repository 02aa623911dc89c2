/**
 * The worker child process of the benchmark: builds one system's worker with a no-op handler,
 * starts it on the parent's `start`, counts every handler run per job (to check exactly-once), and
 * on `stop` shuts the worker down and reports what it saw. Only the measured system's library is
 * loaded here, so the peak RSS read from this process belongs to that system.
 */
import { readFileSync } from 'node:fs'
import type { ChildMessage, ChildReport, ParentMessage, WorkerSpec } from './lib/types.js'
import { loadConsumerFactory } from './systems/consumers.js'

const STOP_TIMEOUT_MS = 15_000

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve()
    process.send(message, undefined, {}, () => resolve())
  })
}

function peakRssKb(): number | null {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'))
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as WorkerSpec
  const counts = new Uint32Array(spec.n)
  const stamps: (number | null)[] | null = spec.stamps ? new Array(spec.n).fill(null) : null
  let handled = 0
  let warmups = 0
  let announced = false

  const onJob = (i: number): void => {
    if (stamps && i >= 0 && i < spec.n && stamps[i] === null)
      stamps[i] = performance.timeOrigin + performance.now()
    if (i < 0 || i >= spec.n) {
      warmups++
      return
    }
    counts[i]!++
    handled++
    if (!announced && handled >= spec.n) {
      announced = true
      void send({ type: 'handled-all' })
    }
  }

  const createConsumer = await loadConsumerFactory(spec.system)
  let consumer: Awaited<ReturnType<typeof createConsumer>> | undefined
  let stopping = false

  process.on('message', (raw) => {
    const message = raw as ParentMessage
    if (message.type === 'start') {
      void (async () => {
        consumer = await createConsumer(spec.target, spec.config, onJob)
        await consumer.start()
        await send({ type: 'started' })
      })().catch(fail)
    } else if (message.type === 'stop' && !stopping) {
      stopping = true
      void (async () => {
        let stopTimedOut = false
        if (consumer) {
          const stopped = await Promise.race([
            consumer.stop().then(() => true),
            new Promise<false>((resolve) => setTimeout(() => resolve(false), STOP_TIMEOUT_MS).unref()),
          ])
          stopTimedOut = !stopped
        }
        let distinct = 0
        let duplicated = 0
        for (const c of counts) {
          if (c > 0) distinct++
          if (c > 1) duplicated++
        }
        const report: ChildReport = {
          handled,
          distinct,
          duplicated,
          warmups,
          stamps,
          peakRssKb: peakRssKb(),
          stopTimedOut,
        }
        await send({ type: 'stopped', report })
        process.exit(0)
      })().catch(fail)
    }
  })
  // The parent is gone: nothing will ever stop this worker, so leave at once.
  process.on('disconnect', () => process.exit(1))
  await send({ type: 'loaded' })
}

function fail(error: unknown): void {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error)
  void send({ type: 'error', message }).finally(() => process.exit(1))
}

process.on('uncaughtException', fail)
process.on('unhandledRejection', fail)
main().catch(fail)
