/**
 * Retention of finished jobs, first measurement (issue 19): removing one day of history.
 * `npm run bench:retention -- [--rows 1000000] [--out bench/results/retention.json]`
 *
 * On a fresh database, with `rows` finished jobs of yesterday and as many of today:
 * - today's table: finished rows in `jobs` (as before migration 009) deleted by the adapter's batched
 *   delete (batches of 1,000 oldest first, as the maintenance loop runs it) until nothing is left,
 *   then the VACUUM that makes the space reusable (autovacuum is off on these servers; in production
 *   it would run anyway);
 * - the adapter's history (009): `pruneJobs` of a cutoff at midnight, which drops yesterday's
 *   partition whole;
 * - a history table partitioned by day of `finished_at` (candidate B's): `DROP TABLE` of yesterday's
 *   partition, and `DETACH PARTITION ... CONCURRENTLY` then `DROP` of the day before (the form that
 *   never blocks inserts into the other partitions for long).
 * Every step's wall time is reported; each is one run on a shared machine, so read them as orders of
 * magnitude.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import pg from 'pg'
import { deleteExpiredRows, HistoryUpkeep } from '../src/adapters/postgres/history-maintenance.js'
import { migrate } from '../src/adapters/postgres/migrate.js'
import { sqlNames } from '../src/adapters/postgres/sql-names.js'
import { DatabaseFactory } from './lib/resources.js'

const USAGE = 'Usage: npm run bench:retention -- [--rows N] [--out PATH] [--postgres URL]'

function log(message: string): void {
  process.stderr.write(`[retention ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

function parse(argv: readonly string[]): { rows: number; out: string; postgresUrl: string } {
  const values = new Map<string, string>()
  for (let k = 0; k < argv.length; k += 2) {
    const key = argv[k]!
    if (!['--rows', '--out', '--postgres'].includes(key) || argv[k + 1] === undefined) throw new Error(USAGE)
    values.set(key.slice(2), argv[k + 1]!)
  }
  const rows = Number(values.get('rows') ?? 1_000_000)
  if (!Number.isInteger(rows) || rows < 1) throw new Error(`--rows must be a positive integer\n${USAGE}`)
  return {
    rows,
    out: values.get('out') ?? 'bench/results/retention.json',
    postgresUrl:
      values.get('postgres') ??
      process.env.BENCH_DATABASE_URL ??
      'postgres://postgres@127.0.0.1:5432/postgres',
  }
}

/** Seconds `fn` takes. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now()
  await fn()
  return (performance.now() - t0) / 1000
}

/** Finished rows of day `dayOffset` (0 = today), spread over that day; ids from `ids` when given. */
const finishedRows = (table: string, dayOffset: number, ids?: string) =>
  `INSERT INTO ${table} (${ids ? 'id, ' : ''}kind, queue, state, payload, run_at, created_at, attempt, max_attempts, attempted_at, finished_at)
   SELECT ${ids ? `nextval('${ids}'), ` : ''}'retained', 'default', 'succeeded', jsonb_build_object('i', g, 'pad', repeat('x', 230)), t, t, 1, 25, t, t
   FROM generate_series(1, $1::int) AS g,
     LATERAL (SELECT date_trunc('day', now()) + (${dayOffset} * interval '1 day') + (g * interval '1 day' / ($1::int + 1)) AS t) x`

