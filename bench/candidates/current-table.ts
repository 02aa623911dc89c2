/**
 * The candidates on today's jobs table: `baseline` (the migrated schema and the adapter's own
 * statements, as `adapter-floor.ts` drives them), D (the same statements on the same table with fewer
 * indexes and checks) and E (the same table with a claim that resumes its index scan at a cursor).
 */
import { claimJobs } from '../../src/adapters/postgres/claim.js'
import {
  ClaimCursors,
  DEFAULT_CLAIM_CURSOR,
  FRONT,
  type ScanStart,
} from '../../src/adapters/postgres/claim-cursor.js'
import { completeJobs } from '../../src/adapters/postgres/complete.js'
import { insertJobs } from '../../src/adapters/postgres/insert-jobs.js'
import { migrate } from '../../src/adapters/postgres/migrate.js'
import { sqlNames } from '../../src/adapters/postgres/sql-names.js'
import { storeStatements } from '../../src/adapters/postgres/statements.js'
import { resolveNewJob } from '../../src/core/domain/enqueue-options.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import type { Candidate, ClaimedJob, Claimer, Db } from './types.js'

const names = sqlNames('conveyor')
const sql = storeStatements(names)
const noop = defineJob<Record<string, unknown>>({ kind: 'noop' })

const claimParams = (workerId: string, limit: number) => ({
  queues: ['default'],
  kinds: ['noop'],
  capacity: limit,
  strategy: 'priority' as const,
  oversizedFirst: false,
  workerId,
  now: Date.now(),
})

/**
 * The values `claimJobs` binds for these parameters (see claim.ts), for EXPLAIN; the scan starts at
 * `start` (the keyset claim's cursor less its lookback), by default at the front.
 */
function claimValues(workerId: string, limit: number, start: ScanStart = FRONT): unknown[] {
  const p = claimParams(workerId, limit)
  return [
    p.queues,
    p.kinds,
    p.now,
    null,
    limit,
    p.now,
    workerId,
    names.groupLockSpace,
    false,
    null, // maxWeight: any
    [start.runAt],
    [start.priority],
  ]
}

const toClaimed = (job: JobRecord): ClaimedJob => ({ id: job.id, attempt: job.attempt, payload: job.payload })

/** What baseline, D, E and F share: the schema's insert, completion and counts. */
function onTodaysTable(
  id: 'baseline' | 'D' | 'E' | 'F',
  title: string,
  alter: readonly string[],
  openClaimer: (workerId: string) => Claimer,
): Candidate {
  return {
    id,
    title,
    channel: names.jobsChannel,
    async install(pool) {
      await migrate(pool, names)
      for (const statement of alter) await pool.query(statement)
    },
    async insert(db, payloads) {
      const now = Date.now()
      const jobs = payloads.map((p) => resolveNewJob(noop, JSON.parse(p), {}, now))
      await insertJobs(db, names, sql.insert, jobs, now)
    },
    openClaimer,
    async complete(db, _workerId, jobs) {
      const completions = jobs.map((j) => ({ id: j.id, outcome: 'succeeded' as const, attempt: j.attempt }))
      return (await completeJobs(db, names, sql.complete, completions, Date.now())).updated
    },
    counts: (db) => countStates(db),
  }
}

/** Jobs not finished and jobs succeeded, in `jobs` and `job_history` together. */
export async function countStates(db: Db): Promise<{ unfinished: number; finished: number }> {
  const { rows } = await db.query<{ unfinished: number; finished: number }>(
    // Since migration 009 the adapter's completion moves a finished job to the history table.
    `SELECT count(*) FILTER (WHERE finished_at IS NULL)::int AS unfinished,
            count(*) FILTER (WHERE state = 'succeeded')::int AS finished
       FROM (SELECT finished_at, state FROM ${names.jobs} UNION ALL SELECT finished_at, state FROM ${names.history}) j`,
  )
  return rows[0]!
}

/** The adapter's own claim, unchanged. */
export function adapterClaimer(workerId: string): Claimer {
  return {
    claim: async (db, limit) =>
      (await claimJobs(db, names, sql.claim, claimParams(workerId, limit))).map(toClaimed),
    nextClaim: (limit) => ({ text: sql.claim['priority:one'], values: claimValues(workerId, limit) }),
  }
}

/** Today's schema and statements. */
export const baseline: Candidate = onTodaysTable(
  'baseline',
  "today's jobs table and adapter statements",
  [],
  adapterClaimer,
)

