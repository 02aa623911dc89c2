/**
 * Claiming: one `UPDATE ... WHERE id = ANY(ARRAY(SELECT ... FOR UPDATE SKIP LOCKED))` statement
 * per claim. (`id IN (SELECT ...)` degrades into a hash semi-join over the whole table as it grows;
 * `= ANY(ARRAY(...))` always uses the primary key.)
 *
 * Candidates come in strategy order from a partial index of waiting jobs, filtered by due time,
 * kind, `maxId` and attempts left; a paused queue is dropped once per statement, not per row.
 * Dependencies and groups are checked only for rows that have them, so the common path is a plain
 * ordered index scan; a dependency is looked for in `jobs` and, through `history_dependencies_met`
 * (migration 009; a function so that the claim's plan never names the history partitions, whose locks
 * every run would otherwise take), in `job_history`; one found in neither (deleted or pruned)
 * counts as met. Weights are applied over the locked candidates with a running sum.
 *
 * Groups: a stale-snapshot pre-check keeps only jobs of groups that nothing running holds (a running
 * job holds its group until its own `group_lock_timeout_ms` has passed) and, for a `fifo` job, only
 * its group's smallest waiting id; then `claim_group_turn` (see migration 008) takes the group's
 * advisory lock and checks again with a fresh snapshot, so two concurrent claimers can never both
 * start a job of one group. Two `release` jobs of one group in one statement: the first is taken.
 */
import type { JobRecord } from '../../core/domain/job.js'
import type { ClaimParams, PollStrategy } from '../../core/ports/store.js'
import { type ClaimCursors, FRONT } from './claim-cursor.js'
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
 * $6 now ms (null: the database's), $7 worker id, $8 group lock space, $9 take the first job even if it exceeds capacity,
 * $10 the largest weight to take (null: any),
 * $11 float8[] per queue: the scan starts at this run_at (ms; -Infinity: at the front), and for `priority`,
 * $12 smallint[] per queue: at this priority (see claim-cursor.ts). The bound is in the index condition.
 */
function buildClaimSql(names: SqlNames, strategy: PollStrategy, manyQueues: boolean): string {
  const queueFilter = manyQueues ? 'j.queue = a.name' : 'j.queue = ($1::text[])[1]'
  const now = fromMs(nowMs('$6'))
  const startRunAt = fromMs(manyQueues ? 'a.start_run_at' : '($11::float8[])[1]')
  const startPriority = manyQueues ? 'a.start_priority' : '($12::smallint[])[1]'
  const cursorBound =
    strategy === 'priority'
      ? `(j.priority, j.run_at) >= (${startPriority}, ${startRunAt})`
      : `j.run_at >= ${startRunAt}`
  const candidates = `SELECT j.id, j.weight, j.priority, j.run_at, j.group_key
    FROM ${names.jobs} j
    WHERE j.state IN ${WAITING_SQL}
      AND ${queueFilter}
      AND j.run_at <= ${fromMs(nowMs('$3'))}
      AND j.kind = ANY($2::text[])
      AND j.attempt < j.max_attempts
      AND ${cursorBound}
      AND ($4::bigint IS NULL OR j.id <= $4::bigint)
      AND (j.depends_on IS NULL OR (NOT EXISTS (
        SELECT 1 FROM ${names.jobs} d WHERE d.id = ANY(j.depends_on) AND d.state <> 'succeeded'
      ) AND ${names.historyDependenciesMet}(j.depends_on)))
      AND ($10::int IS NULL OR j.weight <= $10::int)
      AND (j.group_key IS NULL OR (
        NOT EXISTS (
          SELECT 1 FROM ${names.jobs} g
          WHERE g.group_key = j.group_key AND g.state IN ${PENDING_SQL} AND (g.state = 'running' OR g.id < j.id)
            AND CASE WHEN g.state = 'running'
              THEN g.group_lock_timeout_ms IS NULL OR g.attempted_at > ${now} - g.group_lock_timeout_ms * interval '1 millisecond'
              ELSE j.group_mode = 'fifo' END
        )
        AND ${names.claimGroupTurn}($8::int, j.group_key, j.id, j.group_mode = 'release', ${now})
      ))
    ORDER BY ${ORDER[strategy]('j')}
    LIMIT $5::int
    FOR UPDATE OF j SKIP LOCKED`
  const locked = manyQueues
    ? `active AS (
        SELECT DISTINCT q.* FROM ${
          strategy === 'priority'
            ? 'unnest($1::text[], $11::float8[], $12::smallint[]) AS q(name, start_run_at, start_priority)'
            : 'unnest($1::text[], $11::float8[]) AS q(name, start_run_at)'
        }
        WHERE NOT EXISTS (SELECT 1 FROM ${names.queues} p WHERE p.name = q.name AND p.paused)
      ), locked AS (
        SELECT c.* FROM active a CROSS JOIN LATERAL (${candidates}) c
      )`
    : `locked AS (
        SELECT c.* FROM (${candidates}) c
        WHERE NOT EXISTS (SELECT 1 FROM ${names.queues} p WHERE p.name = ($1::text[])[1] AND p.paused)
      )`
  // One job per group: two 'release' jobs of a free group both pass its turn check in one statement
  // (the advisory lock is the statement's own), so only the first of them in order is taken.
  return `WITH ${locked}, taken AS (
      SELECT w.id FROM (
        SELECT l.id, sum(l.weight) OVER (ORDER BY ${ORDER[strategy]('l')}) AS used,
          row_number() OVER (ORDER BY ${ORDER[strategy]('l')}) AS n
        FROM (
          SELECT u.*, row_number() OVER (PARTITION BY u.group_key ORDER BY ${ORDER[strategy]('u')}) AS turn
          FROM locked u
        ) l
        WHERE l.group_key IS NULL OR l.turn = 1
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
  cursors?: ClaimCursors,
): Promise<JobRecord[]> {
  const capacity = Math.floor(params.capacity)
  const queues = [...new Set(params.queues)]
  if (capacity < 1 || queues.length === 0 || params.kinds.length === 0) return []
  const variant = `${params.strategy}:${queues.length === 1 ? 'one' : 'many'}` as const
  const plan = cursors?.plan(params, queues)
  const starts = plan?.starts ?? queues.map(() => FRONT)
  const cursorValues: unknown[] = [starts.map((s) => s.runAt)]
  if (params.strategy === 'priority') cursorValues.push(starts.map((s) => s.priority))
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
      params.maxWeight === undefined ? null : Math.floor(params.maxWeight),
      ...cursorValues,
    ],
  })
  const jobs = rows.map((row) => toClaimedJob(row, params.workerId, params.kinds, queues))
  plan?.taken(jobs)
  return jobs.sort(compare[params.strategy])
}
