/**
 * Storage candidates of issue 19: alternative schemas for the jobs table, each reduced to the
 * statements the hot path needs (insert a batch, claim up to N, complete a batch) so that they can be
 * driven with no queue runtime, on the W0 shapes and under the held-horizon pressure.
 *
 * Glossary:
 * - candidate: one storage design (`baseline` is today's schema and adapter statements).
 * - claimer: one claim loop's handle; a design may keep state between claims (E keeps a cursor).
 * - maintenance: periodic work a design needs besides VACUUM (C rotates its waiting partitions).
 */
import type pg from 'pg'

/** The ids of the candidates, in report order. */
export type CandidateId = 'baseline' | 'A' | 'B' | 'C' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I'

/** Something that runs SQL: a pool or one of its clients. */
export type Db = pg.Pool | pg.PoolClient

/** A job as a claim returns it: what the worker needs to run and complete it. */
export interface ClaimedJob {
  readonly id: string
  readonly attempt: number
  readonly payload: unknown
}

/** One claim loop's handle on a design. */
export interface Claimer {
  /** Claims up to `limit` due jobs of queue `default`, kind `noop`, for this claimer's worker id. */
  claim(db: Db, limit: number): Promise<ClaimedJob[]>
  /** The claim statement with the parameters the next claim would use, for EXPLAIN. */
  nextClaim(limit: number): { text: string; values: unknown[] }
}

/** One storage design, driven through its statements only. */
export interface Candidate {
  readonly id: CandidateId
  /** One line saying what the design is. */
  readonly title: string
  /** Creates the design's tables in an empty database. */
  install(pool: pg.Pool): Promise<void>
  /** Inserts one job per payload (JSON text) into queue `default`, kind `noop`, due now, in one statement that returns the new ids (as the adapter's does). */
  insert(db: Db, payloads: readonly string[]): Promise<void>
  /** A claim loop's handle; `workerId` is written as the claimer of the jobs it takes. */
  openClaimer(workerId: string): Claimer
  /** Records the jobs as succeeded (only those still running that attempt for `workerId`); returns how many. */
  complete(db: Db, workerId: string, jobs: readonly ClaimedJob[]): Promise<number>
  /** Counts of jobs not finished and finished (checks after a run). */
  counts(db: Db): Promise<{ unfinished: number; finished: number }>
  /** The channel the insert notifies when jobs become available. */
  readonly channel: string
  /** Work the design needs every `everyMs` besides VACUUM, if any. */
  readonly maintenance?: { readonly everyMs: number; run(pool: pg.Pool): Promise<void> }
}

/** Report label of a candidate in W0 and in the pressure report. */
export function candidateLabel(candidate: Candidate): string {
  return `${candidate.id}: ${candidate.title}`
}
