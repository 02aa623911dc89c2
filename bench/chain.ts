/**
 * A chain of dependent jobs in a busy queue (migration 012, src/adapters/postgres/dependants.ts): a
 * producer enqueues `--rate` unrelated jobs per second, one per statement, into the queue a chain of
 * `--steps` jobs waits in, each step depending on the one before, all enqueued up front. One process,
 * one worker of concurrency 10, defaults otherwise. Reported: per step, the wait from the end of the
 * step before to its own start (the dependant's pickup), and the whole chain's time.
 *
 * The keyset claim's cursor runs ahead of the chain's keys with the unrelated jobs; a dependant is
 * taken at once only when something tells the claim loops where it is (its dependency's completion
 * notifies its key), otherwise at the loop's next full scan (`claimCursor.fullScanIntervalMs`, 1 s).
 *
 *   npx tsx bench/chain.ts --rate 500 --steps 30
 *
 * The database is created fresh and dropped on any exit.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { createPostgresQueue } from '../src/adapters/postgres/index.js'
import { defineJob } from '../src/core/domain/job-definition.js'
import { positiveArg } from './lib/args.js'
import { benchDatabases } from './lib/resources.js'
import { runScript } from './lib/script.js'
import { percentile } from './lib/stats.js'

const SCHEMA = 'conveyor'
const CONCURRENCY = 10

const noise = defineJob<{ n: number }>({ kind: 'noise' })
const step = defineJob<{ i: number }>({ kind: 'step' })

async function main(): Promise<number> {
  const rate = positiveArg('rate', 500)
  const steps = positiveArg('steps', 30)
  const databases = await benchDatabases()
  if (!databases) return 3
  const { url } = await databases.create('chain')
  const queue = createPostgresQueue({
    connectionString: url,
    schema: SCHEMA,
    queues: { default: { concurrency: CONCURRENCY } },
  })
  const started: number[] = []
  const ended: number[] = []
  queue.register(noise, async () => {})
  queue.register(step, async ({ i }) => {
    started[i] = performance.now()
    ended[i] = performance.now()
  })
  let tick: NodeJS.Timeout | undefined
  try {
    await queue.migrate()
    await queue.start()
    let n = 0
    let owed = 0
    tick = setInterval(() => {
      owed += rate / 100
      for (; owed >= 1; owed--) void queue.enqueue(noise, { n: n++ }).catch(() => {})
    }, 10)
    // Let the unrelated traffic run first, so the claim loop's cursor moves with it.
    await sleep(2000)
    let previous: string | undefined
    for (let i = 0; i < steps; i++) {
      const ref = await queue.enqueue(step, { i }, previous === undefined ? {} : { dependsOn: previous })
      previous = ref.id
    }
    const deadline = performance.now() + 5 * 60_000
    while (ended.length < steps || ended.includes(undefined as never)) {
      if (performance.now() > deadline)
        throw new Error(`the chain did not finish: ${ended.length} of ${steps} steps`)
      await sleep(20)
    }
    const waits = started.slice(1).map((at, i) => at - ended[i]!)
    const report = {
      rate,
      steps,
      stepWaitMs: {
        p50: Number(percentile(waits, 50).toFixed(1)),
        p90: Number(percentile(waits, 90).toFixed(1)),
        max: Number(percentile(waits, 100).toFixed(1)),
        mean: Number((waits.reduce((a, b) => a + b, 0) / waits.length).toFixed(1)),
      },
      chainSeconds: Number(((ended[steps - 1]! - started[0]!) / 1000).toFixed(2)),
    }
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
    return 0
  } finally {
    if (tick) clearInterval(tick)
    await queue.shutdown().catch(() => {})
    await databases.dropAll()
  }
}

runScript(main)
