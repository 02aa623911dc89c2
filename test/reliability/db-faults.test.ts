/**
 * Database faults: a private PostgreSQL cluster (never the shared server) is restarted mid-drain,
 * stopped while a producer enqueues, and has every Conveyor connection terminated with
 * `pg_terminate_backend` over and over. Two queues (as two worker processes would) keep draining
 * transactional and plain jobs, with the LISTEN listener, the schedule service and maintenance
 * running. Afterwards: every committed job succeeded, the transactional jobs' rows exist exactly
 * once, schedule ticks are unique and keep coming, heartbeats resumed; recovery time is measured.
 */
import pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { JOB_TABLE_COLUMN_LIST } from '../../src/adapters/postgres/history-sql.js'
import { createPostgresQueue, type PostgresQueue } from '../../src/adapters/postgres/index.js'
import { ConveyorError, StorageUnavailableError } from '../../src/core/domain/errors.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import {
  type PrivatePostgres,
  privatePostgresSkipReason,
  startPrivatePostgres,
} from '../support/private-postgres.js'
import { byScale, percentiles, writeScenarioResult } from '../support/reliability-results.js'
import { waitFor } from '../support/wait.js'

const skip = privatePostgresSkipReason()
if (skip) console.warn(`[database fault tests skipped] ${skip}`)
const describeFaults = skip ? describe.skip : describe

const SCHEMA = 'conveyor_faults'
const BACKOFF = { baseMs: 20, factor: 2, maxMs: 400, jitter: 0.1 }
const txWork = defineJob<{ i: number }>({ kind: 'fault-tx', maxAttempts: 100, backoff: BACKOFF })
const plainWork = defineJob<{ i: number }>({ kind: 'fault-plain', maxAttempts: 100, backoff: BACKOFF })
const tick = defineJob<Record<string, never>>({ kind: 'fault-tick', maxAttempts: 100, backoff: BACKOFF })

/** One queue as a worker process would run it, with its own pool, and what it observed. */
interface Runner {
  readonly queue: PostgresQueue
  readonly pool: pg.Pool
  /** Wall-clock times of `succeeded` events. */
  readonly successes: number[]
  /** Succeeded events per job id (a job reported succeeded twice by one runner would show here). */
  readonly succeededIds: Map<string, number>
  backgroundErrors: number
}

