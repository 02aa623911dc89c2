/** The summary of a pressure run (clean against held), and its JSON and Markdown reports. */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { percentile, round } from '../lib/stats.js'
import type { PressureOptions } from './options.js'
import { PHASES, type Phase, type PressureWindow, type SystemRun } from './run-system.js'

/** One phase of one system, over all its windows. */
export interface PhaseSummary {
  readonly phase: Phase
  readonly completionsPerSecond: number
  readonly dbCpuPercent: number
  /** Database CPU per completed job, ms. */
  readonly cpuMsPerJob: number
  readonly pickupP50: number
  readonly pickupP99: number
  readonly backlogEnd: number
  readonly backlogMax: number
  readonly deadTuplesMax: number
  readonly tableMbEnd: number
}

/** What the goals ask of the held phase, against the clean one. */
export interface RunSummary {
  readonly enqueued: number
  readonly completed: number
  readonly duplicates: number
  readonly drainSeconds: number
  readonly cleanCpuMsPerJob: number
  readonly heldCpuMsPerJob: number
  /** Held over clean database CPU per job (goal: <= 1.5). */
  readonly cpuPerJobRatio: number
  /** Least-squares slope of the backlog over the held windows, jobs per second (goal: about 0). */
  readonly heldBacklogSlope: number
  readonly heldP99: number
  readonly phases: PhaseSummary[]
}

/** Summarizes one system's run. */
export function summarize(run: SystemRun): RunSummary {
  const phases = PHASES.map((phase) =>
    phaseSummary(
      phase,
      run.windows.filter((w) => w.phase === phase),
      run,
    ),
  )
  const of = (phase: Phase) => phases.find((p) => p.phase === phase)!
  return {
    enqueued: run.enqueued,
    completed: run.completed,
    duplicates: run.duplicates,
    drainSeconds: round(run.drainSeconds),
    cleanCpuMsPerJob: of('clean').cpuMsPerJob,
    heldCpuMsPerJob: of('held').cpuMsPerJob,
    cpuPerJobRatio: round(of('held').cpuMsPerJob / of('clean').cpuMsPerJob),
    heldBacklogSlope: round(slope(run.windows.filter((w) => w.phase === 'held'))),
    heldP99: of('held').pickupP99,
    phases,
  }
}

function phaseSummary(phase: Phase, windows: PressureWindow[], run: SystemRun): PhaseSummary {
  const seconds = windows.reduce((s, w) => s + w.seconds, 0)
  const completions = windows.reduce((s, w) => s + w.completionsPerSecond * w.seconds, 0)
  const cpuMs = windows.reduce((s, w) => s + (w.dbCpuPercent / 100) * w.seconds * 1000, 0)
  const latencies = run.latencies[phase]
  return {
    phase,
    completionsPerSecond: round(completions / seconds),
    dbCpuPercent: round(cpuMs / 10 / seconds),
    cpuMsPerJob: round(cpuMs / completions),
    pickupP50: round(percentile(latencies, 50)),
    pickupP99: round(percentile(latencies, 99)),
    backlogEnd: windows.at(-1)?.backlog ?? Number.NaN,
    backlogMax: Math.max(...windows.map((w) => w.backlog)),
    deadTuplesMax: Math.max(...windows.map((w) => w.deadTuples)),
    tableMbEnd: round(windows.at(-1)?.tableMb ?? Number.NaN),
  }
}

function slope(windows: PressureWindow[]): number {
  if (windows.length < 2) return Number.NaN
  const xs = windows.map((w) => w.at)
  const ys = windows.map((w) => w.backlog)
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length
  const my = ys.reduce((a, b) => a + b, 0) / ys.length
  let num = 0
  let den = 0
  for (let k = 0; k < xs.length; k++) {
    num += (xs[k]! - mx) * (ys[k]! - my)
    den += (xs[k]! - mx) ** 2
  }
  return num / den
}

/** The JSON report of a pressure run. */
export interface PressureReport {
  readonly generatedAt: string
  readonly options: PressureOptions
  readonly machine: { readonly cores: number; readonly postgres: string; readonly loadAverage: number[] }
  readonly runs: {
    readonly system: string
    readonly failure: string | null
    readonly summary: RunSummary
    readonly windows: PressureWindow[]
    readonly explain: string | null
  }[]
}

