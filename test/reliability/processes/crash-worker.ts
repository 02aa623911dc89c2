/**
 * A worker process for the crash scenario:
 * `node --import tsx crash-worker.ts <url> <schema> <name> <killPoint> <killAt>`.
 *
 * Kinds: `crash-plain` records each started run with a plain insert (at least once: a run may
 * repeat after a crash); `crash-tx` records its run in the job's own transaction (`ctx.tx`), so a
 * committed row exists exactly for the attempt that succeeded.
 *
 * `killPoint` chooses where this process kills itself with SIGKILL, at its `killAt`-th occurrence:
 * `claim` (a claim statement was just sent, its answer not yet read), `handler` (inside a handler,
 * after its run row was written; for `crash-tx` the transaction is still open), `completion` (a
 * completion statement was just sent), or `none`. The hook wraps `pg.Client#query` in this script
 * only; the library has no test switch. Prints `ready` once started; SIGTERM shuts it down gracefully.
 */
import pg from 'pg'
import { createPostgresQueue } from '../../../src/adapters/postgres/index.js'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import { serveUntilSigterm } from '../../support/serve-until-sigterm.js'

const [url, schema, name, killPoint = 'none', killAtText = '0'] = process.argv.slice(2) as string[]
const killAt = Number(killAtText)
let seen = 0

/** Counts occurrences of the chosen point and dies at the `killAt`-th. */
function reached(point: string): void {
  if (point !== killPoint) return
  seen++
  if (seen === killAt) {
    process.stdout.write(`killing ${point}\n`)
    process.kill(process.pid, 'SIGKILL')
  }
}

// Statements are named `<schema prefix>claim_...` and `<schema prefix>complete...` (see claim.ts, complete.ts).
const original = pg.Client.prototype.query as (...args: unknown[]) => unknown
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const result = original.apply(this, args)
  const statement = (args[0] as { name?: unknown } | null)?.name
  if (typeof statement === 'string') {
    // After the call the statement is on the wire (or in the socket buffer); its answer is not read yet.
    if (/claim_/.test(statement)) setImmediate(() => reached('claim'))
    else if (/complete/.test(statement)) setImmediate(() => reached('completion'))
  }
  return result
} as typeof pg.Client.prototype.query

const pool = new pg.Pool({ connectionString: url, max: 8 })
pool.on('error', () => {})
const queue = createPostgresQueue({
  pool,
  schema: schema!,
  processId: name!,
  queues: { default: { concurrency: 4 } },
  prefetch: 8,
  pollIntervalMs: 100,
  maintenance: { heartbeatIntervalMs: 100, rescueAfterMs: 1000, rescueIntervalMs: 100 },
})
const plain = defineJob<{ i: number; ms: number }>({ kind: 'crash-plain', maxAttempts: 25 })
const transactional = defineJob<{ i: number; ms: number }>({ kind: 'crash-tx', maxAttempts: 25 })

queue.register(plain, async ({ ms }, ctx) => {
  await pool.query(`INSERT INTO "${schema}".runs (job_id, kind, worker, attempt) VALUES ($1, $2, $3, $4)`, [
    ctx.job.id,
    ctx.job.kind,
    name,
    ctx.attempt,
  ])
  reached('handler')
  await new Promise((resolve) => setTimeout(resolve, ms))
})
queue.register(
  transactional,
  async ({ ms }, ctx) => {
    await ctx.tx!.query(
      `INSERT INTO "${schema}".runs (job_id, kind, worker, attempt) VALUES ($1, $2, $3, $4)`,
      [ctx.job.id, ctx.job.kind, name, ctx.attempt],
    )
    reached('handler')
    await new Promise((resolve) => setTimeout(resolve, ms))
  },
  { transactional: true },
)

await serveUntilSigterm(queue, { graceMs: 2000, close: () => pool.end() })
