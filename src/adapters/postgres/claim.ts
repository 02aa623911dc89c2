/**
 * Claiming: one `UPDATE ... WHERE id = ANY(ARRAY(SELECT ... FOR UPDATE SKIP LOCKED))` statement
 * per claim. (`id IN (SELECT ...)` degrades into a hash semi-join over the whole table as it grows;
 * `= ANY(ARRAY(...))` always uses the primary key.)
 *
 * Candidates come in strategy order from a partial index of waiting jobs, filtered by due time,
 * kind, `maxId` and attempts left; a paused queue is dropped once per statement, not per row.
 * Dependencies and groups are checked only for rows that have them, so the common path is a plain
 * ordered index scan. Weights are applied over the locked candidates with a running sum.
 *
 * Groups: a stale-snapshot pre-check keeps only a group's smallest waiting id with nothing running;
 * then `claim_group_turn` (see migration 001) takes the group's advisory lock and checks again with
 * a fresh snapshot, so two concurrent claimers can never both start a job of one group.
 */
import type { JobRecord } from '../../core/domain/job.js'
import type { ClaimParams, PollStrategy } from '../../core/ports/store.js'
import { assertJobId } from './job-id.js'
import { queryRows, type SqlTarget } from './queryable.js'
import { type ClaimedJobRow, claimedJobColumns, toClaimedJob } from './row-mapping.js'
import { fromMs, nowMs, PENDING_SQL, type SqlNames, WAITING_SQL } from './sql-names.js'

const ORDER: Record<PollStrategy, (a: string) => string> = {
  priority: (a) => `${a}.priority, ${a}.run_at, ${a}.id`,
  time: (a) => `${a}.run_at, ${a}.id`,
}

/** Claim statements by variant: strategy, and one queue (an ordered index scan) or several. */
export type ClaimSql = Readonly<Record<`${PollStrategy}:${'one' | 'many'}`, string>>

/**
 * Parameters: $1 queues text[], $2 kinds text[], $3 due-by ms (null: now), $4 max id or null, $5 capacity,
 * $6 now ms (null: the database's), $7 worker id, $8 group lock space, $9 take the first job even if it exceeds capacity.
 */
function buildClaimSql(names: SqlNames, strategy: PollStrategy, manyQueues: boolean): string {
  const queueFilter = manyQueues ? 'j.queue = a.name' : 'j.queue = ($1::text[])[1]'
  const candidates = `SELECT j.id, j.weight, j.priority, j.run_at
    FROM ${names.jobs} j
    WHERE j.state IN ${WAITING_SQL}
      AND ${queueFilter}
      AND j.run_at <= ${fromMs(nowMs('$3'))}
      AND j.kind = ANY($2::text[])
      AND j.attempt < j.max_attempts
      AND ($4::bigint IS NULL OR j.id <= $4::bigint)
      AND (j.depends_on IS NULL OR NOT EXISTS (
        SELECT 1 FROM ${names.jobs} d WHERE d.id = ANY(j.depends_on) AND d.state <> 'succeeded'
      ))
      AND (j.group_key IS NULL OR (
        NOT EXISTS (
          SELECT 1 FROM ${names.jobs} g
          WHERE g.group_key = j.group_key AND g.state IN ${PENDING_SQL} AND (g.state = 'running' OR g.id < j.id)
        )
        AND ${names.claimGroupTurn}($8::int, j.group_key, j.id)
      ))
    ORDER BY ${ORDER[strategy]('j')}
    LIMIT $5::int
    FOR UPDATE OF j SKIP LOCKED`
  const locked = manyQueues
    ? `active AS (
        SELECT DISTINCT q.name FROM unnest($1::text[]) AS q(name)
        WHERE NOT EXISTS (SELECT 1 FROM ${names.queues} p WHERE p.name = q.name AND p.paused)
      ), locked AS (
        SELECT c.* FROM active a CROSS JOIN LATERAL (${candidates}) c
      )`
    : `locked AS (
        SELECT c.* FROM (${candidates}) c
        WHERE NOT EXISTS (SELECT 1 FROM ${names.queues} p WHERE p.name = ($1::text[])[1] AND p.paused)
      )`
  return `WITH ${locked}, taken AS (
      SELECT w.id FROM (
        SELECT l.id, sum(l.weight) OVER (ORDER BY ${ORDER[strategy]('l')}) AS used,
          row_number() OVER (ORDER BY ${ORDER[strategy]('l')}) AS n
        FROM locked l
      ) w
      WHERE w.used <= $5::int OR ($9::boolean AND w.n = 1)
    )
    UPDATE ${names.jobs} j
    SET state = 'running', attempt = j.attempt + 1, runs = j.runs + 1, attempted_at = ${fromMs(nowMs('$6'))}, attempted_by = $7::text
    WHERE j.id = ANY(ARRAY(SELECT id FROM taken))
    RETURNING ${claimedJobColumns('j')}`
}

/** Builds the claim statements of a schema. */
export function claimSql(names: SqlNames): ClaimSql {
  return {
    'priority:one': buildClaimSql(names, 'priority', false),
    'priority:many': buildClaimSql(names, 'priority', true),
    'time:one': buildClaimSql(names, 'time', false),
    'time:many': buildClaimSql(names, 'time', true),
  }
}

const compare: Record<PollStrategy, (a: JobRecord, b: JobRecord) => number> = {
  priority: (a, b) => a.priority - b.priority || a.runAt - b.runAt || compareIds(a.id, b.id),
  time: (a, b) => a.runAt - b.runAt || compareIds(a.id, b.id),
}

/** Compares decimal id strings numerically. */
function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)
}

/** Claims jobs as `JobStore.claimJobs` describes; returns them in strategy order. */
export async function claimJobs(
  target: SqlTarget,
  names: SqlNames,
  sql: ClaimSql,
  params: ClaimParams,
): Promise<JobRecord[]> {
  const capacity = Math.floor(params.capacity)
  const queues = [...new Set(params.queues)]
  if (capacity < 1 || queues.length === 0 || params.kinds.length === 0) return []
  const variant = `${params.strategy}:${queues.length === 1 ? 'one' : 'many'}` as const
  const rows = await queryRows<ClaimedJobRow>(target, {
    name: `${names.statementPrefix}claim_${params.strategy}_${queues.length === 1 ? 'one' : 'many'}`,
    text: sql[variant],
    values: [
      queues,
      params.kinds,
      params.dueBy ?? params.now ?? null,
      params.maxId === undefined ? null : assertJobId(params.maxId, 'maxId'),
      capacity,
      params.now ?? null,
      params.workerId,
      names.groupLockSpace,
      params.oversizedFirst === true,
    ],
  })
  const jobs = rows.map((row) => toClaimedJob(row, params.workerId, params.kinds, queues))
  return jobs.sort(compare[params.strategy])
}
