/**
 * W7: the memory adapter against a plain-array baseline, by running `bench/memory.bench.ts` (its
 * enqueueMany + assert, one-by-one enqueue and drain of N jobs, and the baseline doing the same
 * bookkeeping by hand) in a child process and reading the figures it prints.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { type BenchContext, measure, scaled } from '../lib/context.js'
import type { MetricSpec } from '../lib/recorder.js'

const run = promisify(execFile)
const SCRIPT = fileURLToPath(new URL('../memory.bench.ts', import.meta.url))
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const THROUGHPUT: MetricSpec = { metric: 'throughput', unit: 'jobs/s', better: 'higher' }
const INNER_ROUNDS = 3
const BASELINE = 'plain array (insert + filter + run)'

/** One line of memory.bench.ts's output. */
export interface MemoryFigure {
  readonly name: string
  readonly jobsPerSecond: number
}

/** Reads `name   123 ms   456,789 jobs/s` lines. */
export function parseMemoryOutput(stdout: string): MemoryFigure[] {
  const out: MemoryFigure[] = []
  for (const line of stdout.split('\n')) {
    const m = /^(.*?)\s+(\d+) ms\s+([\d,]+) jobs\/s\s*$/.exec(line.trim())
    if (m) out.push({ name: m[1]!.trim(), jobsPerSecond: Number(m[3]!.replace(/,/g, '')) })
  }
  return out
}

/** Runs W7 once: both Conveyor's memory adapter and the baseline come from one child run. */
export async function runMemory(ctx: BenchContext, round: number): Promise<void> {
  const n = scaled(ctx, 100_000, 1_000)
  let figures: MemoryFigure[] = []
  const ok = await measure(
    ctx,
    { workload: 'W7', system: 'memory.bench.ts', config: 'all', round, metrics: [] },
    600_000,
    async () => {
      const { stdout } = await run(
        process.execPath,
        ['--import', 'tsx', SCRIPT, String(n), String(INNER_ROUNDS)],
        {
          cwd: REPO_ROOT,
          maxBuffer: 1 << 20,
        },
      )
      figures = parseMemoryOutput(stdout)
      if (!figures.some((f) => f.name === BASELINE) || figures.length < 2) {
        throw new Error(`unexpected output of memory.bench.ts: ${stdout.slice(0, 300)}`)
      }
      return []
    },
  )
  if (!ok) {
    ctx.recorder.fail(
      { workload: 'W7', system: 'conveyor', config: 'memory adapter', metrics: [THROUGHPUT] },
      round,
      'memory.bench.ts failed',
    )
    return
  }
  for (const f of figures) {
    const baseline = f.name === BASELINE
    ctx.recorder.add(
      {
        workload: 'W7',
        system: baseline ? 'plain-array' : 'conveyor',
        config: baseline ? 'baseline' : `memory: ${f.name}`,
        ...THROUGHPUT,
        value: f.jobsPerSecond,
        note: `${n.toLocaleString('en-US')} jobs, median of ${INNER_ROUNDS} runs inside memory.bench.ts`,
      },
      round,
    )
  }
}
