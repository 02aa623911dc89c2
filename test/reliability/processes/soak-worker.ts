/**
 * A worker process of the load soak:
 * `node --import tsx soak-worker.ts <url> <schema> <name> <concurrency> <retentionMs|keep>`.
 * Runs the soak's work jobs (failing the attempts the payload plans) and the schedules' ticks, and
 * records every attempt in `soak_runs` / `soak_ticks` before it returns or throws. Registers the
 * schedules at boot, as every deploy would. Prints `ready` once started, then a line
 * `mem <epoch ms> <rss> <heapUsed> <liveHeap>` every 250 ms, where `liveHeap` is the heap in use
 * right after a full garbage collection (taken every 2 s: what a leak would make grow, unlike
 * `heapUsed`, which also counts garbage not yet collected), and a line `event error <during> <message>`
 * or `event rescued <job id>` for each such queue event. Shuts down gracefully on SIGTERM.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import pg from 'pg'
import { createPostgresQueue } from '../../../src/adapters/postgres/index.js'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import { serveUntilSigterm } from '../../support/serve-until-sigterm.js'
import {
  SCHEDULES,
  TICK_KIND,
  TICK_QUEUE,
  WORK_BACKOFF,
  WORK_KIND,
  WORK_MAX_ATTEMPTS,
  type WorkPayload,
} from './soak-plan.js'

const [url, schema, name, concurrencyArg, retentionArg] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
]
const concurrency = Number(concurrencyArg)
const retentionMs = retentionArg === 'keep' ? null : Number(retentionArg)

const pool = new pg.Pool({ connectionString: url, max: 8 })
// The ledger is the harness, not the system under test: its commits need not wait for the disk.
const ledger = new pg.Pool({
  connectionString: url,
  max: concurrency + 2,
  options: '-c synchronous_commit=off',
})
const queue = createPostgresQueue({
  pool,
  schema,
  processId: name,
  queues: { default: { concurrency }, [TICK_QUEUE]: { concurrency: 2 } },
  pollIntervalMs: 200,
  scheduler: { intervalMs: 100 },
  maintenance:
    retentionMs === null
      ? { retentionMs: null }
      : { retentionMs, pruneIntervalMs: retentionMs, heartbeatIntervalMs: Math.min(500, retentionMs) },
})

const work = defineJob<WorkPayload>({
  kind: WORK_KIND,
  maxAttempts: WORK_MAX_ATTEMPTS,
  backoff: WORK_BACKOFF,
})
const tick = defineJob<{ schedule: string }>({ kind: TICK_KIND, queue: TICK_QUEUE })

queue.register(work, async ({ failTimes }, ctx) => {
  const failing = ctx.attempt <= failTimes
  await ledger.query(
    `INSERT INTO "${schema}".soak_runs (job_id, attempt, worker, outcome) VALUES ($1, $2, $3, $4)`,
    [ctx.job.id, ctx.attempt, name, failing ? 'failed' : 'succeeded'],
  )
  if (failing) throw new Error(`planned failure of attempt ${ctx.attempt} of ${failTimes}`)
})

queue.register(tick, async ({ schedule }, ctx) => {
  await ledger.query(
    `INSERT INTO "${schema}".soak_ticks (schedule, tick, job_id, worker) VALUES ($1, $2, $3, $4)`,
    [schedule, ctx.schedule?.tick, ctx.job.id, name],
  )
})

// Faults the queue reports (reconnects, failed writes) and rescues, for the soak's figures.
queue.on('error', ({ error, during }) => {
  process.stdout.write(
    `event error ${during} ${String((error as Error)?.message ?? error).replace(/\s+/g, ' ')}\n`,
  )
})
queue.on('rescued', ({ jobId }) => {
  process.stdout.write(`event rescued ${jobId}\n`)
})

for (const s of SCHEDULES) await queue.schedule(s.expression, tick, { schedule: s.name }, { name: s.name })

await serveUntilSigterm(queue, { graceMs: 5000, close: () => Promise.all([pool.end(), ledger.end()]) })
// `gc` of a context created after the flag is set (the process was started without --expose-gc).
setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc') as () => void
let liveHeap = 0
let sample = 0
setInterval(() => {
  if (sample++ % 8 === 0) {
    collectGarbage()
    liveHeap = process.memoryUsage().heapUsed
  }
  const m = process.memoryUsage()
  process.stdout.write(`mem ${Date.now()} ${m.rss} ${m.heapUsed} ${liveHeap}\n`)
}, 250).unref()
