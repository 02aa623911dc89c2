/**
 * A process for the schedule tests: `node --import tsx schedule-process.ts <url> <schema> <name>`.
 * Registers the same `@every 1s` schedule at boot (as every deploy would) and runs its jobs,
 * recording each run with the tick it stands for and its previous successful tick.
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
  scheduler: { intervalMs: 50 },
  pollIntervalMs: 100,
})
const tick = defineJob<Record<string, never>>({ kind: 'tick' })

queue.register(tick, async (_payload, ctx) => {
  await pool.query(`INSERT INTO "${schema}".ticks (tick, previous, worker) VALUES ($1, $2, $3)`, [
    ctx.schedule?.tick,
    ctx.schedule?.previousSuccessAt,
    name,
  ])
})

await queue.schedule('@every 1s', tick, {}, { name: 'heartbeat-report' })

await serveUntilSigterm(queue, { graceMs: 2000, close: () => pool.end() })
