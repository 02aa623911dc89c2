/**
 * The goals of the benchmark issue, read from the recorded series: each one is a per-round ratio
 * (or a per-round value), and the median over rounds is compared with its target.
 *
 * Each goal that has one also carries a ceiling: the same ratio (or value) with Conveyor's figure
 * replaced by its own SQL driven with no worker at all (W0 `conveyor`/`adapter SQL, no worker`; for
 * pickup latency, its insert and claim statements in W4's shape). A ceiling that misses the target
 * means no worker-side work can meet the goal on this schema.
 */
import { pairRatios, type Recorder } from './recorder.js'
import { median, round } from './stats.js'

/** One goal and where Conveyor stands. */
export interface GoalRow {
  readonly goal: string
  /** `>= 2` or `<= 8 ms`. */
  readonly target: string
  readonly median: number
  readonly runs: number[]
  readonly met: boolean | null
  /**
   * Median over rounds of the best this goal's ratio or value could reach with Conveyor's SQL and
   * no worker runtime (absent when its inputs were not measured).
   */
  readonly ceiling?: number
  /** Per-round values of `ceiling`, in round order. */
  readonly ceilingRuns?: number[]
  /** Whether `ceiling` itself meets the target. */
  readonly ceilingMet?: boolean
}

/** W0 series of Conveyor's own SQL with no worker. */
const FLOOR = ['W0', 'conveyor', 'adapter SQL, no worker'] as const
/** W0 series of raw SQL on the minimal table. */
const RAW = ['W0', 'postgres', 'raw SQL'] as const

const POSTGRES_PEERS_BEST: [string, string][] = [
  ['pg-boss', 'best'],
  ['graphile-worker', 'best'],
]

/** Evaluates every goal that has data. */
export function evaluateGoals(recorder: Recorder): GoalRow[] {
  const goals: GoalRow[] = []
  const convDrain = recorder.values('W3', 'conveyor', 'defaults', 'throughput')

  const bestPeer = (workload: 'W2' | 'W3', metric: string, peers: [string, string][]) => {
    const best = new Map<number, number>()
    for (const [system, config] of peers) {
      for (const [r, v] of recorder.values(workload, system, config, metric))
        best.set(r, Math.max(best.get(r) ?? 0, v))
    }
    return best
  }
  /** The ceiling fields of a goal from its per-round ceiling values (none when there are none). */
  const ceilingOf = (runs: number[], meets: (v: number) => boolean) => {
    if (runs.length === 0) return {}
    const m = median(runs)
    return { ceiling: round(m), ceilingRuns: runs.map(round), ceilingMet: meets(m) }
  }
  const ratioGoal = (
    goal: string,
    min: number,
    a: Map<number, number>,
    b: Map<number, number>,
    ceilingA: Map<number, number> = new Map(),
  ) => {
    const runs = pairRatios(a, b)
    if (runs.length === 0) return
    const m = median(runs)
    goals.push({
      goal,
      target: `>= ${min}`,
      median: round(m),
      runs: runs.map(round),
      met: m >= min,
      ...ceilingOf(pairRatios(ceilingA, b), (v) => v >= min),
    })
  }
  const valueGoal = (
    goal: string,
    max: number,
    unit: string,
    values: Map<number, number>,
    ceilingValues: Map<number, number> = new Map(),
  ) => {
    const runs = inRoundOrder(values)
    if (runs.length === 0) return
    const m = median(runs)
    goals.push({
      goal,
      target: `<= ${max} ${unit}`,
      median: round(m),
      runs: runs.map(round),
      met: m <= max,
      ...ceilingOf(inRoundOrder(ceilingValues), (v) => v <= max),
    })
  }
  const floorClaim100 = recorder.values(...FLOOR, 'claim 100 + complete, 10 connections')

  ratioGoal(
    'W3 drain, Conveyor defaults / best-tuned Postgres peer (issue floor 2x; PERFORMANCE.md aims at 3x)',
    2,
    convDrain,
    bestPeer('W3', 'throughput', POSTGRES_PEERS_BEST),
    floorClaim100,
  )
  ratioGoal(
    'W3 drain, Conveyor defaults / raw claim-100 + mark done (W0)',
    0.5,
    convDrain,
    recorder.values(...RAW, 'claim 100 + mark done, 10 connections'),
    floorClaim100,
  )
  ratioGoal(
    'W2 batch enqueue, Conveyor / best Postgres peer',
    2,
    recorder.values('W2', 'conveyor', 'defaults', 'throughput'),
    bestPeer('W2', 'throughput', [
      ['pg-boss', 'defaults'],
      ['graphile-worker', 'defaults'],
    ]),
    recorder.values(...FLOOR, '1,000-row insert'),
  )
  ratioGoal(
    'W1 one-by-one enqueue, Conveyor / raw single-row insert (W0)',
    0.9,
    recorder.values('W1', 'conveyor', 'defaults', 'throughput'),
    recorder.values(...RAW, 'single-row insert, 1 connection'),
    recorder.values(...FLOOR, 'single-row insert, 1 connection'),
  )
  valueGoal(
    'W4 pickup latency p50, Conveyor defaults',
    2,
    'ms',
    recorder.values('W4', 'conveyor', 'defaults', 'latency p50'),
    recorder.values(...FLOOR, 'pickup via NOTIFY + claim p50'),
  )
  valueGoal(
    'W4 pickup latency p99, Conveyor defaults',
    8,
    'ms',
    recorder.values('W4', 'conveyor', 'defaults', 'latency p99'),
    recorder.values(...FLOOR, 'pickup via NOTIFY + claim p99'),
  )
  valueGoal(
    'W5 peak RSS of the worker, Conveyor defaults',
    80,
    'MB',
    recorder.values('W5', 'conveyor', 'defaults', 'peak RSS'),
  )
  const fraction = recorder.values('W6', 'conveyor', 'defaults', 'retained / empty')
  if (fraction.size) {
    const runs = [...fraction.values()]
    const m = median(runs)
    goals.push({
      goal: 'W6 drain with finished rows retained / empty table, Conveyor defaults',
      target: '>= 0.8',
      median: round(m),
      runs: runs.map(round),
      met: m >= 0.8,
    })
  }
  return goals
}

/** The values of a per-round series, in round order. */
function inRoundOrder(values: Map<number, number>): number[] {
  return [...values.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v)
}
