/**
 * W0: what PostgreSQL itself does on this machine, so every queue figure can be read as a fraction
 * of it. Plain SQL on a minimal jobs table (bigint identity key, state, jsonb payload, a partial
 * index on the available rows), durable commits as configured on the server:
 * - single-row autocommit INSERTs, one connection;
 * - 1,000-row INSERTs of a jsonb column (`unnest($1::jsonb[])`), one connection;
 * - claim 1 row with FOR UPDATE SKIP LOCKED, then mark it done, 10 connections in parallel;
 * - claim 100 rows per statement (`id = ANY(ARRAY(SELECT ... SKIP LOCKED LIMIT 100))`), then mark
 *   them done with one UPDATE, 10 connections in parallel;
 * - pickup latency, the W4 shape with no queue library: a child process LISTENs and, on each
 *   notification, claims one row on a second connection (FOR UPDATE SKIP LOCKED,
 *   `synchronous_commit = off` as Conveyor's claims run); the parent inserts one row and calls
 *   `pg_notify` in the same statement.
 *   Latency = the child's claim stamp minus the parent's stamp just before the insert; after a
 *   warm-up row and 3 s idle, rows are inserted 20 ms apart. No LISTEN/NOTIFY queue can pick a job
 *   up faster than this on this machine.
 */
import pg from 'pg'
import { type BenchContext, freshTarget, measure, scaled } from '../lib/context.js'
import type { MetricSpec } from '../lib/recorder.js'
import { PICKUP_METRICS, pickupLatencies, pickupSamples } from './pickup-floor.js'

const CONNECTIONS = 10
const SINGLE: MetricSpec = { metric: 'single-row insert, 1 connection', unit: 'rows/s', better: 'higher' }
const MULTI: MetricSpec = { metric: '1,000-row insert (jsonb)', unit: 'rows/s', better: 'higher' }
const CLAIM1: MetricSpec = { metric: 'claim 1 + mark done, 10 connections', unit: 'rows/s', better: 'higher' }
const CLAIM100: MetricSpec = {
  metric: 'claim 100 + mark done, 10 connections',
  unit: 'rows/s',
  better: 'higher',
}

/** The W0 metrics, in report order. */
export const RAW_METRICS = [SINGLE, MULTI, CLAIM1, CLAIM100, ...PICKUP_METRICS]

/** Runs every W0 measurement once on a fresh database. */
export async function runRawPostgres(ctx: BenchContext, round: number): Promise<void> {
  await measure(
    ctx,
    { workload: 'W0', system: 'postgres', config: 'raw SQL', round, metrics: RAW_METRICS },
    900_000,
    async (scope) => {
      const target = await freshTarget(ctx, scope, 'postgres', 'postgres')
      const pool = new pg.Pool({ connectionString: target.databaseUrl, max: CONNECTIONS })
      pool.on('error', () => {})
      scope.defer('close pool', () => pool.end())
      await Promise.all(Array.from({ length: CONNECTIONS }, () => pool.query('SELECT 1')))
      const single = await singleRowInserts(pool, scaled(ctx, 5_000, 50))
      const multi = await multiRowInserts(pool, scaled(ctx, 50_000, 2_000))
      const claim1 = await claimAndComplete(pool, scaled(ctx, 20_000, 200), 1)
      const claim100 = await claimAndComplete(pool, scaled(ctx, 20_000, 200), 100)
      const pickups = await rawPickups(
        pool,
        target.databaseUrl!,
        scaled(ctx, 200, 10),
        ctx.options.quick ? 300 : 3000,
      )
      return [
        { ...SINGLE, value: single },
        { ...MULTI, value: multi },
        { ...CLAIM1, value: claim1 },
        { ...CLAIM100, value: claim100 },
        ...pickupSamples(pickups),
      ]
    },
  )
}

