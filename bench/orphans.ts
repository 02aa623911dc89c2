/**
 * What one orphan check costs against a backlog (issue 19: the check's index against the enqueue's).
 * `npm run bench:orphans -- [--rows 1000000] [--kinds 8] [--rounds 7] [--out bench/results/orphans.json]`
 *
 * On a fresh database migrated by this checkout, `rows` waiting jobs due now, spread over `kinds`
 * kinds and two queues, and one live process. Each case times `findOrphans` (the statement every
 * worker process runs once per `orphans.intervalMs`) `rounds` times and reports the median and the
 * range, in ms:
 * - `none`: the process registered every kind (the usual case: nothing to report, and the check must
 *   still prove it);
 * - `one kind`: one kind is registered by no process (its jobs are read and counted);
 * each once right after the insert (the visibility map not yet set, as on a table autovacuum has not
 * reached) and once after a VACUUM.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import pg from 'pg'
import { PostgresStore } from '../src/adapters/postgres/postgres-store.js'
import { DatabaseFactory } from './lib/resources.js'
import { runScript } from './lib/script.js'

const USAGE =
  'Usage: npm run bench:orphans -- [--rows N] [--kinds N] [--rounds N] [--out PATH] [--postgres URL]'

function log(message: string): void {
  process.stderr.write(`[orphans ${new Date().toISOString().slice(11, 19)}] ${message}\n`)
}

interface Options {
  readonly rows: number
  readonly kinds: number
  readonly rounds: number
  readonly out: string
  readonly postgresUrl: string
}

function parse(argv: readonly string[]): Options {
  const values = new Map<string, string>()
  const args = argv[0] === '--' ? argv.slice(1) : argv
  for (let k = 0; k < args.length; k += 2) {
    const key = args[k]!
    if (!['--rows', '--kinds', '--rounds', '--out', '--postgres'].includes(key) || args[k + 1] === undefined)
      throw new Error(USAGE)
    values.set(key.slice(2), args[k + 1]!)
  }
  const int = (name: string, fallback: number, min: number) => {
    const n = Number(values.get(name) ?? fallback)
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}\n${USAGE}`)
    return n
  }
  return {
    rows: int('rows', 1_000_000, 1),
    kinds: int('kinds', 8, 2),
    rounds: int('rounds', 7, 1),
    out: values.get('out') ?? 'bench/results/orphans.json',
    postgresUrl:
      values.get('postgres') ??
      process.env.BENCH_DATABASE_URL ??
      'postgres://postgres@127.0.0.1:5432/postgres',
  }
}

/** Median and range of `rounds` timings of `fn`, ms. */
async function timings(rounds: number, fn: () => Promise<unknown>) {
  const ms: number[] = []
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now()
    await fn()
    ms.push(performance.now() - t0)
  }
  ms.sort((a, b) => a - b)
  const round = (n: number) => Math.round(n * 100) / 100
  return { median: round(ms[Math.floor(ms.length / 2)]!), min: round(ms[0]!), max: round(ms[ms.length - 1]!) }
}

async function main(): Promise<number> {
  let options: Options
  try {
    options = parse(process.argv.slice(2))
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`)
    return 2
  }
  const databases = new DatabaseFactory(options.postgresUrl)
  const results: Record<string, unknown> = { options: { ...options, postgresUrl: undefined } }
  try {
    const db = await databases.create('orphans')
    const pool = new pg.Pool({ connectionString: db.url, max: 2 })
    pool.on('error', () => {})
    const store = new PostgresStore({ pool, schema: 'conveyor' })
    try {
      await store.migrate()
      const kinds = Array.from({ length: options.kinds }, (_, k) => `kind-${k}`)
      log(`inserting ${options.rows} waiting jobs of ${options.kinds} kinds`)
      await pool.query(
        `INSERT INTO conveyor.jobs (kind, queue, state, payload, run_at, created_at, max_attempts)
         SELECT ($2::text[])[1 + g % array_length($2::text[], 1)], CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END,
           'available', jsonb_build_object('i', g), now() - interval '1 minute' - g * interval '1 ms', now(), 3
         FROM generate_series(1, $1::int) g`,
        [options.rows, kinds],
      )
      await pool.query('ANALYZE conveyor.jobs')
      const indexes = await pool.query<{ name: string; mb: number }>(
        `SELECT c.relname AS name, round(pg_relation_size(c.oid) / 1e6, 1)::float8 AS mb
         FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid = 'conveyor.jobs'::regclass ORDER BY c.relname`,
      )
      results.indexesMb = Object.fromEntries(indexes.rows.map((r) => [r.name, r.mb]))
      log(`indexes: ${JSON.stringify(results.indexesMb)}`)
      const check = (kinds: readonly string[]) => () =>
        store.findOrphans({ staleAfterMs: 60_000, registered: { queues: ['a', 'b'], kinds } })
      const cases = { none: kinds, 'one kind': kinds.slice(1) }
      for (const vacuumed of [false, true]) {
        if (vacuumed) await pool.query('VACUUM conveyor.jobs')
        for (const [name, registered] of Object.entries(cases)) {
          const label = `${name}${vacuumed ? ', after VACUUM' : ''}`
          const report = await check(registered)()
          const found = report.jobs.reduce((n, g) => n + g.count, 0)
          const t = await timings(options.rounds, check(registered))
          results[label] = { ...t, orphans: found }
          log(`${label}: median ${t.median} ms (${t.min}-${t.max}), ${found} orphans`)
        }
      }
    } finally {
      await store.close()
      await pool.end()
    }
  } finally {
    await databases.dropAll()
  }
  await mkdir(dirname(options.out), { recursive: true })
  await writeFile(options.out, `${JSON.stringify(results, null, 2)}\n`)
  log(`wrote ${options.out}`)
  return 0
}

runScript(main)
