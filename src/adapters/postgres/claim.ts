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
 * job holds its group until its own `group_lock_timeout_ms` has passed: one probe of the small index
 * of running group jobs) and, for a `fifo` job only, its group's smallest waiting id (a walk of the
 * group's index up to the first earlier waiting job); then `claim_group_turn` (migrations 008 and
 * 010) takes the group's advisory lock and checks again with a fresh snapshot, so two concurrent
 * claimers can never both start a job of one group, and refuses every later job of a group whose turn
 * this statement already gave (in the same queue, when it scans several; the group's first in strategy
 * order across them is then kept): a claim takes at most one job per group, the first in strategy
 * order, and a group's backlog does not use up the LIMIT (the scan goes on to other groups and jobs).
 *
 * Group holds (migrations 013 to 016): a `fifo` job that fails these checks, or a `release` job whose
 * group a job runs in without a lock timeout or whose turn this claim gave to another job of the
 * group (claim_group_turn's record in `conveyor.group_turns`), is handed to `claim_group_behind`, which, under the
 * group's lock and with a fresh snapshot, sets it aside (`group_behind`) when its group holds it back
 * until an event (a job's end), not until a lock timeout runs out (`fifo`: an earlier job of its
 * group, waiting or running; `release`: a running one, or the one given the turn). A job set aside is out of the claim index, whose predicate the
 * candidates' condition repeats (`claimableSql`), so a group's backlog is read once, by the first
 * claim that meets it, and not by every claim after; the statements that end a group's job release
 * the next one (dependants.ts), and the rescue pass any other (group-holds.ts).
 */
import type { JobRecord } from '../../core/domain/job.js'
import type { ClaimParams, PollStrategy } from '../../core/ports/store.js'
import { type ClaimCursors, FRONT, type ScanStart } from './claim-cursor.js'
import { assertJobId } from './job-id.js'
import { queryRows, type SqlTarget } from './queryable.js'
import { type ClaimedJobRow, claimedJobColumns, toClaimedJob } from './row-mapping.js'
import { claimableSql, fromMs, nowMs, PENDING_SQL, type SqlNames } from './sql-names.js'

const ORDER: Record<PollStrategy, (a: string) => string> = {
  priority: (a) => `${a}.priority, ${a}.run_at, ${a}.id`,
  time: (a) => `${a}.run_at, ${a}.id`,
}

/** A claim statement's variant: strategy, and one queue (an ordered index scan) or several. */
type ClaimVariant = `${PollStrategy}:${'one' | 'many'}`

/** The variants by strategy: [one queue, several queues] (looked up per claim without building a string). */
const VARIANTS: Readonly<Record<PollStrategy, readonly [ClaimVariant, ClaimVariant]>> = {
  priority: ['priority:one', 'priority:many'],
  time: ['time:one', 'time:many'],
}

/** Claim statements by variant, with each variant's prepared-statement name. */
export type ClaimSql = Readonly<Record<ClaimVariant, string>> & {
  readonly statementNames: Readonly<Record<ClaimVariant, string>>
}

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
  // The group probes are fenced with OFFSET 0 so that each stays a probe per candidate: unfenced, the
  // planner may hash every running group job once per claim, or walk the primary key below the job's
  // id. The row comparison bounds the fifo probe in the group index (and only there) at the job's id,
  // and its order makes it an ordered index scan that stops at the first earlier waiting job (with
  // statistics, a bitmap scan would collect all of them first).
  const candidates = `SELECT j.id, j.weight, j.priority, j.run_at, j.group_key
    FROM ${names.jobs} j
    WHERE ${claimableSql('j')}
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
      AND (j.group_key IS NULL OR CASE
        WHEN NOT EXISTS (
          SELECT 1 FROM ${names.jobs} g
          WHERE g.group_key = j.group_key AND g.group_key IS NOT NULL AND g.state = 'running'
            AND (g.group_lock_timeout_ms IS NULL
              OR g.attempted_at > ${now} - g.group_lock_timeout_ms * interval '1 millisecond')
          OFFSET 0
        )
        AND (j.group_mode = 'release' OR NOT EXISTS (
          SELECT 1 FROM ${names.jobs} g
          WHERE g.group_key = j.group_key AND (g.group_key, g.id) < (j.group_key, j.id)
            AND g.group_key IS NOT NULL AND g.state IN ${PENDING_SQL} AND g.state <> 'running'
          ORDER BY g.group_key, g.id LIMIT 1 OFFSET 0
        ))
        AND ${names.claimGroupTurn}($8::int, j.group_key, j.id, j.group_mode = 'release', ${now}, ${manyQueues ? 'j.queue' : "''"})
        THEN true
        WHEN j.group_mode = 'fifo'
          OR position(';' || $8::int || ':' || hashtext(j.group_key) || ':' IN coalesce(current_setting('conveyor.group_turns', true), '')) > 0
          OR EXISTS (
            SELECT 1 FROM ${names.jobs} g
            WHERE g.group_key = j.group_key AND g.group_key IS NOT NULL AND g.state = 'running' AND g.group_lock_timeout_ms IS NULL
            OFFSET 0
          ) THEN ${names.claimGroupBehind}($8::int, j.group_key, j.id, ${now})
        ELSE false
      END)
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
  // `locked` holds at most one job per group and scanned queue (claim_group_turn gives a group one
  // turn per statement and scope); over several queues, the group's first in strategy order is taken.
  const oneTurnPerGroup = manyQueues
    ? `(
          SELECT u.*, row_number() OVER (PARTITION BY u.group_key ORDER BY ${ORDER[strategy]('u')}) AS turn
          FROM locked u
        ) l
        WHERE l.group_key IS NULL OR l.turn = 1`
    : 'locked l'
  return `WITH ${locked}, taken AS (
      SELECT w.id FROM (
        SELECT l.id, sum(l.weight) OVER (ORDER BY ${ORDER[strategy]('l')}) AS used,
          row_number() OVER (ORDER BY ${ORDER[strategy]('l')}) AS n
        FROM ${oneTurnPerGroup}
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
  const name = (v: ClaimVariant) => `${names.statementPrefix}claim_${v.replace(':', '_')}`
  return {
    'priority:one': buildClaimSql(names, 'priority', false),
    'priority:many': buildClaimSql(names, 'priority', true),
    'time:one': buildClaimSql(names, 'time', false),
    'time:many': buildClaimSql(names, 'time', true),
    statementNames: {
      'priority:one': name('priority:one'),
      'priority:many': name('priority:many'),
      'time:one': name('time:one'),
      'time:many': name('time:many'),
    },
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
  const queues = distinct(params.queues)
  if (!(capacity >= 1) || queues.length === 0 || params.kinds.length === 0) return []
  const variant = VARIANTS[params.strategy][queues.length === 1 ? 0 : 1]
  const plan = cursors?.plan(params, queues)
  const starts = plan?.starts
  let rows: ClaimedJobRow[]
  try {
    rows = await queryRows<ClaimedJobRow>(target, {
      name: sql.statementNames[variant],
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
        // $11 (and $12 for `priority`): where each queue's scan starts, as array literals.
        starts ? startsLiteral(starts, 'runAt') : frontLiteral(queues.length, FRONT.runAt),
        ...(params.strategy === 'priority'
          ? [starts ? startsLiteral(starts, 'priority') : frontLiteral(queues.length, FRONT.priority)]
          : []),
      ],
    })
  } catch (error) {
    plan?.failed()
    throw error
  }
  const jobs = rows.map((row) => toClaimedJob(row, params.workerId, params.kinds, queues))
  plan?.taken(jobs)
  return jobs.sort(compare[params.strategy])
}

/** `list` without repeats; `list` itself when it has none (the usual case: nothing is allocated). */
function distinct(list: readonly string[]): readonly string[] {
  for (let i = 1; i < list.length; i++) {
    if (list.lastIndexOf(list[i]!, i - 1) !== -1) return [...new Set(list)]
  }
  return list
}

/** The array literal of one field of the scan starts (`{-Infinity,1733...}`: numbers only, nothing to escape). */
function startsLiteral(starts: readonly ScanStart[], field: keyof ScanStart): string {
  if (starts.length === 1) return `{${starts[0]![field]}}`
  let out = '{'
  for (let i = 0; i < starts.length; i++) out += (i === 0 ? '' : ',') + String(starts[i]![field])
  return `${out}}`
}

/** The array literal of `n` copies of `value` (the front of the claim index in every queue). */
function frontLiteral(n: number, value: number): string {
  if (n === 1) return value === FRONT.runAt ? ONE_FRONT_RUN_AT : ONE_FRONT_PRIORITY
  return `{${Array(n).fill(value).join(',')}}`
}

const ONE_FRONT_RUN_AT = `{${FRONT.runAt}}`
const ONE_FRONT_PRIORITY = `{${FRONT.priority}}`