describeFaults('database faults on a private PostgreSQL cluster', () => {
  let server: PrivatePostgres
  let admin: pg.Client
  let runners: Runner[] = []

  const count = async (sql: string, values: unknown[] = []): Promise<number> =>
    (await admin.query(sql, values)).rows[0].n

  beforeAll(async () => {
    server = await startPrivatePostgres({ maxConnections: 200 })
    admin = await connectAdmin()
  }, 120_000)

  afterEach(async () => {
    // Also after a failed assertion: a runner left running would work on the next test's schema.
    await Promise.all(runners.map(stopRunner))
    runners = []
  }, 60_000)

  afterAll(async () => {
    await admin?.end().catch(() => {})
    await server?.destroy()
  }, 60_000)

  async function connectAdmin(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: server.url, application_name: 'fault-test-admin' })
    client.on('error', () => {})
    await client.connect()
    return client
  }

  /** Resets the schema and the run tables. */
  async function resetSchema(): Promise<void> {
    await admin.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`)
    const migrator = createPostgresQueue({ connectionString: server.url, schema: SCHEMA })
    await migrator.migrate()
    await migrator.shutdown()
    await admin.query(`CREATE TABLE ${SCHEMA}.tx_runs (job_id bigint NOT NULL, attempt int NOT NULL)`)
    await admin.query(`CREATE TABLE ${SCHEMA}.plain_runs (job_id bigint NOT NULL, attempt int NOT NULL)`)
    // Every transition into `succeeded` is logged by the database itself.
    await admin.query(`CREATE TABLE ${SCHEMA}.success_log (job_id bigint NOT NULL)`)
    await admin.query(`CREATE FUNCTION ${SCHEMA}.log_success() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO ${SCHEMA}.success_log (job_id) VALUES (NEW.id); RETURN NEW; END $$`)
    // A job succeeds by arriving in the history table succeeded (migration 009).
    await admin.query(`CREATE TRIGGER log_success AFTER INSERT ON ${SCHEMA}.job_history FOR EACH ROW
      WHEN (NEW.state = 'succeeded') EXECUTE FUNCTION ${SCHEMA}.log_success()`)
    await admin.query(
      `CREATE VIEW ${SCHEMA}.every_job AS SELECT ${JOB_TABLE_COLUMN_LIST} FROM ${SCHEMA}.jobs UNION ALL SELECT ${JOB_TABLE_COLUMN_LIST} FROM ${SCHEMA}.job_history`,
    )
  }

  async function startRunner(name: string): Promise<Runner> {
    const pool = new pg.Pool({ connectionString: server.url, max: 12, application_name: `conveyor-${name}` })
    const runner: Runner = {
      pool,
      successes: [],
      succeededIds: new Map(),
      backgroundErrors: 0,
      queue: createPostgresQueue({
        pool,
        schema: SCHEMA,
        processId: name,
        workers: [{ name: 'main', queues: ['default'], concurrency: 6 }],
        pollIntervalMs: 500,
        prefetch: 20,
        scheduler: { intervalMs: 100 },
        maintenance: { heartbeatIntervalMs: 200, rescueAfterMs: 60_000, rescueIntervalMs: 500 },
      }),
    }
    // The application owns its pool: it must listen for errors of idle clients (a restart ends them).
    pool.on('error', () => runner.backgroundErrors++)
    const { queue } = runner
    queue.on('error', () => runner.backgroundErrors++)
    queue.on('succeeded', ({ job }) => {
      runner.successes.push(performance.now())
      runner.succeededIds.set(job.id, (runner.succeededIds.get(job.id) ?? 0) + 1)
    })
    queue.register(
      txWork,
      async (_payload, ctx) => {
        await ctx.tx!.query(`INSERT INTO ${SCHEMA}.tx_runs (job_id, attempt) VALUES ($1, $2)`, [
          ctx.job.id,
          ctx.attempt,
        ])
        // A little work, so transactions are open when the connections go away.
        await new Promise((resolve) => setTimeout(resolve, 2))
      },
      { transactional: true },
    )
    queue.register(plainWork, async (_payload, ctx) => {
      await pool.query(`INSERT INTO ${SCHEMA}.plain_runs (job_id, attempt) VALUES ($1, $2)`, [
        ctx.job.id,
        ctx.attempt,
      ])
    })
    queue.register(tick, async () => {})
    await queue.schedule('@every 1s', tick, {}, { name: 'fault-tick' })
    await queue.start()
    runners.push(runner)
    return runner
  }

  async function stopRunner(runner: Runner): Promise<void> {
    await runner.queue.shutdown({ graceMs: 5000 }).catch(() => {})
    await runner.pool.end().catch(() => {})
  }

  async function enqueueJobs(queue: PostgresQueue, n: number): Promise<void> {
    for (let start = 0; start < n; start += 500) {
      const items = []
      for (let i = start; i < Math.min(n, start + 500); i++)
        items.push({ job: i % 2 === 0 ? txWork : plainWork, payload: { i } })
      await queue.enqueueMany(items)
    }
  }

  const succeededCount = () =>
    count(
      `SELECT count(*)::int AS n FROM ${SCHEMA}.every_job WHERE state = 'succeeded' AND kind <> 'fault-tick'`,
    )

  /** Waits until `more` further work jobs have succeeded (progress, not time). */
  async function waitForProgress(more: number, timeoutMs = 60_000): Promise<void> {
    const target = (await succeededCount()) + more
    try {
      await waitFor(async () => (await succeededCount()) >= target, {
        timeoutMs,
        message: `${more} more jobs`,
      })
    } catch (error) {
      // What was going on when progress stopped: job states and the queues' connections.
      const states = await admin.query(
        `SELECT state, count(*)::int AS n FROM ${SCHEMA}.every_job GROUP BY state`,
      )
      const connections = await admin.query(
        `SELECT application_name, state, left(query, 60) AS query, count(*)::int AS n FROM pg_stat_activity
         WHERE application_name LIKE 'conveyor-%' GROUP BY 1, 2, 3 ORDER BY 1`,
      )
      const pools = runners.map((r) => ({
        total: r.pool.totalCount,
        idle: r.pool.idleCount,
        waiting: r.pool.waitingCount,
        successes: r.successes.length,
      }))
      console.error('no progress', { states: states.rows, connections: connections.rows, pools })
      throw error
    }
  }

  /** Waits for `step` more successes, first enqueueing more work if less than two steps are left. */
  async function progressWithWork(queue: PostgresQueue, enqueued: number, step: number): Promise<number> {
    let total = enqueued
    if (total - (await succeededCount()) < 2 * step) {
      await enqueueJobs(queue, 2 * step)
      total += 2 * step
    }
    await waitForProgress(step)
    return total
  }

  /** First success reported by any runner after `since` (performance.now() time), or null. */
  function firstSuccessAfter(since: number): number | null {
    let first: number | null = null
    for (const r of runners)
      for (const t of r.successes) if (t > since && (first === null || t < first)) first = t
    return first
  }

  /** Checks the end state and returns lost/doubled figures. */
  async function verify(jobs: number) {
    const byState = await admin.query(
      `SELECT state, count(*)::int AS n FROM ${SCHEMA}.every_job WHERE kind <> 'fault-tick' GROUP BY state`,
    )
    const notSucceeded = byState.rows.filter((r) => r.state !== 'succeeded').reduce((s, r) => s + r.n, 0)
    const total = byState.rows.reduce((s, r) => s + r.n, 0)
    const txPerJob = await admin.query(
      `SELECT j.id, count(r.job_id)::int AS n FROM ${SCHEMA}.every_job j LEFT JOIN ${SCHEMA}.tx_runs r ON r.job_id = j.id
       WHERE j.kind = 'fault-tx' GROUP BY j.id`,
    )
    const txMissing = txPerJob.rows.filter((r) => r.n === 0).length
    const txDoubled = txPerJob.rows.filter((r) => r.n > 1).length
    const plainDuplicateRuns = await count(
      `SELECT count(*)::int AS n FROM (SELECT job_id FROM ${SCHEMA}.plain_runs GROUP BY job_id HAVING count(*) > 1) d`,
    )
    const plainStartedRuns = await count(`SELECT count(*)::int AS n FROM ${SCHEMA}.plain_runs`)
    // A success reported twice for one job (by any runner) would mean a committed success ran again.
    const reported = new Map<string, number>()
    for (const r of runners)
      for (const [id, n] of r.succeededIds) reported.set(id, (reported.get(id) ?? 0) + n)
    const reportedTwice = [...reported.values()].filter((n) => n > 1).length
    const loggedTwice = await count(
      `SELECT count(*)::int AS n FROM (SELECT job_id FROM ${SCHEMA}.success_log GROUP BY job_id HAVING count(*) > 1) d`,
    )
    const loggedJobs = await count(`SELECT count(DISTINCT job_id)::int AS n FROM ${SCHEMA}.success_log`)
    // The database's own log decides: a 'succeeded' event of a plain job whose completion was then
    // refused (its claim was lost in a server crash, so the job ran again) is at least once, not a double.
    const succeededTwice = loggedTwice
    const tickDuplicates = await count(
      `SELECT count(*)::int AS n FROM (SELECT schedule_tick FROM ${SCHEMA}.every_job WHERE schedule_name = 'fault-tick'
       GROUP BY schedule_tick HAVING count(*) > 1) d`,
    )
    return {
      total,
      lost: jobs - total + notSucceeded + txMissing,
      doubled: txDoubled + succeededTwice + tickDuplicates,
      txDoubled,
      succeededTwice,
      reportedTwice,
      loggedJobs,
      tickDuplicates,
      plainDuplicateRuns,
      plainStartedRuns,
    }
  }

  it('recovers from server restarts mid-drain; an enqueue during the outage fails with a typed error and succeeds when retried', {
    timeout: byScale({ short: 120_000, long: 1_200_000 }),
  }, async () => {
    const started = performance.now()
    await resetSchema()
    const jobs = byScale({ short: 1000, long: 20_000 })
    const restarts = byScale({ short: 2, long: 10 })
    const a = await startRunner('restart-a')
    await startRunner('restart-b')
    await enqueueJobs(a.queue, jobs)
    let enqueuedBefore = jobs
    let enqueuedDuringOutages = 0
    let outageErrors = 0
    const recoveryMs: number[] = []
    const enqueueRetryMs: number[] = []
    for (let round = 0; round < restarts; round++) {
      enqueuedBefore = await progressWithWork(a.queue, enqueuedBefore, Math.floor(jobs / (restarts + 2)))
      // The outage: stop (alternating a clean and a crash-like shutdown), try to enqueue, start again.
      await admin.end().catch(() => {})
      await server.stop(round % 2 === 0 ? 'fast' : 'immediate')
      const failed = await a.queue.enqueue(txWork, { i: jobs + round }).then(
        () => null,
        (error: unknown) => error,
      )
      expect(failed).toBeInstanceOf(StorageUnavailableError)
      expect(failed).toMatchObject({ code: 'STORAGE_UNAVAILABLE' })
      outageErrors++
      await server.start()
      const outageEnd = performance.now()
      admin = await connectAdmin()
      // The caller retries the enqueue that failed; it goes through once the server is back.
      await waitFor(
        async () =>
          a.queue.enqueue(txWork, { i: jobs + round }).then(
            () => true,
            (error: unknown) => {
              if (!(error instanceof ConveyorError)) throw error
              return false
            },
          ),
        { timeoutMs: 30_000, message: 'the retried enqueue to succeed' },
      )
      enqueueRetryMs.push(performance.now() - outageEnd)
      enqueuedDuringOutages++
      const first = await waitFor(() => firstSuccessAfter(outageEnd), {
        timeoutMs: 60_000,
        message: 'a job to complete after the restart',
      })
      recoveryMs.push(first - outageEnd)
    }
    const lastOutageEnd = performance.now()
    const total = enqueuedBefore + enqueuedDuringOutages
    await waitFor(async () => (await succeededCount()) === total, {
      timeoutMs: byScale({ short: 90_000, long: 600_000 }),
      message: `all ${total} jobs to succeed`,
    })
    // The schedule service, maintenance and the LISTEN connection came back too.
    const ticksBefore = await count(
      `SELECT count(*)::int AS n FROM ${SCHEMA}.every_job WHERE schedule_name = 'fault-tick' AND state = 'succeeded'`,
    )
    await waitFor(
      async () =>
        (await count(
          `SELECT count(*)::int AS n FROM ${SCHEMA}.every_job WHERE schedule_name = 'fault-tick' AND state = 'succeeded'`,
        )) >=
        ticksBefore + 2,
      { timeoutMs: 30_000, message: 'schedule ticks to keep firing after the restarts' },
    )
    const heartbeatAge = await count(
      `SELECT (extract(epoch FROM now() - min(last_heartbeat_at)) * 1000)::int AS n FROM ${SCHEMA}.processes WHERE id LIKE 'restart-%'`,
    )
    expect(heartbeatAge).toBeLessThan(30_000)
    await waitFor(
      async () =>
        (await count(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query ILIKE 'LISTEN%' AND application_name LIKE 'conveyor-restart-%'`,
        )) === 2,
      { timeoutMs: 30_000, message: 'both LISTEN connections to be back' },
    )
    const figures = await verify(total)
    const durationMs = Math.round(performance.now() - started)
    writeScenarioResult({
      scenario: 'db-faults-restart',
      rounds: restarts,
      faultsInjected: restarts,
      jobs: total,
      lost: figures.lost,
      doubled: figures.doubled,
      durationMs,
      notes:
        'Private cluster stopped (fast and immediate alternately) mid-drain and started again; two queues (transactional and plain jobs, LISTEN, schedule @every 1s, maintenance) keep running; an enqueue during each outage fails with STORAGE_UNAVAILABLE and is retried. recoveryMs = server back -> first job completed.',
      outageEnqueueErrors: outageErrors,
      recoveryMs: percentiles(recoveryMs),
      enqueueRetryMs: percentiles(enqueueRetryMs),
      drainAfterLastOutageMs: Math.round(performance.now() - lastOutageEnd),
      plainStartedRuns: figures.plainStartedRuns,
      plainJobsRunTwice: figures.plainDuplicateRuns,
      succeededTwice: figures.succeededTwice,
      successEventsTwice: figures.reportedTwice,
      txRowsDoubled: figures.txDoubled,
      tickDuplicates: figures.tickDuplicates,
      backgroundErrors: runners.reduce((s, r) => s + r.backgroundErrors, 0),
    })
    expect(figures.total).toBe(total)
    expect(figures.loggedJobs).toBeGreaterThanOrEqual(total)
    expect(figures.lost).toBe(0)
    expect(figures.doubled).toBe(0)
  })

  it('recovers when every Conveyor connection is terminated with pg_terminate_backend, repeatedly, mid-drain', {
    timeout: byScale({ short: 120_000, long: 1_200_000 }),
  }, async () => {
    const started = performance.now()
    await resetSchema()
    const jobs = byScale({ short: 1000, long: 20_000 })
    const rounds = byScale({ short: 5, long: 30 })
    const a = await startRunner('terminate-a')
    await startRunner('terminate-b')
    await enqueueJobs(a.queue, jobs)
    let enqueued = jobs
    const recoveryMs: number[] = []
    let terminated = 0
    for (let round = 0; round < rounds; round++) {
      enqueued = await progressWithWork(a.queue, enqueued, Math.floor(jobs / (rounds + 3)))
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
         WHERE application_name LIKE 'conveyor-terminate-%' AND pid <> pg_backend_pid()`,
      )
      const at = performance.now()
      terminated += killed.rows.filter((r) => r.ok).length
      const first = await waitFor(() => firstSuccessAfter(at), {
        timeoutMs: 60_000,
        message: 'a job to complete after the connections were terminated',
      })
      recoveryMs.push(first - at)
    }
    await waitFor(async () => (await succeededCount()) === enqueued, {
      timeoutMs: byScale({ short: 90_000, long: 600_000 }),
      message: `all ${enqueued} jobs to succeed`,
    })
    await waitFor(
      async () =>
        (await count(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query ILIKE 'LISTEN%' AND application_name LIKE 'conveyor-terminate-%'`,
        )) === 2,
      { timeoutMs: 30_000, message: 'both LISTEN connections to be back' },
    )
    const figures = await verify(enqueued)
    writeScenarioResult({
      scenario: 'db-faults-terminate',
      rounds,
      faultsInjected: terminated,
      jobs: enqueued,
      lost: figures.lost,
      doubled: figures.doubled,
      durationMs: Math.round(performance.now() - started),
      notes:
        'pg_terminate_backend on every connection of two queues (pool, claim pool, LISTEN) each round, mid-drain; faultsInjected = connections terminated. recoveryMs = termination -> first job completed.',
      recoveryMs: percentiles(recoveryMs),
      plainStartedRuns: figures.plainStartedRuns,
      plainJobsRunTwice: figures.plainDuplicateRuns,
      succeededTwice: figures.succeededTwice,
      successEventsTwice: figures.reportedTwice,
      txRowsDoubled: figures.txDoubled,
      tickDuplicates: figures.tickDuplicates,
      backgroundErrors: runners.reduce((s, r) => s + r.backgroundErrors, 0),
    })
    expect(terminated).toBeGreaterThan(rounds)
    expect(figures.total).toBe(enqueued)
    expect(figures.loggedJobs).toBeGreaterThanOrEqual(enqueued)
    expect(figures.lost).toBe(0)
    expect(figures.doubled).toBe(0)
  })
})
