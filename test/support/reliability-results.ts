/**
 * Scale and figures of the reliability scenarios (`test/reliability`): each reads
 * `RELIABILITY_SCALE` (`short`, the default that `npm test` runs, or `long`, the full size)
 * and writes what it measured to `reliability-results/<scenario>.json` for RELIABILITY.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** `short` (default, a few seconds per scenario) or `long` (the full run, behind the runner script). */
export type ReliabilityScale = 'short' | 'long'

/** The scale chosen by `RELIABILITY_SCALE`. */
export function reliabilityScale(): ReliabilityScale {
  const value = process.env.RELIABILITY_SCALE ?? 'short'
  if (value !== 'short' && value !== 'long')
    throw new Error(`RELIABILITY_SCALE must be "short" or "long"; got "${value}".`)
  return value
}

/** Picks the short or the long value for the current scale. */
export function byScale<T>(values: { short: T; long: T }): T {
  return values[reliabilityScale()]
}

/** The figures every scenario reports; scenarios add their own. */
export interface ScenarioFigures {
  readonly scenario: string
  readonly rounds: number
  readonly faultsInjected: number
  readonly jobs: number
  readonly lost: number
  readonly doubled: number
  readonly durationMs: number
  readonly notes: string
  readonly [extra: string]: unknown
}

const RESULTS_DIR = fileURLToPath(new URL('../../reliability-results/', import.meta.url))

/** Writes `reliability-results/<scenario>.json` (with the scale and the time of the run); returns its path. */
export function writeScenarioResult(figures: ScenarioFigures): string {
  mkdirSync(RESULTS_DIR, { recursive: true })
  const path = join(RESULTS_DIR, `${figures.scenario}.json`)
  const record = { scale: reliabilityScale(), ranAt: new Date().toISOString(), ...figures }
  writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`)
  return path
}

/** p50, p90 and max of a list of durations (ms, rounded), or nulls when it is empty. */
export function percentiles(values: readonly number[]): {
  p50: number | null
  p90: number | null
  max: number | null
} {
  if (values.length === 0) return { p50: null, p90: null, max: null }
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!)
  return { p50: at(0.5), p90: at(0.9), max: Math.round(sorted[sorted.length - 1]!) }
}
