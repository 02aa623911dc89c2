/**
 * A worker process for the crash tests: `node --import tsx crash-worker.ts <url> <schema> <name>`.
 * Jobs of kind `crash-work` record their run through the job's own transaction (transactional
 * execution), so a committed `runs` row exists exactly for each attempt that succeeded. Kind
 * `poison` kills its own process with SIGKILL. Fast heartbeats and rescue, so tests are quick.
 * Prints `ready` once started; shuts down gracefully on SIGTERM.
 */
import pg from 'pg'
import { createPostgresQueue } from '../../../src/adapters/postgres/index.js'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import { serveUntilSigterm } from '../../support/serve-until-sigterm.js'

const [url, schema, name] = process.argv.slice(2) as [string, string, string]
const pool = new pg.Pool({ connectionString: url, max: 8 })
const queue = createPostgresQueue({
  pool,
  schema,
  processId: name,
  queues: { default: { concurrency: 4 } },
  pollIntervalMs: 100,
  maintenance: { heartbeatIntervalMs: 100, rescueAfterMs: 600, rescueIntervalMs: 100 },
})
const crashWork = defineJob<{ i: number; ms: number }>({ kind: 'crash-work', maxAttempts: 20 })
const poison = defineJob<{ i: number }>({ kind: 'poison', maxAttempts: 3 })

queue.register(
  crashWork,
  async ({ ms }, ctx) => {
    await ctx.tx!.query(`INSERT INTO "${schema}".runs (job_id, worker, attempt) VALUES ($1, $2, $3)`, [
      ctx.job.id,
      name,
      ctx.attempt,
    ])
    // The job's work takes a while, so a SIGKILL often lands mid-handler.
    await new Promise((resolve) => setTimeout(resolve, ms))
  },
  { transactional: true },
)
queue.register(poison, async () => {
  process.kill(process.pid, 'SIGKILL')
  await new Promise(() => {})
})

await serveUntilSigterm(queue, { graceMs: 2000, close: () => pool.end() })
