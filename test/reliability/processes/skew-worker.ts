/**
 * A worker process for the clock-skew scenario: `node --import tsx skew-worker.ts <url> <schema> <name>`,
 * started under `faketime` to skew its host clock. It uses the Postgres queue's defaults for time
 * (the database's clock), runs `skew-job` jobs (each records its start in `runs`, then sleeps its
 * payload's `ms`) and registers the `@every 1s` schedule `skew-tick` at boot, as every deploy would.
 * Prints `ready` once started; SIGTERM shuts it down gracefully.
 */
import pg from 'pg'
import { createPostgresQueue } from '../../../src/adapters/postgres/index.js'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import { serveUntilSigterm } from '../../support/serve-until-sigterm.js'

const [url, schema, name] = process.argv.slice(2) as [string, string, string]
/** Rescue settings (the test reads the same): a heartbeat older than 2 s is stale, far less than the ±60 s skew. */
const SKEW_RESCUE = { heartbeatIntervalMs: 200, rescueAfterMs: 2000, rescueIntervalMs: 200 }

const pool = new pg.Pool({ connectionString: url, max: 6 })
pool.on('error', () => {})
const queue = createPostgresQueue({
  pool,
  schema,
  processId: name,
  queues: { default: { concurrency: 2 } },
  prefetch: 0,
  pollIntervalMs: 100,
  scheduler: { intervalMs: 100 },
  maintenance: SKEW_RESCUE,
})
const job = defineJob<{ ms: number }>({ kind: 'skew-job', maxAttempts: 5 })
const tick = defineJob<Record<string, never>>({ kind: 'skew-tick' })

const record = (id: string, attempt: number, tickAt: number | null) =>
  pool.query(`INSERT INTO "${schema}".runs (job_id, worker, attempt, tick) VALUES ($1, $2, $3, $4)`, [
    id,
    name,
    attempt,
    tickAt,
  ])

queue.register(job, async ({ ms }, ctx) => {
  await record(ctx.job.id, ctx.attempt, null)
  await new Promise((resolve) => setTimeout(resolve, ms))
})
queue.register(tick, async (_payload, ctx) => {
  await record(ctx.job.id, ctx.attempt, ctx.schedule?.tick ?? null)
})

queue.on('error', ({ error, during }) =>
  process.stderr.write(`${name}: error during ${during}: ${String(error)}\n`),
)

await queue.schedule('@every 1s', tick, {}, { name: 'skew-tick' })
await serveUntilSigterm(queue, { graceMs: 5000, close: () => pool.end() })