/** Writes the JSON report. */
export async function writePressureJson(path: string, report: PressureReport): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, `${JSON.stringify(report, roundNumbers, 2)}\n`)
}

function roundNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' ? round(value) : value
}

const f = (n: number) =>
  Number.isFinite(n) ? (Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : String(round(n))) : '-'

/** Writes the Markdown report: the summary table, then every window. */
export async function writePressureMarkdown(path: string, report: PressureReport): Promise<void> {
  const o = report.options
  const lines = [
    '# Held-horizon pressure',
    '',
    `${report.generatedAt}; ${report.machine.cores} cores, PostgreSQL ${report.machine.postgres}; load average at the end ${report.machine.loadAverage.join(' ')}.`,
    `Rate ${o.rate} jobs/s (a batch every 10 ms, 256-byte payloads), one worker process at concurrency 10 with a ${o.handlerMs} ms handler,`,
    `VACUUM every ${o.vacuumEvery} s; phases warmup ${o.warmup} s, clean ${o.clean} s, held ${o.hold} s (an idle REPEATABLE READ transaction with an xid), recovery ${o.recovery} s.`,
    "Database CPU: utime + stime from /proc of the server processes connected to the run's database (100% = one core).",
    '',
    '## Summary',
    '',
    '| system | clean CPU ms/job | held CPU ms/job | held/clean | held backlog slope (jobs/s) | held p50 / p99 ms | clean p50 / p99 ms | drain s | failure |',
    '|---|---|---|---|---|---|---|---|---|',
  ]
  for (const r of report.runs) {
    const s = r.summary
    const clean = s.phases.find((p) => p.phase === 'clean')!
    const held = s.phases.find((p) => p.phase === 'held')!
    lines.push(
      `| ${r.system} | ${f(s.cleanCpuMsPerJob)} | ${f(s.heldCpuMsPerJob)} | ${f(s.cpuPerJobRatio)} | ${f(s.heldBacklogSlope)} | ${f(held.pickupP50)} / ${f(held.pickupP99)} | ${f(clean.pickupP50)} / ${f(clean.pickupP99)} | ${f(s.drainSeconds)} | ${r.failure ?? ''} |`,
    )
  }
  lines.push(
    '',
    '## Phases',
    '',
    '| system | phase | done/s | db CPU % | CPU ms/job | p50 ms | p99 ms | backlog end | backlog max | dead tuples max | MB end |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  )
  for (const r of report.runs) {
    for (const p of r.summary.phases) {
      lines.push(
        `| ${r.system} | ${p.phase} | ${f(p.completionsPerSecond)} | ${f(p.dbCpuPercent)} | ${f(p.cpuMsPerJob)} | ${f(p.pickupP50)} | ${f(p.pickupP99)} | ${f(p.backlogEnd)} | ${f(p.backlogMax)} | ${f(p.deadTuplesMax)} | ${f(p.tableMbEnd)} |`,
      )
    }
  }
  lines.push(
    '',
    '## Every report',
    '',
    '| system | phase | at s | done/s | backlog | p50 ms | p99 ms | dead tuples | MB | db CPU % | worker CPU % |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  )
  for (const r of report.runs) {
    for (const w of r.windows) {
      lines.push(
        `| ${r.system} | ${w.phase} | ${f(w.at)} | ${f(w.completionsPerSecond)} | ${f(w.backlog)} | ${f(w.pickupP50)} | ${f(w.pickupP99)} | ${f(w.deadTuples)} | ${f(w.tableMb)} | ${f(w.dbCpuPercent)} | ${f(w.workerCpuPercent)} |`,
      )
    }
  }
  const explained = report.runs.filter((r) => r.explain)
  if (explained.length) {
    lines.push('', '## The claim at the end of the held phase', '')
    for (const r of explained) lines.push(`### ${r.system}`, '', '```', r.explain!, '```', '')
  }
  await mkdir(dirname(path), { recursive: true })
  await writeFile(path, `${lines.join('\n')}\n`)
}
