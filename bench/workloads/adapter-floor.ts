/**
 * W0, Conveyor's own SQL with no worker: the adapter's statements (`insertJobs`, `claimJobs`,
 * `completeJobs`, built by `storeStatements`) on Conveyor's own migrated schema, driven straight from
 * the harness with no queue, producer, worker or completer around them. Each figure mirrors a raw
 * W0 metric, so the gap between the two is the cost of Conveyor's row (columns, indexes, checks) over
 * the minimal raw table, and each one bounds what the matching goal can reach with this schema:
 * - single-row inserts (one `insertJobs` call per job, each awaited), one connection;
 * - 1,000-row inserts (one `insertJobs` call per 1,000 jobs), one connection;
 * - claim 100 + complete: 10 loops in parallel, each with one claim connection (the claim pool's
 *   session settings) and one completion connection, as the store runs them;
 * - pickup: W4's shape with `insertJobs` in the parent and `claimJobs` on each notification in a
 *   child process (see `pickup-floor.ts`).
 * Rows are built with `resolveNewJob` from the `noop` definition, so their defaults match a real enqueue.
 */
import pg from 'pg'
import { claimJobs } from '../../src/adapters/postgres/claim.js'
import { CLAIM_SESSION_SETTINGS } from '../../src/adapters/postgres/claim-pool.js'
import { completeJobs } from '../../src/adapters/postgres/complete.js'
import { insertJobs } from '../../src/adapters/postgres/insert-jobs.js'
import { migrate } from '../../src/adapters/postgres/migrate.js'
import { type SqlNames, sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { type StoreStatements, storeStatements } from '../../src/adapters/postgres/statements.js'
import { resolveNewJob } from '../../src/core/domain/enqueue-options.js'
import type { NewJob } from '../../src/core/ports/store.js'
import { type BenchContext, freshTarget, measure, type Scope, scaled } from '../lib/context.js'
import type { MetricSpec } from '../lib/recorder.js'
import { CONVEYOR_SCHEMA, noopJob } from '../systems/conveyor.js'
import { PICKUP_METRICS, pickupLatencies, pickupSamples } from './pickup-floor.js'

const CONNECTIONS = 10
const BATCH = 1000
const PER_CLAIM = 100
/** The main pool's startup options of a store created from a connection string. */
const MAIN_SESSION = '-c jit=off'

/** System and config of these series in the report. */
const FLOOR_SYSTEM = 'conveyor'
const FLOOR_CONFIG = 'adapter SQL, no worker'

const FLOOR_SINGLE: MetricSpec = {
  metric: 'single-row insert, 1 connection',
  unit: 'rows/s',
  better: 'higher',
}
const FLOOR_MULTI: MetricSpec = { metric: '1,000-row insert', unit: 'rows/s', better: 'higher' }
const FLOOR_CLAIM100: MetricSpec = {
  metric: 'claim 100 + complete, 10 connections',
  unit: 'rows/s',
  better: 'higher',
}

/** The metrics of Conveyor's own SQL, in report order. */
export const FLOOR_METRICS = [FLOOR_SINGLE, FLOOR_MULTI, FLOOR_CLAIM100, ...PICKUP_METRICS]

/** The adapter's statements and names on one fresh database. */
interface Adapter {
  readonly names: SqlNames
  readonly sql: StoreStatements
  /** Inserts and completions run here, as on the store's own pool. */
  readonly main: pg.Pool
  /** Claims run here, with the claim pool's session settings. */
  readonly claims: pg.Pool
}

/** Runs every measurement of Conveyor's own SQL once on a fresh database. */
export async function runAdapterFloor(ctx: BenchContext, round: number): Promise<void> {
  await measure(
    ctx,
    { workload: 'W0', system: FLOOR_SYSTEM, config: FLOOR_CONFIG, round, metrics: FLOOR_METRICS },
    900_000,
    async (scope) => {
      const { adapter, databaseUrl } = await openAdapter(ctx, scope)
      const single = await timedInserts(adapter, scaled(ctx, 5_000, 50), 1, 'single-row insert')
      const multi = await timedInserts(adapter, scaled(ctx, 50_000, 2_000), BATCH, '1,000-row insert')
      const claim100 = await claimAndComplete(adapter, scaled(ctx, 20_000, 200))
      const pickups = await adapterPickups(
        adapter,
        databaseUrl,
        scaled(ctx, 200, 10),
        ctx.options.quick ? 300 : 3000,
      )
      return [
        { ...FLOOR_SINGLE, value: single },
        { ...FLOOR_MULTI, value: multi },
        { ...FLOOR_CLAIM100, value: claim100 },
        ...pickupSamples(pickups),
      ]
    },
  )
}

/** Creates a fresh database, opens both pools (warm) and applies Conveyor's migrations. */
async function openAdapter(
  ctx: BenchContext,
  scope: Scope,
): Promise<{ adapter: Adapter; databaseUrl: string }> {
  const target = await freshTarget(ctx, scope, 'conveyor', 'postgres')
  const open = (options: string) => {
    const pool = new pg.Pool({ connectionString: target.databaseUrl, max: CONNECTIONS, options })
    pool.on('error', () => {})
    scope.defer('close pool', () => pool.end())
    return pool
  }
  const main = open(MAIN_SESSION)
  // As `createClaimPool` builds it: the main pool's options followed by the claim settings.
  const claims = open(`${MAIN_SESSION} ${CLAIM_SESSION_SETTINGS}`)
  await Promise.all(
    [main, claims].flatMap((pool) => Array.from({ length: CONNECTIONS }, () => pool.query('SELECT 1'))),
  )
  const names = sqlNames(CONVEYOR_SCHEMA)
  await migrate(main, names)
  return { adapter: { names, sql: storeStatements(names), main, claims }, databaseUrl: target.databaseUrl! }
}

/** One `noop` job with payload `{ i }`, as `enqueue` builds it at time `now`. */
function newJob(i: number, now: number): NewJob {
  return resolveNewJob(noopJob, { i }, {}, now)
}

/** Inserts `n` jobs in calls of `size` on `target`. */
async function insertBatches(
  adapter: Adapter,
  target: pg.Pool | pg.PoolClient,
  n: number,
  size = BATCH,
): Promise<void> {
  for (let start = 0; start < n; start += size) {
    const now = Date.now()
    const jobs = Array.from({ length: Math.min(size, n - start) }, (_, k) => newJob(start + k, now))
    await insertJobs(target, adapter.names, adapter.sql.insert, jobs, now)
  }
}

/** Throws unless the job tables (unfinished and history) hold exactly `n` jobs, all in `state`. */
async function expectJobs(adapter: Adapter, n: number, state: string, what: string): Promise<void> {
  const { rows } = await adapter.main.query<{ state: string; jobs: number; max_attempt: number }>(
    `SELECT state, count(*)::int AS jobs, max(attempt)::int AS max_attempt
       FROM (SELECT state, attempt FROM ${adapter.names.jobs} UNION ALL SELECT state, attempt FROM ${adapter.names.history}) j
      GROUP BY state`,
  )
  const counts = rows.map((r) => `${r.state}=${r.jobs}`).join(', ') || 'none'
  const ok = rows.length === 1 && rows[0]!.state === state && rows[0]!.jobs === n
  if (!ok) throw new Error(`${what}: expected ${n} jobs ${state}, found ${counts}`)
  if (state === 'succeeded' && rows[0]!.max_attempt !== 1)
    throw new Error(`${what}: some job took ${rows[0]!.max_attempt} attempts`)
}

/** Rows per second inserting `n` jobs in calls of `size` on one connection, each call awaited. */
async function timedInserts(adapter: Adapter, n: number, size: number, what: string): Promise<number> {
  await adapter.main.query(`TRUNCATE ${adapter.names.jobs}, ${adapter.names.history}`)
  const client = await adapter.main.connect()
  try {
    const t0 = performance.now()
    await insertBatches(adapter, client, n, size)
    const rate = n / ((performance.now() - t0) / 1000)
    await expectJobs(adapter, n, 'available', what)
    return rate
  } finally {
    client.release()
  }
}

async function claimAndComplete(adapter: Adapter, n: number): Promise<number> {
  await adapter.main.query(`TRUNCATE ${adapter.names.jobs}, ${adapter.names.history}`)
  await insertBatches(adapter, adapter.main, n)
  await adapter.main.query(`VACUUM ANALYZE ${adapter.names.jobs}`)
  let written = 0
  const loop = async (k: number) => {
    const claimer = await adapter.claims.connect()
    const completer = await adapter.main.connect()
    try {
      for (;;) {
        const jobs = await claimJobs(claimer, adapter.names, adapter.sql.claim, {
          queues: ['default'],
          kinds: ['noop'],
          capacity: PER_CLAIM,
          strategy: 'priority',
          oversizedFirst: false,
          workerId: `bench-floor-${k}`,
          now: Date.now(),
        })
        if (jobs.length === 0) return
        const completions = jobs.map((job) => ({
          id: job.id,
          outcome: 'succeeded' as const,
          attempt: job.attempt,
        }))
        const done = await completeJobs(
          completer,
          adapter.names,
          adapter.sql.complete,
          completions,
          Date.now(),
        )
        written += done.updated
      }
    } finally {
      claimer.release()
      completer.release()
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, k) => loop(k)))
  const seconds = (performance.now() - t0) / 1000
  if (written !== n) throw new Error(`claim ${PER_CLAIM}: ${written} completions written for ${n} jobs`)
  await expectJobs(adapter, n, 'succeeded', `claim ${PER_CLAIM}`)
  return n / seconds
}

/**
 * Pickup with the adapter's own statements and no queue runtime: the parent enqueues with
 * `insertJobs` (one job, its `pg_notify` included), a child process claims with `claimJobs` on
 * each notification (see `pickup-child.ts`), in W4's shape.
 */
async function adapterPickups(
  adapter: Adapter,
  databaseUrl: string,
  n: number,
  idleMs: number,
): Promise<number[]> {
  await adapter.main.query(`TRUNCATE ${adapter.names.jobs}, ${adapter.names.history}`)
  const producer = await adapter.main.connect()
  try {
    return await pickupLatencies({
      child: ['adapter', databaseUrl, adapter.names.schema],
      n,
      idleMs,
      enqueue: async (i) => {
        const now = Date.now()
        await insertJobs(producer, adapter.names, adapter.sql.insert, [newJob(i, now)], now)
      },
    })
  } finally {
    producer.release()
  }
}
