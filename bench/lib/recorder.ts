/**
 * Collects samples per round and turns them into result rows and Conveyor-over-peer ratios. Ratios
 * are computed pair by pair within a round (the runs of a round are close in time), then the median
 * of those per-round ratios is reported.
 */
import { median, round } from './stats.js'
import type { Direction, WorkloadId } from './types.js'

/** One result row of `latest.json`. */
export interface ResultRow {
  readonly workload: WorkloadId
  readonly system: string
  readonly config: string
  readonly metric: string
  readonly unit: string
  readonly better: Direction
  readonly median: number
  readonly min: number
  readonly max: number
  /** Values of the successful runs, in round order. */
  readonly runs: number[]
  /** Why runs failed, one entry per failed run. */
  readonly failures: string[]
  /** Caveats of this row (partial runs, settings). */
  readonly notes: string[]
}

/** A Conveyor-over-peer ratio for one workload and metric. */
export interface RatioRow {
  readonly workload: WorkloadId
  readonly metric: string
  readonly better: Direction
  readonly conveyorConfig: string
  readonly peer: string
  readonly peerConfig: string
  /** Median over rounds of (Conveyor value / peer value) in the same round. */
  readonly median: number
  readonly min: number
  readonly max: number
  readonly runs: number[]
}

/** A measurement that could not be made at all, and why. */
export interface SkipRow {
  readonly workload: WorkloadId
  readonly system: string
  readonly reason: string
}

interface Series {
  workload: WorkloadId
  system: string
  config: string
  metric: string
  unit: string
  better: Direction
  values: Map<number, number>
  failures: string[]
  notes: Set<string>
}

/** Accumulates samples and failures during a run of the harness. */
export class Recorder {
  readonly #series = new Map<string, Series>()
  readonly #skips: SkipRow[] = []

  #get(
    workload: WorkloadId,
    system: string,
    config: string,
    metric: string,
    unit: string,
    better: Direction,
  ): Series {
    const key = JSON.stringify([workload, system, config, metric])
    let s = this.#series.get(key)
    if (!s) {
      s = {
        workload,
        system,
        config,
        metric,
        unit,
        better,
        values: new Map(),
        failures: [],
        notes: new Set(),
      }
      this.#series.set(key, s)
    }
    return s
  }

  /** Records one value of round `roundIndex`. */
  add(
    sample: {
      workload: WorkloadId
      system: string
      config: string
      metric: string
      unit: string
      better: Direction
      value: number
      note?: string
    },
    roundIndex: number,
  ): void {
    const s = this.#get(
      sample.workload,
      sample.system,
      sample.config,
      sample.metric,
      sample.unit,
      sample.better,
    )
    if (Number.isFinite(sample.value)) s.values.set(roundIndex, sample.value)
    if (sample.note) s.notes.add(sample.note)
  }

  /** Records that a run failed; every metric of that run shows the failure. */
  fail(
    series: { workload: WorkloadId; system: string; config: string; metrics: readonly MetricSpec[] },
    roundIndex: number,
    reason: string,
  ): void {
    for (const m of series.metrics) {
      const s = this.#get(series.workload, series.system, series.config, m.metric, m.unit, m.better)
      s.failures.push(`round ${roundIndex + 1}: ${reason}`)
    }
  }

  /** Records a measurement left out on purpose. */
  skip(row: SkipRow): void {
    if (!this.#skips.some((s) => s.workload === row.workload && s.system === row.system))
      this.#skips.push(row)
  }

  /** The result rows, in the order their series were first seen. */
  rows(): ResultRow[] {
    return [...this.#series.values()].map((s) => {
      const runs = [...s.values.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => round(v))
      return {
        workload: s.workload,
        system: s.system,
        config: s.config,
        metric: s.metric,
        unit: s.unit,
        better: s.better,
        median: runs.length ? round(median(runs)) : Number.NaN,
        min: runs.length ? Math.min(...runs) : Number.NaN,
        max: runs.length ? Math.max(...runs) : Number.NaN,
        runs,
        failures: s.failures,
        notes: [...s.notes],
      }
    })
  }

  /** Conveyor over every other system of the same workload and metric, pair by pair per round. */
  ratios(): RatioRow[] {
    const out: RatioRow[] = []
    const all = [...this.#series.values()]
    for (const conv of all.filter((s) => s.system === 'conveyor')) {
      for (const peer of all) {
        if (peer.system === 'conveyor' || peer.workload !== conv.workload || peer.metric !== conv.metric)
          continue
        const runs = pairRatios(conv.values, peer.values)
        if (runs.length === 0) continue
        out.push({
          workload: conv.workload,
          metric: conv.metric,
          better: conv.better,
          conveyorConfig: conv.config,
          peer: peer.system,
          peerConfig: peer.config,
          median: round(median(runs)),
          min: round(Math.min(...runs)),
          max: round(Math.max(...runs)),
          runs: runs.map(round),
        })
      }
    }
    return out
  }

  /** Per-round values of one series (round index to value). */
  values(workload: WorkloadId, system: string, config: string, metric: string): Map<number, number> {
    const key = JSON.stringify([workload, system, config, metric])
    return this.#series.get(key)?.values ?? new Map()
  }

  skips(): SkipRow[] {
    return [...this.#skips]
  }
}

/** The metric name, unit and direction of one measured quantity. */
export interface MetricSpec {
  readonly metric: string
  readonly unit: string
  readonly better: Direction
}

/** a/b for every round both series measured. */
export function pairRatios(a: Map<number, number>, b: Map<number, number>): number[] {
  const out: number[] = []
  for (const [roundIndex, av] of [...a.entries()].sort((x, y) => x[0] - y[0])) {
    const bv = b.get(roundIndex)
    if (bv !== undefined && bv !== 0 && Number.isFinite(av)) out.push(av / bv)
  }
  return out
}