/**
 * D: today's table with one claim index instead of two (the `time` strategy's index dropped; a
 * deployment would create the index of the strategy it uses), a BRIN index on `finished_at` for
 * pruning instead of a b-tree that takes an entry on every completion, and only the state check
 * (the eight other checks are validated by the code that writes the row).
 */
export const fewerIndexes: Candidate = onTodaysTable(
  'D',
  "today's table, one claim index, BRIN finished_at, one check",
  [
    `DROP INDEX IF EXISTS ${names.quotedSchema}.jobs_claim_time_idx`,
    `DROP INDEX ${names.quotedSchema}.jobs_finished_at_idx`,
    `CREATE INDEX jobs_finished_at_brin ON ${names.jobs} USING brin (finished_at)`,
    `ALTER TABLE ${names.jobs} DROP CONSTRAINT jobs_attempt_range, DROP CONSTRAINT jobs_max_attempts_positive,
       DROP CONSTRAINT jobs_timeout_not_negative, DROP CONSTRAINT jobs_weight_positive,
       DROP CONSTRAINT jobs_errors_array, DROP CONSTRAINT jobs_finished_at_iff_final,
       DROP CONSTRAINT jobs_depends_on_not_empty, DROP CONSTRAINT jobs_schedule_tick_named`,
  ],
  adapterClaimer,
)

/**
 * E, now the adapter's default claim (`claim-cursor.ts`): each claim of a claim loop (`resume`)
 * resumes at the key of the last job it took, less 1 s of lookback, and one claim a second scans
 * from the front, which takes the jobs a cursor misses (a higher priority, a due time behind the
 * cursor, a commit later than the lookback, a job skipped while locked and released).
 */
function keysetClaimer(workerId: string): Claimer {
  const cursors = new ClaimCursors(DEFAULT_CLAIM_CURSOR)
  return {
    claim: async (db, limit) =>
      (await claimJobs(db, names, sql.claim, { ...claimParams(workerId, limit), resume: true }, cursors)).map(
        toClaimed,
      ),
    // The steady state of a worker that keeps up: its cursor at the newest due job, less the lookback.
    nextClaim: (limit) => ({
      text: sql.claim['priority:one'],
      values: claimValues(workerId, limit, {
        priority: 0,
        runAt: Date.now() - DEFAULT_CLAIM_CURSOR.lookbackMs,
      }),
    }),
  }
}

/** E: today's table; the claim resumes its index scan from a cursor. */
export const keysetClaim: Candidate = onTodaysTable(
  'E',
  "today's table, claim resumes its scan at a cursor (the adapter's default lookback, full scan every 1 s)",
  [],
  keysetClaimer,
)

/**
 * F: today's table and statements with no index that a claim changes, so that every claim is a HOT
 * update (the job row stays on its page and no index takes an entry): the claim, kind, group and
 * unique-key indexes lose their state predicates (`jobs` holds only unfinished jobs since migration
 * 009, so they then also cover running and paused jobs, which claims filter in the heap), the two
 * running indexes are dropped, and the table keeps half of each page free. Statements only: the rescue
 * and the group checks would need another way to find running jobs.
 */
export const hotClaim: Candidate = onTodaysTable(
  'F',
  "today's table, no index on what a claim changes (every claim a HOT update), fillfactor 50",
  [
    `DROP INDEX ${names.quotedSchema}.jobs_running_idx`,
    `DROP INDEX ${names.quotedSchema}.jobs_group_running_idx`,
    `DROP INDEX ${names.quotedSchema}.jobs_claim_priority_idx`,
    `CREATE INDEX jobs_claim_priority_idx ON ${names.jobs} (queue, priority, run_at, id)`,
    `DROP INDEX ${names.quotedSchema}.jobs_waiting_kind_idx`,
    `CREATE INDEX jobs_waiting_kind_idx ON ${names.jobs} (kind, queue, run_at)`,
    `DROP INDEX ${names.quotedSchema}.jobs_group_idx`,
    `CREATE INDEX jobs_group_idx ON ${names.jobs} (group_key, id) WHERE group_key IS NOT NULL`,
    `DROP INDEX ${names.quotedSchema}.jobs_unique_key_held_idx`,
    `CREATE UNIQUE INDEX jobs_unique_key_held_idx ON ${names.jobs} (kind, unique_key) WHERE unique_key IS NOT NULL`,
    `ALTER TABLE ${names.jobs} SET (fillfactor = 50)`,
  ],
  adapterClaimer,
)
