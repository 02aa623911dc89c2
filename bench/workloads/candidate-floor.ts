/**
 * W0, storage candidates (issue 19): each candidate design's statements with no runtime, on the W0
 * shapes of `adapter-floor.ts`, one fresh database per candidate:
 * - single-row inserts (one insert statement per job, each awaited), one connection;
 * - 1,000-row inserts, one connection;
 * - claim 100 + complete: 10 loops in parallel, each with a claim connection (the claim pool's
 *   session settings) and a completion connection.
 * `baseline` is today's schema and adapter statements (the `adapter SQL, no worker` series measures
 * the same thing; both are kept so each candidate run has its own baseline beside it).
 */
import pg from 'pg'
import { CLAIM_SESSION_SETTINGS } from '../../src/adapters/postgres/claim-pool.js'
import { CANDIDATES, candidateById, candidateConfig } from '../candidates/registry.js'
import type { Candidate } from '../candidates/types.js'
import { type BenchContext, freshTarget, measure, type Scope, scaled } from '../lib/context.js'
import type { MetricSpec } from '../lib/recorder.js'

const CONNECTIONS = 10
const BATCH = 1000
const PER_CLAIM = 100
const MAIN_SESSION = '-c jit=off'

/** The system name of the candidates' series in the report. */
export const CANDIDATE_SYSTEM = 'candidate'

const SINGLE: MetricSpec = { metric: 'single-row insert, 1 connection', unit: 'rows/s', better: 'higher' }
const MULTI: MetricSpec = { metric: '1,000-row insert', unit: 'rows/s', better: 'higher' }
const CLAIM100: MetricSpec = {
  metric: 'claim 100 + complete, 10 connections',
  unit: 'rows/s',
  better: 'higher',
}

/** The metrics of each candidate, in report order. */
export const CANDIDATE_METRICS = [SINGLE, MULTI, CLAIM100]

/** A payload like W3's (`{ i }`). */
const payload = (i: number) => JSON.stringify({ i })

/** The candidates a run measures: those of `--candidates`, else every one. */
export function selectedCandidates(ids: readonly string[] | null): readonly Candidate[] {
  return ids === null ? CANDIDATES : ids.map(candidateById)
}

/** Measures every selected candidate once, each on a fresh database. */
export async function runCandidateFloors(ctx: BenchContext, round: number): Promise<void> {
  for (const candidate of selectedCandidates(ctx.options.candidates)) {
    await measure(
      ctx,
      {
        workload: 'W0',
        system: CANDIDATE_SYSTEM,
        config: candidateConfig(candidate.id),
        round,
        metrics: CANDIDATE_METRICS,
      },
      600_000,
      async (scope) => {
        const pools = await open(ctx, scope, candidate)
        const single = await timedInserts(candidate, pools, scaled(ctx, 5_000, 50), 1)
        const multi = await timedInserts(candidate, pools, scaled(ctx, 50_000, 2_000), BATCH)
        const claim100 = await claimAndComplete(candidate, pools, scaled(ctx, 20_000, 200))
        return [
          { ...SINGLE, value: single },
          { ...MULTI, value: multi },
          { ...CLAIM100, value: claim100 },
        ]
      },
    )
  }
}

interface Pools {
  readonly main: pg.Pool
  readonly claims: pg.Pool
  /** Drops the candidate's schemas and creates its tables again (each measurement starts empty). */
  reset(): Promise<void>
}

async function open(ctx: BenchContext, scope: Scope, candidate: Candidate): Promise<Pools> {
  const target = await freshTarget(ctx, scope, `candidate_${candidate.id}`, 'postgres')
  const pool = (options: string) => {
    const p = new pg.Pool({ connectionString: target.databaseUrl, max: CONNECTIONS, options })
    p.on('error', () => {})
    scope.defer('close pool', () => p.end())
    return p
  }
  const main = pool(MAIN_SESSION)
  const claims = pool(`${MAIN_SESSION} ${CLAIM_SESSION_SETTINGS}`)
  await Promise.all(
    [main, claims].flatMap((p) => Array.from({ length: CONNECTIONS }, () => p.query('SELECT 1'))),
  )
  return {
    main,
    claims,
    // Dropping the candidate's schemas is much cheaper than a new database on a loaded server.
    // Sessions holding prepared statements of the old tables replan them on their next use.
    async reset() {
      await main.query('DROP SCHEMA IF EXISTS conveyor CASCADE')
      await main.query('DROP SCHEMA IF EXISTS cand CASCADE')
      await candidate.install(main)
    },
  }
}

async function timedInserts(candidate: Candidate, pools: Pools, n: number, size: number): Promise<number> {
  await pools.reset()
  const client = await pools.main.connect()
  try {
    const t0 = performance.now()
    for (let start = 0; start < n; start += size) {
      const batch = Array.from({ length: Math.min(size, n - start) }, (_, k) => payload(start + k))
      await candidate.insert(client, batch)
    }
    const rate = n / ((performance.now() - t0) / 1000)
    const counts = await candidate.counts(client)
    if (counts.unfinished !== n)
      throw new Error(`${candidate.id}: ${counts.unfinished} of ${n} jobs inserted`)
    return rate
  } finally {
    client.release()
  }
}

async function claimAndComplete(candidate: Candidate, pools: Pools, n: number): Promise<number> {
  await pools.reset()
  for (let start = 0; start < n; start += BATCH) {
    await candidate.insert(
      pools.main,
      Array.from({ length: Math.min(BATCH, n - start) }, (_, k) => payload(start + k)),
    )
  }
  await pools.main.query('VACUUM ANALYZE')
  let written = 0
  const loop = async (k: number) => {
    const workerId = `bench-candidate-${k}`
    const claimer = candidate.openClaimer(workerId)
    const claimClient = await pools.claims.connect()
    const completeClient = await pools.main.connect()
    try {
      for (;;) {
        const jobs = await claimer.claim(claimClient, PER_CLAIM)
        if (jobs.length === 0) return
        const done = await candidate.complete(completeClient, workerId, jobs)
        written += done
      }
    } finally {
      claimClient.release()
      completeClient.release()
    }
  }
  const t0 = performance.now()
  await Promise.all(Array.from({ length: CONNECTIONS }, (_, k) => loop(k)))
  const seconds = (performance.now() - t0) / 1000
  const counts = await candidate.counts(pools.main)
  if (written !== n || counts.finished !== n || counts.unfinished !== 0)
    throw new Error(
      `${candidate.id} claim ${PER_CLAIM}: ${written} completions written, ${counts.finished} finished, ${counts.unfinished} unfinished of ${n}`,
    )
  return n / seconds
}
