/**
 * The worker process of the pressure scenario: one system's worker at concurrency 10 with a 1 ms
 * handler. Each handler start is stamped against the insert time carried in the payload (pickup
 * latency, `performance.timeOrigin + performance.now()` in both processes); every 250 ms the
 * process sends the parent the latencies since the last report and its running counts.
 * Systems: `conveyor` (the current adapter on its defaults), `conveyor-front` (the same with every
 * claim from the front of the claim index), `graphile-worker` (its best-tuned
 * configuration from `bench/systems/configs.ts`), or a storage candidate's id (the minimal worker).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { type RunnerOptions, run } from 'graphile-worker'
import { createPostgresQueue } from '../../src/adapters/postgres/index.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { candidateById } from '../candidates/registry.js'
import { CONCURRENCY, GRAPHILE_BEST_LOCAL_QUEUE } from '../systems/configs.js'
import { CONVEYOR_SCHEMA } from '../systems/conveyor.js'
import { silentLogger } from '../systems/graphile-worker.js'
import { startMinimalWorker } from './minimal-worker.js'
import type { PressurePayload, WorkerToParent } from './protocol.js'

const REPORT_MS = 250
/** The minimal worker's local buffer (Conveyor's adaptive prefetch starts at 100). */
const MINIMAL_PREFETCH = 100

const [system, databaseUrl, handlerMsArg] = process.argv.slice(2) as [string, string, string]
const handlerMs = Number(handlerMsArg)

let latencies: number[] = []
let started = 0
let completed = 0
let duplicates = 0
let seen = new Uint8Array(1 << 16)

const send = (message: WorkerToParent) => process.send?.(message)

function onStart(raw: unknown): void {
  const payload = raw as PressurePayload
  latencies.push(performance.timeOrigin + performance.now() - payload.t)
  started++
  if (payload.i >= seen.length) {
    const grown = new Uint8Array(Math.max(seen.length * 2, payload.i + 1))
    grown.set(seen)
    seen = grown
  }
  if (seen[payload.i]) duplicates++
  seen[payload.i] = 1
}

const fail = (error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  setTimeout(() => process.exit(1), 100)
}

async function startWorker(): Promise<() => Promise<void>> {
  if (system === 'conveyor' || system === 'conveyor-front') {
    const job = defineJob<PressurePayload>({ kind: 'noop' })
    const queue = createPostgresQueue({
      connectionString: databaseUrl,
      schema: CONVEYOR_SCHEMA,
      queues: { default: { concurrency: CONCURRENCY } },
      // `conveyor-front`: every claim from the front of the claim index (the claim before the cursor).
      ...(system === 'conveyor-front' ? { claimCursor: { fullScanIntervalMs: 0 } } : {}),
    })
    queue.register(job, async (payload) => {
      onStart(payload)
      await sleep(handlerMs)
      completed++
    })
    await queue.start()
    return () => queue.shutdown()
  }
  if (system === 'graphile-worker') {
    const options: RunnerOptions = {
      connectionString: databaseUrl,
      concurrency: CONCURRENCY,
      noHandleSignals: true,
      logger: silentLogger,
      maxPoolSize: CONCURRENCY + 1,
      preset: {
        worker: {
          localQueue: { size: GRAPHILE_BEST_LOCAL_QUEUE },
          completeJobBatchDelay: 0,
          failJobBatchDelay: 0,
        },
      },
      taskList: {
        noop: async (payload) => {
          onStart(payload)
          await sleep(handlerMs)
          completed++
        },
      },
    }
    const runner = await run(options)
    return () => runner.stop()
  }
  const worker = await startMinimalWorker(
    candidateById(system),
    databaseUrl,
    { concurrency: CONCURRENCY, prefetch: MINIMAL_PREFETCH, handlerMs },
    {
      onStart,
      onCompleted: (n) => {
        completed += n
      },
      onError: fail,
    },
  )
  return () => worker.stop()
}

let stop: (() => Promise<void>) | null = null
const reporter = setInterval(() => {
  send({ type: 'progress', latencies, started, completed, duplicates })
  latencies = []
}, REPORT_MS)

process.on('message', (message: { type: string }) => {
  if (message.type === 'report') {
    send({ type: 'progress', latencies, started, completed, duplicates })
    latencies = []
  } else if (message.type === 'start') {
    startWorker()
      .then((s) => {
        stop = s
        send({ type: 'started' })
      })
      .catch(fail)
  } else if (message.type === 'stop') {
    void (async () => {
      await stop?.()
      clearInterval(reporter)
      send({ type: 'progress', latencies, started, completed, duplicates })
      send({ type: 'stopped' })
      setTimeout(() => process.exit(0), 100)
    })().catch(fail)
  }
})
process.on('disconnect', () => process.exit(1))
process.on('uncaughtException', fail)
process.on('unhandledRejection', fail)
send({ type: 'loaded' })
