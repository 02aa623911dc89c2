/**
 * What Conveyor's features cost in its claim and completion, on its own table (issue 19: is it the
 * statements or the table?). `npm run bench:shapes -- [--jobs 50000] [--rounds 2] [--out PATH]` ($BENCH_DATABASE_URL or the
 * local server)
 *
 * On a fresh database migrated by this checkout, one connection claims `jobs` jobs in claims of 100,
 * each followed by its completion, timing each statement from the client, in two shapes, alternating
 * `rounds` times:
 * - `adapter`: the adapter's own `claimJobs` (claim pool session settings, keyset cursor, weights,
 *   group checks) and `completeJobs` (the row moves to `job_history`, dependants and groups woken);
 * - `raw-shaped`: the raw W0 benchmark's statements on the same `jobs` table
 *   (`UPDATE ... WHERE id IN (SELECT ... ORDER BY ... LIMIT 100 FOR UPDATE SKIP LOCKED)`, then an
 *   `UPDATE ... SET state = 'succeeded'` in place).
 * Reports microseconds per job for the claim and the completion of each shape.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import pg from 'pg'
import { claimJobs } from '../src/adapters/postgres/claim.js'
import { CLAIM_SESSION_SETTINGS } from '../src/adapters/postgres/claim-pool.js'
import { completeJobs } from '../src/adapters/postgres/complete.js'
import { insertJobs } from '../src/adapters/postgres/insert-jobs.js'
import { migrate } from '../src/adapters/postgres/migrate.js'
import { sqlNames } from '../src/adapters/postgres/sql-names.js'
import { storeStatements } from '../src/adapters/postgres/statements.js'
import { resolveNewJob } from '../src/core/domain/enqueue-options.js'
import { positiveArg, stringArg } from './lib/args.js'
import { benchDatabases } from './lib/resources.js'
import { runScript } from './lib/script.js'
import { noopJob } from './systems/conveyor.js'

const PER_CLAIM = 100
const SHAPES = ['adapter', 'raw-shaped'] as const

function log(message: string): void {
  process.stderr.write(`[shapes ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

async function main(): Promise<number> {
  const options = {
    jobs: Math.max(PER_CLAIM, Math.round(positiveArg('jobs', 50_000))),
    rounds: Math.round(positiveArg('rounds', 2)),
    out: stringArg('out', 'bench/results/statement-shapes.json'),
  }
  const databases = await benchDatabases()
  if (!databases) return 3
  const results: Record<string, { claimUsPerJob: number[]; completeUsPerJob: number[] }> = {}
  try {
    const db = await databases.create('shapes')
    // One connection each, with the session settings the store's pools give them.
    const mainPool = new pg.Pool({ connectionString: db.url, max: 1, options: '-c jit=off' })
    const claimPool = new pg.Pool({
      connectionString: db.url,
      max: 1,
      options: `-c jit=off ${CLAIM_SESSION_SETTINGS}`,
    })
    for (const pool of [mainPool, claimPool]) pool.on('error', () => {})
    const names = sqlNames('conveyor')
    await migrate(mainPool, names)
    const main = await mainPool.connect()
    const claimer = await claimPool.connect()
    try {
      const sql = storeStatements(names)
      const rawClaim = `UPDATE ${names.jobs} j SET state = 'running', attempt = j.attempt + 1, runs = j.runs + 1,
          attempted_at = now(), attempted_by = 'shapes:raw'
        WHERE j.id IN (SELECT id FROM ${names.jobs} WHERE state IN ('scheduled', 'available', 'retryable')
          AND NOT group_behind AND queue = 'default' AND run_at <= now()
          ORDER BY priority, run_at, id LIMIT ${PER_CLAIM} FOR UPDATE SKIP LOCKED)
        RETURNING j.id::text AS id, j.attempt, j.kind, j.payload`
      const rawComplete = `UPDATE ${names.jobs} SET state = 'succeeded', finished_at = now()
        WHERE id = ANY($1::bigint[]) AND state = 'running'`
      for (let round = 0; round < options.rounds; round++) {
        for (const shape of SHAPES) {
          await main.query(`TRUNCATE ${names.jobs}, ${names.history}`)
          for (let start = 0; start < options.jobs; start += 1000) {
            const now = Date.now()
            const batch = Array.from({ length: Math.min(1000, options.jobs - start) }, (_, k) =>
              resolveNewJob(noopJob, { i: start + k }, {}, now),
            )
            await insertJobs(main, names, sql.insert, batch, now)
          }
          await main.query(`VACUUM ANALYZE ${names.jobs}`)
          let claimMs = 0
          let completeMs = 0
          let done = 0
          for (;;) {
            const t0 = performance.now()
            const jobs: { id: string; attempt: number }[] =
              shape === 'adapter'
                ? await claimJobs(claimer, names, sql.claim, {
                    queues: ['default'],
                    kinds: [noopJob.kind],
                    capacity: PER_CLAIM,
                    strategy: 'priority',
                    oversizedFirst: false,
                    workerId: 'shapes:adapter',
                    now: Date.now(),
                  })
                : (await claimer.query(rawClaim)).rows
            const t1 = performance.now()
            if (jobs.length === 0) break
            if (shape === 'adapter')
              await completeJobs(
                main,
                names,
                sql.complete,
                jobs.map((j) => ({ id: j.id, outcome: 'succeeded' as const, attempt: j.attempt })),
                Date.now(),
              )
            else await main.query(rawComplete, [jobs.map((j) => j.id)])
            completeMs += performance.now() - t1
            claimMs += t1 - t0
            done += jobs.length
          }
          if (done !== options.jobs) throw new Error(`${shape}: ${done} jobs claimed of ${options.jobs}`)
          const perJob = (ms: number) => Math.round((ms * 10_000) / done) / 10
          const entry = results[shape] ?? { claimUsPerJob: [], completeUsPerJob: [] }
          results[shape] = entry
          entry.claimUsPerJob.push(perJob(claimMs))
          entry.completeUsPerJob.push(perJob(completeMs))
          log(
            `round ${round + 1} ${shape}: claim ${perJob(claimMs)} us/job, completion ${perJob(completeMs)} us/job`,
          )
        }
      }
    } finally {
      main.release()
      claimer.release()
      await Promise.all([mainPool.end(), claimPool.end()])
    }
  } finally {
    await databases.dropAll()
  }
  await mkdir(dirname(options.out), { recursive: true })
  await writeFile(options.out, `${JSON.stringify({ options, results }, null, 2)}\n`)
  log(`wrote ${options.out}`)
  return 0
}

runScript(main)
