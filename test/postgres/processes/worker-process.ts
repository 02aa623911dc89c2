/**
 * A worker process for the multi-process tests: `node --import tsx worker-process.ts <url> <schema> <name>`.
 * It records each run in the `runs` table of the schema (start and end, by clock_timestamp()),
 * prints `ready` once started, and shuts down gracefully on SIGTERM.
 */
import pg from 'pg'
import { createPostgresQueue } from '../../../src/adapters/postgres/index.js'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import { serveUntilSigterm } from '../../support/serve-until-sigterm.js'

const [url, schema, name] = process.argv.slice(2) as [string, string, string]
const pool = new pg.Pool({ connectionString: url, max: 4 })
const queue = createPostgresQueue({
  pool,
  schema,
  processId: name,
  queues: { default: { concurrency: 4 } },
  pollIntervalMs: 200,
})
const work = defineJob<{ i: number }>({ kind: 'process-work' })

queue.register(work, async (_payload, ctx) => {
  const run = await pool.query(
    `INSERT INTO "${schema}".runs (job_id, group_key, worker, started_at) VALUES ($1, $2, $3, clock_timestamp()) RETURNING id`,
    [ctx.job.id, ctx.job.groupKey, name],
  )
  await new Promise((resolve) => setTimeout(resolve, ctx.job.groupKey ? 2 : 0))
  await pool.query(`UPDATE "${schema}".runs SET finished_at = clock_timestamp() WHERE id = $1`, [
    run.rows[0].id,
  ])
})

await serveUntilSigterm(queue, { graceMs: 5000, close: () => pool.end() })
