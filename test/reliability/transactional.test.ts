/**
 * Transactional execution under concurrency and injected failures: two queues (as two processes
 * would) run many `transactional: true` jobs at once; each attempt writes a row through `ctx.tx`,
 * then some attempts throw, run past their timeout, lose their connection (`pg_terminate_backend`
 * on the transaction's own backend) or are cancelled by an operator while they run. Afterwards a
 * row exists exactly for each succeeded job (one row, of the succeeded attempt) and for no failed
 * attempt, no cancelled job and no job out of attempts.
 */
import pg from 'pg'
import { afterEach, beforeAll, expect, it } from 'vitest'
import { createPostgresQueue, type PostgresQueue } from '../../src/adapters/postgres/index.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { databaseUrl, describePostgres, useStore } from '../postgres/fixture.js'
import { byScale, writeScenarioResult } from '../support/reliability-results.js'
import { waitFor } from '../support/wait.js'

type Fault = 'none' | 'throw' | 'timeout' | 'kill-connection' | 'cancel'

/** The fault of attempt `attempt` of job `i`: fixed by a hash, so a run is reproducible. */
function faultOf(i: number, attempt: number): Fault {
  let h = (i * 2654435761 + attempt * 40503) >>> 0
  h = (h ^ (h >>> 15)) * 2246822519
  const r = ((h ^ (h >>> 13)) >>> 0) % 100
  if (attempt === 1 && i % 23 === 0) return 'cancel'
  if (r < 15) return 'throw'
  if (r < 20) return 'timeout'
  if (r < 28) return 'kill-connection'
  return 'none'
}

const TIMEOUT_MS = 400
const work = defineJob<{ i: number }>({
  kind: 'tx-reliability',
  maxAttempts: 8,
  timeoutMs: TIMEOUT_MS,
  backoff: { baseMs: 10, factor: 2, maxMs: 200, jitter: 0.1 },
})

