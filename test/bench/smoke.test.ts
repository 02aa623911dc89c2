/**
 * Smoke test of the benchmark harness: runs `bench/run.ts` at a tiny scale (one round, every
 * workload and system, short idle times) and checks the shape of what it writes. No timing is
 * asserted; the point is that the harness and every peer's adapter keep working.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { CANDIDATE_IDS, candidateConfig } from '../../bench/candidates/registry.js'
import { checkPostgres, checkRedis } from '../../bench/lib/resources.js'

const run = promisify(execFile)
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const POSTGRES_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const REDIS = { host: '127.0.0.1', port: 6379, db: 10 }

const noPostgres = await checkPostgres(POSTGRES_URL)
const noRedis = noPostgres ? null : await checkRedis(REDIS)
if (noPostgres) console.warn(`bench smoke test skipped: ${noPostgres}`)
if (noRedis) console.warn(`bench smoke test runs without BullMQ: ${noRedis}`)

interface Row {
  workload: string
  system: string
  config: string
  metric: string
  unit: string
  better: string
  median: number
  min: number
  max: number
  runs: number[]
  failures: string[]
  notes: string[]
}

describe.skipIf(noPostgres !== null)('benchmark harness (smoke)', () => {
  let dir = ''
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('runs every workload at a tiny scale and writes results of the documented shape', async () => {
    dir = await mkdtemp(join(tmpdir(), 'conveyor-bench-'))
    const out = join(dir, 'latest.json')
    const markdown = join(dir, 'BENCHMARKS.md')
    const systems = noRedis ? 'conveyor,pg-boss,graphile-worker' : 'conveyor,pg-boss,graphile-worker,bullmq'
    const args = ['--import', 'tsx', 'bench/run.ts', '--rounds', '1', '--scale', '0.02', '--quick']
    args.push('--systems', systems, '--out', out, '--markdown', markdown, '--postgres', POSTGRES_URL)
    args.push('--redis-db', String(REDIS.db))
    // The session-lock experiment (docs/storage.md) runs too: its drain must end every job once.
    const env = { ...process.env, BENCH_EXPERIMENTS: 'session-lock' }
    const { stderr } = await run(process.execPath, args, { cwd: REPO_ROOT, maxBuffer: 1 << 22, env })

    const report = JSON.parse(await readFile(out, 'utf8')) as {
      results: Row[]
      ratio: Record<string, unknown>[]
      goals: Record<string, unknown>[]
      skipped: { workload: string; system: string; reason: string }[]
      machine: { cores: number; node: string; postgres: string }
    }
    const failures = report.results.flatMap((r) =>
      r.failures.map((f) => `${r.workload} ${r.system}/${r.config}: ${f}`),
    )
    expect(failures, stderr).toEqual([])

    for (const row of report.results) {
      expect(row).toMatchObject({
        workload: expect.stringMatching(/^W[0-7]$/),
        system: expect.any(String),
        config: expect.any(String),
        metric: expect.any(String),
        unit: expect.any(String),
        better: expect.stringMatching(/^(higher|lower)$/),
        median: expect.any(Number),
        min: expect.any(Number),
        max: expect.any(Number),
        runs: [expect.any(Number)],
      })
      expect(row.min).toBeLessThanOrEqual(row.median)
      expect(row.median).toBeLessThanOrEqual(row.max)
    }

    const seen = (workload: string, system: string) =>
      report.results.some((r) => r.workload === workload && r.system === system)
    expect(seen('W0', 'postgres')).toBe(true)
    for (const system of systems.split(',')) {
      for (const workload of ['W1', 'W2', 'W3', 'W4', 'W5'])
        expect(seen(workload, system), `${workload} ${system}`).toBe(true)
    }
    expect(seen('W6', 'conveyor')).toBe(true)
    const experiment = report.results.find(
      (r) => r.workload === 'W3' && r.system === 'conveyor' && r.config === 'session-lock',
    )
    expect(experiment?.median, 'W3 conveyor/session-lock').toBeGreaterThan(0)
    expect(seen('W6', 'pg-boss')).toBe(true)
    expect(report.skipped.some((s) => s.workload === 'W6' && s.system === 'graphile-worker')).toBe(true)
    expect(seen('W7', 'conveyor') && seen('W7', 'plain-array')).toBe(true)

    expect(report.ratio.length).toBeGreaterThan(0)
    for (const r of report.ratio) {
      expect(r).toMatchObject({
        workload: expect.any(String),
        metric: expect.any(String),
        conveyorConfig: expect.any(String),
        peer: expect.any(String),
        peerConfig: expect.any(String),
        median: expect.any(Number),
        runs: [expect.any(Number)],
      })
    }
    // W0 also measures Conveyor's own SQL with no worker, and the raw LISTEN/NOTIFY pickup floor.
    const w0 = (system: string, config: string, metric: string) =>
      report.results.find(
        (r) => r.workload === 'W0' && r.system === system && r.config === config && r.metric === metric,
      )
    for (const [system, config, metric] of [
      ['conveyor', 'adapter SQL, no worker', 'single-row insert, 1 connection'],
      ['conveyor', 'adapter SQL, no worker', '1,000-row insert'],
      ['conveyor', 'adapter SQL, no worker', 'claim 100 + complete, 10 connections'],
      ['conveyor', 'adapter SQL, no worker', 'pickup via NOTIFY + claim p50'],
      ['conveyor', 'adapter SQL, no worker', 'pickup via NOTIFY + claim p99'],
      ['postgres', 'raw SQL', 'pickup via NOTIFY + claim p50'],
      ['postgres', 'raw SQL', 'pickup via NOTIFY + claim p99'],
      // Storage candidates (issue 19): each design's statements with no runtime, on the W0 shapes.
      ...CANDIDATE_IDS.flatMap((id) =>
        ['single-row insert, 1 connection', '1,000-row insert', 'claim 100 + complete, 10 connections'].map(
          (metric) => ['candidate', candidateConfig(id), metric] as const,
        ),
      ),
    ] as const) {
      const row = w0(system, config, metric)
      expect(row, `W0 ${system}/${config}: ${metric}`).toBeDefined()
      expect(row!.median, `W0 ${system}/${config}: ${metric}`).toBeGreaterThan(0)
    }

    expect(report.goals.length).toBeGreaterThan(0)
    // Every goal of W1 to W4 has its inputs in this run, so it carries a ceiling.
    const withCeiling = report.goals.filter((g) => /^W[1-4] /.test(String(g.goal)))
    expect(withCeiling.length).toBe(6)
    for (const g of withCeiling) {
      expect(g.ceiling, String(g.goal)).toEqual(expect.any(Number))
      expect(Number.isFinite(g.ceiling), String(g.goal)).toBe(true)
      expect(g.ceilingRuns, String(g.goal)).toEqual([expect.any(Number)])
    }
    expect(report.machine.cores).toBeGreaterThan(0)

    const text = await readFile(markdown, 'utf8')
    expect(text).toContain('# Benchmarks')
    expect(text).toContain('## W3 drain')
    expect(text).toContain('| system | config | metric | median |')
    expect(text).toContain("ceiling: Conveyor's SQL, no worker")
    expect(text).toContain('| conveyor | adapter SQL, no worker | claim 100 + complete, 10 connections')
  }, 300_000)
  it('runs the held-horizon pressure scenario for every system at a tiny scale and writes its report', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'conveyor-pressure-'))
    try {
      const out = join(tmp, 'pressure.json')
      const markdown = join(tmp, 'pressure.md')
      const systems = ['conveyor', 'conveyor-front', 'graphile-worker', ...CANDIDATE_IDS]
      const args = ['--import', 'tsx', 'bench/pressure.ts', '--rate', '200', '--warmup', '1', '--clean', '1']
      args.push('--hold', '1', '--recovery', '1', '--interval', '1', '--vacuum-every', '1', '--explain')
      args.push(
        '--systems',
        systems.join(','),
        '--out',
        out,
        '--markdown',
        markdown,
        '--postgres',
        POSTGRES_URL,
      )
      const { stderr } = await run(process.execPath, args, { cwd: REPO_ROOT, maxBuffer: 1 << 22 })

      const report = JSON.parse(await readFile(out, 'utf8')) as {
        runs: {
          system: string
          failure: string | null
          windows: { phase: string; completionsPerSecond: number; backlog: number; dbCpuPercent: number }[]
          summary: { cleanCpuMsPerJob: number; heldCpuMsPerJob: number; enqueued: number; completed: number }
          explain: string | null
        }[]
      }
      expect(report.runs.map((r) => r.system)).toEqual(systems)
      for (const r of report.runs) {
        expect(r.failure, `${r.system}: ${stderr}`).toBeNull()
        expect(new Set(r.windows.map((w) => w.phase)), r.system).toEqual(
          new Set(['warmup', 'clean', 'held', 'recovery']),
        )
        expect(r.summary.enqueued, r.system).toBeGreaterThan(0)
        // Every job enqueued is completed once the producer stops and the worker drains.
        expect(r.summary.completed, r.system).toBe(r.summary.enqueued)
        for (const w of r.windows) expect(w.dbCpuPercent, r.system).toBeGreaterThanOrEqual(0)
      }
      for (const id of CANDIDATE_IDS) {
        const r = report.runs.find((x) => x.system === id)!
        expect(r.explain, id).toContain('Buffers')
      }
      const text = await readFile(markdown, 'utf8')
      expect(text).toContain('# Held-horizon pressure')
      expect(text).toContain('| system | phase |')
    } finally {
      await rm(tmp, { recursive: true, force: true })
    }
  }, 600_000)
})
