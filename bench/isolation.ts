/**
 * Per-job overhead of isolated handlers: drains N no-op jobs one at a time with the handler run in
 * process, in a worker thread and in a child process, on the memory adapter and on PostgreSQL, and
 * reports the time per job and the overhead against in-process. The pools are warmed first (their
 * start-up is reported apart). Run: `npm run bench:isolation -- [N] [rounds]` (defaults 2000 and 3);
 * `--write` also replaces the isolation section of BENCHMARKS.md.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import pg from 'pg'
import { createMemoryQueue } from '../src/adapters/memory/index.js'
import { createPostgresQueue } from '../src/adapters/postgres/index.js'
import type { CoreQueue } from '../src/core/create-queue.js'
import { defineJob } from '../src/core/domain/job-definition.js'
import { createSystemClock } from '../src/core/ports/clock.js'

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const WRITE = process.argv.includes('--write')
const N = Number(args[0] ?? 2000)
const ROUNDS = Number(args[1] ?? 3)
const WARM = 20
const URL_PG = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const noop = defineJob<{ i: number }>({ kind: 'noop', timeoutMs: 0 })
const MODULE = new URL('./isolation/noop.handler.mjs', import.meta.url)
const MODES = ['in-process', 'thread', 'process'] as const
type Mode = (typeof MODES)[number]

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

function register(queue: CoreQueue, mode: Mode): void {
  if (mode === 'in-process') queue.register(noop, () => {})
  else queue.register(noop, MODULE, { isolation: mode })
}

/** Enqueues `n` jobs and drains them; returns the drain's milliseconds. */
async function drainMs(queue: CoreQueue, n: number): Promise<number> {
  const batch = 1000
  for (let i = 0; i < n; i += batch) {
    const size = Math.min(batch, n - i)
    await queue.enqueueMany(Array.from({ length: size }, (_, k) => ({ job: noop, payload: { i: i + k } })))
  }
  const t = performance.now()
  const r = await queue.drain()
  if (r.succeeded !== n) throw new Error(`drain ran ${r.succeeded} of ${n} jobs: ${JSON.stringify(r)}`)
  return performance.now() - t
}

interface Row {
  readonly adapter: string
  readonly mode: Mode
  readonly perJobMs: number
  readonly firstJobMs: number
}

async function measure(adapter: 'memory' | 'postgres', mode: Mode, pool: pg.Pool | null): Promise<Row> {
  const perJob: number[] = []
  const first: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    let schema: string | null = null
    let queue: CoreQueue
    if (adapter === 'memory') {
      queue = createMemoryQueue({ clock: createSystemClock() })
    } else {
      schema = `bench_iso_${randomBytes(4).toString('hex')}`
      const q = createPostgresQueue({ pool: pool!, schema })
      await q.migrate()
      queue = q
    }
    try {
      register(queue, mode)
      first.push(await drainMs(queue, 1)) // starts the pool's first runner
      await drainMs(queue, WARM)
      perJob.push((await drainMs(queue, N)) / N)
    } finally {
      await queue.shutdown()
      if (schema) await pool!.query(`DROP SCHEMA ${schema} CASCADE`)
    }
  }
  return { adapter, mode, perJobMs: median(perJob), firstJobMs: median(first) }
}

async function main(): Promise<void> {
  const pool = new pg.Pool({ connectionString: URL_PG, max: 12 })
  let pgOk = true
  try {
    await pool.query('SELECT 1')
  } catch (error) {
    pgOk = false
    process.stderr.write(
      `PostgreSQL not reachable at ${URL_PG} (${(error as Error).message}); memory only.\n`,
    )
  }
  const rows: Row[] = []
  for (const adapter of pgOk ? (['memory', 'postgres'] as const) : (['memory'] as const)) {
    for (const mode of MODES) {
      const row = await measure(adapter, mode, pool)
      rows.push(row)
      process.stderr.write(`${adapter} ${mode}: ${row.perJobMs.toFixed(3)} ms/job\n`)
    }
  }
  await pool.end()
  const table = render(rows)
  process.stdout.write(`${table}\n`)
  if (WRITE) writeSection(table)
}

function render(rows: Row[]): string {
  const base = (adapter: string) =>
    rows.find((r) => r.adapter === adapter && r.mode === 'in-process')!.perJobMs
  const lines = [
    `Drain of ${N.toLocaleString('en')} no-op jobs, one at a time, median of ${ROUNDS} rounds; Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), ${new Date().toISOString().slice(0, 10)}.`,
    '',
    '| adapter | mode | ms per job | overhead per job vs in-process | first job (starts a runner), ms |',
    '|---|---|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.adapter} | ${r.mode} | ${r.perJobMs.toFixed(3)} | ${r.mode === 'in-process' ? '—' : `+${(r.perJobMs - base(r.adapter)).toFixed(3)} ms`} | ${r.firstJobMs.toFixed(1)} |`,
    ),
  ]
  return lines.join('\n')
}

const START = '<!-- isolation:start -->'
const END = '<!-- isolation:end -->'

/** Replaces the text between the isolation markers of BENCHMARKS.md (appends the section if missing). */
function writeSection(table: string): void {
  const path = new URL('../BENCHMARKS.md', import.meta.url)
  const text = readFileSync(path, 'utf8')
  const body = `${START}\n${table}\n${END}`
  const next = text.includes(START)
    ? text.replace(new RegExp(`${START}[\\s\\S]*?${END}`), body)
    : `${text.trimEnd()}\n\n## Isolated handlers: overhead per job\n\n${body}\n`
  writeFileSync(path, next)
}

await main()