describePostgres('transactional execution under concurrency and injected failures', () => {
  const db = useStore()
  const rows = () => `"${db.schema}".tx_effects`
  let queues: { queue: PostgresQueue; pool: pg.Pool }[] = []

  beforeAll(async () => {
    await db.pool.query(
      `CREATE TABLE IF NOT EXISTS ${rows()} (job_id bigint NOT NULL, attempt int NOT NULL, worker text NOT NULL)`,
    )
  })
  afterEach(async () => {
    for (const { queue, pool } of queues) {
      await queue.shutdown({ graceMs: 2000 })
      await pool.end()
    }
    queues = []
  })

  it('keeps a handler’s writes exactly for the succeeded runs, one per job', {
    timeout: byScale({ short: 120_000, long: 1_200_000 }),
  }, async () => {
    const started = performance.now()
    const jobs = byScale({ short: 800, long: 20_000 })
    const injected: Record<Fault, number> = { none: 0, throw: 0, timeout: 0, 'kill-connection': 0, cancel: 0 }
    for (const name of ['tx-a', 'tx-b']) {
      const pool = new pg.Pool({ connectionString: databaseUrl(), max: 12 })
      pool.on('error', () => {})
      const queue = createPostgresQueue({
        pool,
        schema: db.schema,
        processId: name,
        workers: [{ name: 'tx', queues: ['default'], concurrency: 8, transactional: true }],
        pollIntervalMs: 100,
        prefetch: 8,
        maintenance: { heartbeatIntervalMs: 200, rescueAfterMs: 30_000, rescueIntervalMs: 1000 },
        scheduler: { enabled: false },
      })
      queue.register(work, async ({ i }, ctx) => {
        await ctx.tx!.query(`INSERT INTO ${rows()} (job_id, attempt, worker) VALUES ($1, $2, $3)`, [
          ctx.job.id,
          ctx.attempt,
          name,
        ])
        const fault = faultOf(i, ctx.attempt)
        injected[fault]++
        switch (fault) {
          case 'throw':
            throw new Error('injected failure after the write')
          case 'timeout':
            // Runs past its timeout; the late query must not land anywhere.
            await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }))
            await ctx.tx!.query(`INSERT INTO ${rows()} (job_id, attempt, worker) VALUES ($1, $2, 'late')`, [
              ctx.job.id,
              ctx.attempt,
            ])
            return
          case 'kill-connection': {
            const { rows: backend } = (await ctx.tx!.query('SELECT pg_backend_pid() AS pid')) as {
              rows: { pid: number }[]
            }
            await pool.query('SELECT pg_terminate_backend($1)', [backend[0]!.pid])
            return
          }
          case 'cancel':
            await queue.cancelJobs({ ids: [ctx.job.id] })
            return
          case 'none':
            return
        }
      })
      queues.push({ queue, pool })
    }
    const producer = queues[0]!.queue
    for (let start = 0; start < jobs; start += 1000) {
      const n = Math.min(1000, jobs - start)
      await producer.enqueueMany(
        Array.from({ length: n }, (_, k) => ({ job: work, payload: { i: start + k } })),
      )
    }
    await Promise.all(queues.map(({ queue }) => queue.start()))

    const jobsTable = db.everyJob
    const finished = async () =>
      (
        await db.pool.query(
          `SELECT count(*)::int AS n FROM ${jobsTable} WHERE state IN ('succeeded', 'failed', 'cancelled')`,
        )
      ).rows[0].n
    await waitFor(async () => (await finished()) === jobs, {
      timeoutMs: byScale({ short: 90_000, long: 900_000 }),
      message: `all ${jobs} jobs to finish`,
    })

    const perJob = (
      await db.pool.query(
        `SELECT j.id, j.state, j.attempt, count(r.job_id)::int AS n, min(r.attempt) AS row_attempt,
                bool_or(r.worker = 'late') AS late
         FROM ${jobsTable} j LEFT JOIN ${rows()} r ON r.job_id = j.id GROUP BY j.id, j.state, j.attempt`,
      )
    ).rows as {
      id: string
      state: string
      attempt: number
      n: number
      row_attempt: number | null
      late: boolean
    }[]
    const succeeded = perJob.filter((j) => j.state === 'succeeded')
    const missing = succeeded.filter((j) => j.n === 0)
    const doubledRows = succeeded.filter((j) => j.n > 1)
    const wrongAttempt = succeeded.filter((j) => j.n === 1 && j.row_attempt !== j.attempt)
    const rowsOfUnsucceeded = perJob.filter((j) => j.state !== 'succeeded' && j.n > 0)
    const lateRows = perJob.filter((j) => j.late)
    const byState = Object.fromEntries(
      ['succeeded', 'failed', 'cancelled'].map((s) => [s, perJob.filter((j) => j.state === s).length]),
    )
    const faults = injected.throw + injected.timeout + injected['kill-connection'] + injected.cancel
    writeScenarioResult({
      scenario: 'transactional',
      rounds: 1,
      faultsInjected: faults,
      jobs,
      lost: jobs - perJob.length + missing.length,
      doubled: doubledRows.length + wrongAttempt.length + rowsOfUnsucceeded.length + lateRows.length,
      durationMs: Math.round(performance.now() - started),
      notes:
        'Two queues x 8 concurrent transactional jobs; each attempt writes a row via ctx.tx, then (by a fixed hash) throws, runs past its 400 ms timeout and writes again late, has its own backend terminated, is cancelled while running, or succeeds. doubled counts extra rows of succeeded jobs, rows of another attempt, rows of jobs that did not succeed, and late writes that landed.',
      injected,
      finalStates: byState,
      rowsOfUnsucceeded: rowsOfUnsucceeded.length,
      lateWritesLanded: lateRows.length,
    })
    expect(perJob).toHaveLength(jobs)
    expect(missing).toEqual([])
    expect(doubledRows).toEqual([])
    expect(wrongAttempt).toEqual([])
    expect(rowsOfUnsucceeded).toEqual([])
    expect(lateRows).toEqual([])
    expect(injected.throw).toBeGreaterThan(0)
    expect(injected.timeout).toBeGreaterThan(0)
    expect(injected['kill-connection']).toBeGreaterThan(0)
    expect(byState.cancelled).toBeGreaterThan(0)
  })
})
