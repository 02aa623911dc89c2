/**
 * The producer of the load soak: `node --import tsx soak-producer.ts <url> <schema> <total> <batch> <maxBacklog>`.
 * Enqueues `total` work jobs in a steady stream of `batch`-sized `enqueueMany` calls, each in a
 * transaction that also writes the jobs' ids to the `soak_enqueued` ledger (so the ledger holds
 * exactly the committed jobs). Keeps at most `maxBacklog` jobs waiting, so workers stay saturated
 * without an unbounded queue. Prints `ready` when it starts; exits 0 when all are enqueued.
 */
import pg from 'pg'
import { createPostgresQueue } from '../../../src/adapters/postgres/index.js'
import { defineJob } from '../../../src/core/domain/job-definition.js'
import { failTimesOf, WORK_BACKOFF, WORK_KIND, WORK_MAX_ATTEMPTS, type WorkPayload } from './soak-plan.js'

const [url, schema, totalArg, batchArg, backlogArg] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
]
const total = Number(totalArg)
const batch = Number(batchArg)
const maxBacklog = Number(backlogArg)

const pool = new pg.Pool({ connectionString: url, max: 3 })
const queue = createPostgresQueue({ pool, schema })
const work = defineJob<WorkPayload>({
  kind: WORK_KIND,
  maxAttempts: WORK_MAX_ATTEMPTS,
  backoff: WORK_BACKOFF,
})

const waiting = async (): Promise<number> =>
  (
    await pool.query(
      `SELECT count(*)::int AS n FROM "${schema}".jobs WHERE queue = 'default' AND state IN ('available', 'retryable', 'scheduled')`,
    )
  ).rows[0].n

process.stdout.write('ready\n')
let next = 0
let pauses = 0
while (next < total) {
  if ((await waiting()) + batch > maxBacklog) {
    pauses++
    // The backlog is seconds of work: checking four times a second keeps it full at little cost.
    await new Promise((resolve) => setTimeout(resolve, 250))
    continue
  }
  const size = Math.min(batch, total - next)
  const items = Array.from({ length: size }, (_, k) => ({
    job: work,
    payload: { i: next + k, failTimes: failTimesOf(next + k) },
  }))
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    const results = await queue.enqueueMany(items, { tx: client })
    await client.query(
      `INSERT INTO "${schema}".soak_enqueued (job_id, fail_times) SELECT * FROM unnest($1::bigint[], $2::int[])`,
      [results.map((r) => r.id), items.map((item) => item.payload.failTimes)],
    )
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK')
    throw error
  } finally {
    client.release()
  }
  next += size
}
process.stdout.write(`done ${next} pauses ${pauses}\n`)
await pool.end()