async function main(): Promise<number> {
  let options: ReturnType<typeof parse>
  try {
    options = parse(process.argv.slice(2))
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`)
    return 2
  }
  const databases = new DatabaseFactory(options.postgresUrl)
  const results: Record<string, number> = {}
  try {
    const db = await databases.create('retention')
    const pool = new pg.Pool({ connectionString: db.url, max: 2 })
    pool.on('error', () => {})
    try {
      // Today's table.
      const names = sqlNames('conveyor')
      await migrate(pool, names)
      log(`today's table: inserting ${options.rows} finished jobs of yesterday and of today`)
      await pool.query(finishedRows(names.jobs, -1), [options.rows])
      await pool.query(finishedRows(names.jobs, 0), [options.rows])
      await pool.query(`VACUUM ANALYZE ${names.jobs}`)
      const cutoff = new Date(new Date().setUTCHours(0, 0, 0, 0)).getTime()
      let pruned = 0
      results["today's table: prune a day (pruneJobs, batches of 1,000), s"] = await timed(async () => {
        for (;;) {
          const n = await deleteExpiredRows(pool, names, cutoff, 1000)
          pruned += n
          if (n === 0) return
        }
      })
      if (pruned !== options.rows) throw new Error(`pruned ${pruned} of ${options.rows}`)
      results["today's table: VACUUM after the prune, s"] = await timed(() =>
        pool.query(`VACUUM ${names.jobs}`),
      )
      log(`today's table: ${JSON.stringify(results)}`)

      // The adapter's history (migration 009): yesterday is in the partition the migration made for
      // everything before its day, today in today's; the adapter's prune drops yesterday's whole
      // (counting its rows under a SHARE lock first) and deletes nothing of today.
      log(`adapter's history: inserting ${options.rows} finished jobs of yesterday and of today`)
      await pool.query(finishedRows(names.history, -1, names.jobIdSequence), [options.rows])
      await pool.query(finishedRows(names.history, 0, names.jobIdSequence), [options.rows])
      await pool.query(`VACUUM ANALYZE ${names.history}`)
      const upkeep = new HistoryUpkeep(pool, names)
      let dropped = 0
      results["adapter's history: prune a day (partition dropped, pruneJobs), s"] = await timed(async () => {
        dropped = await upkeep.prune(pool, cutoff, 1000)
      })
      if (dropped !== options.rows)
        throw new Error(`the adapter's prune removed ${dropped} of ${options.rows}`)
      const kept = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${names.history}`)
      if (kept.rows[0]!.n !== options.rows)
        throw new Error(`the adapter's history kept ${kept.rows[0]!.n} rows`)

      // Candidate B's history, partitioned by day of finished_at.
      await pool.query(
        `CREATE TABLE history (LIKE ${names.jobs} INCLUDING DEFAULTS) PARTITION BY RANGE (finished_at)`,
      )
      await pool.query('CREATE INDEX history_id_idx ON history (id)')
      for (const day of [-2, -1, 0]) {
        await pool.query(
          `DO $$ BEGIN EXECUTE format('CREATE TABLE history_d%s PARTITION OF history FOR VALUES FROM (%L) TO (%L)',
             ${day + 2}, date_trunc('day', now()) + ${day} * interval '1 day', date_trunc('day', now()) + ${day + 1} * interval '1 day'); END $$`,
        )
      }
      log(`history: inserting ${options.rows} finished jobs on each of three days`)
      await pool.query('CREATE SEQUENCE history_ids')
      await pool.query(`ALTER TABLE history ALTER COLUMN id SET DEFAULT nextval('history_ids')`)
      for (const day of [-2, -1, 0]) await pool.query(finishedRows('history', day), [options.rows])
      await pool.query('VACUUM ANALYZE history')
      results['history: DROP TABLE of a day partition, s'] = await timed(() =>
        pool.query('DROP TABLE history_d1'),
      )
      results['history: DETACH PARTITION CONCURRENTLY + DROP of a day partition, s'] = await timed(
        async () => {
          await pool.query('ALTER TABLE history DETACH PARTITION history_d0 CONCURRENTLY')
          await pool.query('DROP TABLE history_d0')
        },
      )
      const left = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM history')
      if (left.rows[0]!.n !== options.rows) throw new Error(`history kept ${left.rows[0]!.n} rows`)
    } finally {
      await pool.end()
    }
    const report = { generatedAt: new Date().toISOString(), rows: options.rows, seconds: results }
    await mkdir(dirname(options.out), { recursive: true })
    await writeFile(options.out, `${JSON.stringify(report, null, 2)}\n`)
    for (const [step, seconds] of Object.entries(results)) log(`${step}: ${seconds.toFixed(3)}`)
    log(`wrote ${options.out}`)
    return 0
  } finally {
    await databases.dropAll()
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    log(`error: ${(error as Error).stack ?? String(error)}`)
    process.exit(1)
  },
)