async function createTable(pool: pg.Pool, name: string): Promise<void> {
  await pool.query(`DROP TABLE IF EXISTS ${name}`)
  await pool.query(`CREATE TABLE ${name} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    state text NOT NULL DEFAULT 'available',
    payload jsonb NOT NULL,
    run_at timestamptz NOT NULL DEFAULT now()
  )`)
  await pool.query(`CREATE INDEX ${name}_available ON ${name} (id) WHERE state = 'available'`)
}

async function singleRowInserts(pool: pg.Pool, n: number): Promise<number> {
  await createTable(pool, 'raw_single')
  const client = await pool.connect()
  try {
    const t0 = performance.now()
    for (let i = 0; i < n; i++) {
      await client.query('INSERT INTO raw_single (payload) VALUES ($1::jsonb)', [JSON.stringify({ i })])
    }
    return n / ((performance.now() - t0) / 1000)
  } finally {
    client.release()
  }
}

async function multiRowInserts(pool: pg.Pool, n: number): Promise<number> {
  await createTable(pool, 'raw_multi')
  const client = await pool.connect()
  try {
    const t0 = performance.now()
    for (let start = 0; start < n; start += 1000) {
      const rows = Array.from({ length: Math.min(1000, n - start) }, (_, k) =>
        JSON.stringify({ i: start + k }),
      )
      await client.query('INSERT INTO raw_multi (payload) SELECT * FROM unnest($1::jsonb[])', [rows])
    }
    return n / ((performance.now() - t0) / 1000)
  } finally {
    client.release()
  }
}

async function claimAndComplete(pool: pg.Pool, n: number, perClaim: number): Promise<number> {
  const table = `raw_claim_${perClaim}`
  await createTable(pool, table)
  for (let start = 0; start < n; start += 1000) {
    const rows = Array.from({ length: Math.min(1000, n - start) }, (_, k) => JSON.stringify({ i: start + k }))
    await pool.query(`INSERT INTO ${table} (payload) SELECT * FROM unnest($1::jsonb[])`, [rows])
  }
  await pool.query(`VACUUM ANALYZE ${table}`)
  const claim =
    perClaim === 1
      ? `UPDATE ${table} SET state = 'running'
          WHERE id = (SELECT id FROM ${table} WHERE state = 'available' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING id`
      : `UPDATE ${table} SET state = 'running'
          WHERE id = ANY(ARRAY(SELECT id FROM ${table} WHERE state = 'available' ORDER BY id
                               LIMIT ${perClaim} FOR UPDATE SKIP LOCKED))
          RETURNING id`
  const complete = `UPDATE ${table} SET state = 'done' WHERE id = ANY($1::bigint[])`
  const loop = async () => {
    const client = await pool.connect()
    try {
      for (;;) {
        const { rows } = await client.query<{ id: string }>(claim)
        if (rows.length === 0) return
        await client.query(complete, [rows.map((r) => r.id)])
      }
    } finally {
      client.release()
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: CONNECTIONS }, loop))
  const seconds = (performance.now() - t0) / 1000
  const { rows } = await pool.query<{ done: number }>(
    `SELECT count(*) FILTER (WHERE state = 'done')::int AS done FROM ${table}`,
  )
  if (rows[0]!.done !== n) throw new Error(`claim ${perClaim}: ${rows[0]!.done} of ${n} rows done`)
  return n / seconds
}

/** Raw pickup latencies: plain inserts with `pg_notify` into a fresh minimal table. */
async function rawPickups(pool: pg.Pool, databaseUrl: string, n: number, idleMs: number): Promise<number[]> {
  const table = 'raw_pickup'
  await createTable(pool, table)
  const producer = await pool.connect()
  try {
    const insert = `WITH i AS (INSERT INTO ${table} (payload) VALUES ($1::jsonb) RETURNING id)
      SELECT pg_notify('${table}', '') FROM i`
    return await pickupLatencies({
      child: ['raw', databaseUrl, table],
      n,
      idleMs,
      enqueue: async (i) => {
        await producer.query({ name: 'insert', text: insert, values: [JSON.stringify({ i })] })
      },
    })
  } finally {
    producer.release()
  }
}
