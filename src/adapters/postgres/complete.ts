/**
 * Writing attempt outcomes back: one statement for a whole batch of completions. It writes only
 * jobs still `running` (and, for a completion that names its attempt, still running that attempt, so
 * a late result from a worker declared dead never overwrites a rescued or re-claimed job). A final
 * outcome (succeeded, failed, cancelled) moves the row from `jobs` to `job_history` in the same
 * statement (deleted there, inserted here); retries, snoozes and releases stay in `jobs`. It also
 * cancels the waiting dependants of jobs that ended failed or cancelled (transitively, with a
 * recursive CTE, moving them too), moves schedules' `last_success_at` forward, and notifies
 * `<schema>_jobs` once when retries or releases made jobs available, or when finished jobs let
 * dependants or a group's next job run (dependants.ts).
 */
import { RUN_LOGS_KEPT } from '../../core/domain/job.js'
import type { Completion } from '../../core/ports/store.js'
import type { AfterCommitWork } from './after-commit.js'
import { deleteEdgesSql, notifyWokenSql, wokenJobsSql } from './dependants.js'
import { copyRowsSql, rowWith } from './history-sql.js'
import { isJobId } from './job-id.js'
import { queryRows, type SqlTarget } from './queryable.js'
import { CHANGEABLE_SQL, FINAL_SQL, fromMs, nowMs, type SqlNames, toMs, WAITING_SQL } from './sql-names.js'

/**
 * CTEs `doomed` (recursive), `doomed_rows`, `cascaded` and `cascade_archived` that cancel, at time `now`, the waiting
 * dependants of the ids in CTE `source` (column `id`), and theirs in turn, moving them to the history
 * table as `cancelled`; rows of `source` itself are left to the statement that produced them (one
 * statement must not change a row twice). Needs `WITH RECURSIVE`.
 */
export function cascadeCtes(names: SqlNames, source: string, now: string): string {
  // A LATERAL subquery fenced with OFFSET 0 keeps each step a probe of the depends_on GIN index per
  // id; as a plain join the planner seq-scans the whole table for the recursive term, even when
  // there is nothing to cascade. The rows are then locked by primary-key probes and deleted by tuple
  // id, for the reason `lockRunningSql` gives.
  const dependants = (id: string) =>
    `SELECT d.id FROM ${names.jobs} d WHERE d.depends_on @> ARRAY[${id}] AND d.depends_on IS NOT NULL AND d.state IN ${CHANGEABLE_SQL} OFFSET 0`
  return `doomed(id) AS (
      SELECT n.id FROM ${source} s CROSS JOIN LATERAL (${dependants('s.id')}) n
      UNION
      SELECT n.id FROM doomed x CROSS JOIN LATERAL (${dependants('x.id')}) n
    ), doomed_rows AS (
      SELECT r.tid FROM doomed x CROSS JOIN LATERAL (${lockJobByIdSql(names, 'x.id', 'j.state')}) r
      WHERE x.id NOT IN (SELECT id FROM ${source}) AND r.state IN ${CHANGEABLE_SQL}
    ), cascaded AS (
      DELETE FROM ${names.jobs} c
      WHERE c.ctid = ANY(ARRAY(SELECT tid FROM doomed_rows))
      RETURNING ${rowWith('c', { state: `'cancelled'`, finished_at: fromMs(now) })}
    ), cascade_archived AS (
      ${copyRowsSql(names.history, 'cascaded')}
    )`
}

/**
 * SQL of the new `logs` of job row `j` given run log `log` (jsonb, NULL when the run logged nothing):
 * the run appended, the oldest dropped beyond `RUN_LOGS_KEPT`.
 */
function appendLogSql(log: string): string {
  return `CASE WHEN ${log} IS NULL THEN j.logs ELSE jsonb_path_query_array(
          coalesce(j.logs, '[]'::jsonb) || jsonb_build_array(${log}), '$[last - ${RUN_LOGS_KEPT - 1} to last]') END`
}

/**
 * SQL of the new `attempted_at` of job row `j` given buffer wait `waitMs` (ms, NULL or 0: none): the
 * claim moved forward to the handler's start (see `Completion.bufferWaitMs`).
 */
function attemptStartSql(waitMs: string): string {
  return `CASE WHEN ${waitMs} > 0 THEN j.attempted_at + ${waitMs} * interval '1 millisecond' ELSE j.attempted_at END`
}

/**
 * A LATERAL subquery locking the job row of id `id` (an outer column), found by a probe of the primary
 * key on the id alone (fenced with OFFSET 0, so no other condition reaches the scan): its tuple id
 * `tid` and `columns` of row `j`.
 */
function lockJobByIdSql(names: SqlNames, id: string, columns: string): string {
  return `SELECT j.ctid AS tid, ${columns} FROM ${names.jobs} j WHERE j.id = ${id} OFFSET 0 FOR UPDATE OF j`
}

/**
 * CTE body locking the job rows of CTE `input` (column `id`, and `attempt`: null for any attempt)
 * that still run that attempt: its rows are the input's columns and the row's tuple id `tid`. Each
 * row is found by a probe of the primary key on its id alone, whatever the planner estimates: with a
 * state condition in the same scan, a table whose statistics show a few live rows (finished jobs
 * leave it) was planned as a walk of the running index, which a held xmin horizon fills with dead
 * entries. The statements then change exactly these tuples by tid (a TID scan).
 */
function lockRunningSql(names: SqlNames, input: string): string {
  return `SELECT c.*, r.tid FROM ${input} c CROSS JOIN LATERAL (${lockJobByIdSql(names, 'c.id', 'j.state, j.attempt')}) r
      WHERE r.state = 'running' AND (c.attempt IS NULL OR r.attempt = c.attempt)`
}

/**
 * SQL condition: job row `j` is one of the tuples of CTE `locked` (column `tid`), joined as `c`, whose
 * row passes `where` (a condition on the alias it is given; none: every row).
 */
function lockedTuple(locked: string, where?: (alias: string) => string): string {
  const only = (alias: string) => (where ? ` AND ${where(alias)}` : '')
  return `j.ctid = ANY(ARRAY(SELECT l.tid FROM ${locked} l WHERE true${only('l')})) AND j.ctid = c.tid${only('c')}`
}

/**
 * The completion statement. Parameters: $1 ids, $2 outcomes, $3 run-at ms, $4 errors (jsonb),
 * $5 whether to set the workflow state, $6 workflow states, $7 attempts (null: any attempt),
 * $8 now ms, $9 the jobs channel, $10 run logs (jsonb, null: nothing logged), $11 delays ms (a
 * retry or snooze without a run-at is due that long after `coalesce($8, now())`: the database's
 * clock decides in production), $12 buffer waits ms (null: none). Its one row's `updated` counts
 * the jobs written.
 */
export function completeSql(names: SqlNames): string {
  const errors = `CASE WHEN c.error IS NULL THEN j.errors ELSE j.errors || jsonb_build_array(c.error) END`
  const workflowState = `CASE WHEN c.set_state THEN c.workflow_state ELSE j.workflow_state END`
  const endedGroups =
    'SELECT group_key, id FROM updated UNION ALL SELECT group_key, id FROM moved UNION ALL SELECT group_key, id FROM cascaded'
  return `WITH RECURSIVE input AS (
      SELECT * FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::jsonb[], $5::boolean[], $6::jsonb[], $7::int[], $10::jsonb[], $11::float8[], $12::float8[])
        AS c(id, outcome, run_at, error, set_state, workflow_state, attempt, log, delay_ms, wait_ms)
    ), locked AS (
      ${lockRunningSql(names, 'input')}
    ), updated AS (
      UPDATE ${names.jobs} j SET
        state = CASE c.outcome WHEN 'retry' THEN 'retryable' WHEN 'snoozed' THEN 'scheduled' ELSE 'available' END,
        run_at = CASE WHEN c.outcome IN ('retry', 'snoozed') THEN ${fromMs(`coalesce(c.run_at, ${nowMs('$8')} + c.delay_ms)`)} ELSE j.run_at END,
        attempt = CASE WHEN c.outcome IN ('snoozed', 'released') THEN greatest(j.attempt - 1, 0) ELSE j.attempt END,
        runs = CASE WHEN c.outcome = 'released' THEN greatest(j.runs - 1, 0) ELSE j.runs END,
        errors = ${errors},
        workflow_state = ${workflowState},
        attempted_at = ${attemptStartSql('c.wait_ms')},
        logs = ${appendLogSql('c.log')},
        group_behind = false
      FROM locked c
      WHERE ${lockedTuple('locked', (a) => `${a}.outcome NOT IN ${FINAL_SQL}`)}
      RETURNING j.id, j.state, j.queue, j.priority, j.run_at, j.group_key
    ), moved AS (
      DELETE FROM ${names.jobs} j USING locked c
      WHERE ${lockedTuple('locked', (a) => `${a}.outcome IN ${FINAL_SQL}`)}
      RETURNING ${rowWith('j', {
        state: 'c.outcome',
        errors,
        workflow_state: workflowState,
        finished_at: fromMs(nowMs('$8')),
        attempted_at: attemptStartSql('c.wait_ms'),
        logs: appendLogSql('c.log'),
      })}
    ), archived AS (
      ${copyRowsSql(names.history, 'moved')}
    ), written AS (
      SELECT id FROM updated UNION ALL SELECT id FROM moved
    ), ended_badly AS (
      SELECT m.id FROM moved m WHERE m.state IN ('failed', 'cancelled')
    ), ${cascadeCtes(names, 'ended_badly', nowMs('$8'))}, succeeded_ticks AS (
      UPDATE ${names.schedules} s SET last_success_at = t.tick
      FROM (
        SELECT m.schedule_name, max(m.schedule_tick) AS tick FROM moved m
        WHERE m.state = 'succeeded' AND m.schedule_tick IS NOT NULL
        GROUP BY m.schedule_name
      ) t
      WHERE s.name = t.schedule_name AND (s.last_success_at IS NULL OR s.last_success_at < t.tick)
        AND ${READ_COMMITTED}
      RETURNING s.name
    ), freed AS (
      ${deleteEdgesSql(names, 'SELECT id FROM moved UNION ALL SELECT id FROM cascaded')}
    ), woken AS (
      SELECT u.queue, u.priority, u.run_at FROM updated u
      WHERE u.state IN ${WAITING_SQL} AND u.run_at <= ${fromMs(nowMs('$8'))}
      UNION ALL
      ${wokenJobsSql(
        names,
        `SELECT f.dependant_id FROM freed f JOIN moved m ON m.id = f.dependency_id WHERE m.state = 'succeeded'`,
        endedGroups,
        fromMs(nowMs('$8')),
      )}
    ), notified AS (
      ${notifyWokenSql('$9')}
    )
    SELECT (SELECT count(*) FROM written)::int AS updated,
      (SELECT count(*) FROM cascaded)::int AS cascaded,
      (SELECT count(*) FROM succeeded_ticks)::int AS schedules, (SELECT count(*) FROM notified)::int AS notified,
      ${skippedSql('written')} AS skipped, ${afterCommitSql(endedGroups, 'moved')}`
}

/**
 * The statement for a batch of successes only (the common case): no cascade, so it stays cheap to
 * plan and run however large the table grows; it notifies only the jobs it lets run (dependants,
 * groups' next jobs: dependants.ts), which reads an empty table and nothing else where no job has
 * dependencies or a group. Parameters: $1 ids, $2 attempts
 * (NULL = no guard), $3 whether to set the workflow state, $4 workflow states, $5 now ms, $6 buffer
 * waits ms (NULL: none), $7 the jobs channel, and with `withLogs` $8 run logs (jsonb, null: nothing
 * logged). A batch in which no run logged anything uses
 * the variant without logs, so the hot path ships and evaluates nothing for them.
 */
export function completeSucceededSql(names: SqlNames, withLogs = false): string {
  return `WITH input AS (
      SELECT * FROM unnest($1::bigint[], $2::int[], $3::boolean[], $4::jsonb[], $6::float8[]${withLogs ? ', $8::jsonb[]' : ''})
        AS c(id, attempt, set_state, workflow_state, wait_ms${withLogs ? ', log' : ''})
    ), locked AS (
      ${lockRunningSql(names, 'input')}
    ), done AS (
      DELETE FROM ${names.jobs} j USING locked c
      WHERE ${lockedTuple('locked')}
      RETURNING ${rowWith('j', {
        state: `'succeeded'`,
        finished_at: fromMs(nowMs('$5')),
        attempted_at: attemptStartSql('c.wait_ms'),
        workflow_state: 'CASE WHEN c.set_state THEN c.workflow_state ELSE j.workflow_state END',
        ...(withLogs ? { logs: appendLogSql('c.log') } : {}),
      })}
    ), archived AS (
      ${copyRowsSql(names.history, 'done')}
    ), succeeded_ticks AS (
      UPDATE ${names.schedules} s SET last_success_at = t.tick
      FROM (
        SELECT d.schedule_name, max(d.schedule_tick) AS tick FROM done d
        WHERE d.schedule_tick IS NOT NULL GROUP BY d.schedule_name
      ) t
      WHERE s.name = t.schedule_name AND (s.last_success_at IS NULL OR s.last_success_at < t.tick)
        AND ${READ_COMMITTED}
      RETURNING s.name
    ), freed AS (
      ${deleteEdgesSql(names, 'SELECT id FROM done')}
    ), woken AS (
      ${wokenJobsSql(names, 'SELECT dependant_id FROM freed', 'SELECT group_key, id FROM done', fromMs(nowMs('$5')))}
    ), notified AS (
      ${notifyWokenSql('$7')}
    )
    SELECT (SELECT count(*) FROM done)::int AS updated, (SELECT count(*) FROM succeeded_ticks)::int AS schedules,
      (SELECT count(*) FROM notified)::int AS notified, ${skippedSql('done')} AS skipped,
      ${afterCommitSql('SELECT group_key, id FROM done', 'done')}`
}

/**
 * SQL condition: the statement runs at READ COMMITTED. Above it (a job's own transaction whose handler
 * raised the level, or a session whose default is stricter) a statement must not update rows that other
 * sessions update too (a schedule's row: its next tick), which would fail the job's transaction with a
 * serialization error; nor can it release a group's next job (`release_group_behind` returns nothing
 * there, migration 014). Both are then done after the commit (`afterCommitSql`, after-commit.ts).
 */
const READ_COMMITTED = `current_setting('transaction_isolation') = 'read committed'`

/**
 * SQL of the statement's `after_commit` column: NULL at READ COMMITTED (the usual case: nothing is
 * read), else what it left for after the commit, as jsonb: `groups`, the `[group_key, id]` of the jobs
 * it ended or moved (`groups`, a query of those two columns), whose groups' next jobs it could not
 * release; `ticks`, the `[schedule_name, tick ms]` of the schedule jobs of CTE `ended` (columns
 * `state`, `schedule_name`, `schedule_tick`) that succeeded, whose schedules' last success it did
 * not move. Also `session_isolation`, the session's default level, so that a connection whose
 * default a handler changed is set back before it returns to the pool.
 */
function afterCommitSql(groups: string, ended: string): string {
  return `CASE WHEN NOT ${READ_COMMITTED} THEN jsonb_build_object(
        'groups', coalesce((SELECT jsonb_agg(jsonb_build_array(g.group_key, g.id::text))
          FROM (${groups}) g(group_key, id) WHERE g.group_key IS NOT NULL), '[]'::jsonb),
        'ticks', coalesce((SELECT jsonb_agg(jsonb_build_array(e.schedule_name, ${toMs('e.schedule_tick')}))
          FROM ${ended} e WHERE e.state = 'succeeded' AND e.schedule_tick IS NOT NULL), '[]'::jsonb)
      ) END AS after_commit, current_setting('default_transaction_isolation') AS session_isolation`
}

/**
 * SQL of the ids of `$1` (the completions' ids) that CTE `written` (column `id`) did not write, or
 * NULL when it wrote them all (the usual case: nothing more is read).
 */
function skippedSql(written: string): string {
  return `CASE WHEN (SELECT count(*) FROM ${written}) < cardinality($1::bigint[])
      THEN ARRAY(SELECT s.id FROM unnest($1::bigint[]) AS s(id) WHERE s.id NOT IN (SELECT w.id FROM ${written} w)) END`
}

/** What `completeJobs` wrote: the number of jobs, and the ids of the completions it skipped. */
export interface CompletedJobs {
  readonly updated: number
  readonly skipped: readonly string[]
  /** What the statement left for after its transaction's commit (above READ COMMITTED), or null. */
  readonly afterCommit: AfterCommitWork | null
  /** The session's default isolation level (`default_transaction_isolation`); absent when nothing ran. */
  readonly sessionIsolation?: string
}

const NONE_SKIPPED: CompletedJobs = Object.freeze({
  updated: 0,
  skipped: Object.freeze([]),
  afterCommit: null,
})

/**
 * Writes completions as `JobStore.completeJobs` describes (the last one wins for a repeated id);
 * returns how many jobs were written and the ids of the completions that were not (their jobs no
 * longer running that attempt, or unknown).
 */
export async function completeJobs(
  target: SqlTarget,
  names: SqlNames,
  sql: { readonly any: string; readonly succeeded: string; readonly succeededWithLogs: string },
  completions: readonly Completion[],
  now: number | undefined,
): Promise<CompletedJobs> {
  const byId = new Map<string, Completion>()
  for (const c of completions) byId.set(c.id, c)
  if (byId.size === 0) return NONE_SKIPPED
  const list = [...byId.values()]
  if (list.every((c) => c.outcome === 'succeeded')) {
    const withLogs = list.some((c) => c.logs)
    const withState = list.some((c) => 'workflowState' in c)
    const values = [
      idsLiteral(list),
      attemptsLiteral(list),
      // Multi-argument `unnest` pads a NULL array with NULLs: nothing to ship when no run set a state.
      withState ? list.map((c) => 'workflowState' in c) : null,
      withState
        ? list.map((c) =>
            'workflowState' in c && c.workflowState != null ? JSON.stringify(c.workflowState) : null,
          )
        : null,
      now ?? null,
      waitsLiteral(list),
      names.jobsChannel,
    ]
    const [done] = await queryRows<CompletedRow>(target, {
      name: `${names.statementPrefix}complete_ok${withLogs ? '_logs' : ''}`,
      text: withLogs ? sql.succeededWithLogs : sql.succeeded,
      values: withLogs ? [...values, list.map(logJson)] : values,
    })
    return completed(done)
  }
  const [row] = await queryRows<CompletedRow>(target, {
    name: `${names.statementPrefix}complete`,
    text: sql.any,
    values: [
      list.map((c) => c.id),
      list.map((c) => c.outcome),
      list.map((c) => (c.outcome === 'retry' || c.outcome === 'snoozed' ? (c.runAt ?? null) : null)),
      list.map((c) => ('error' in c && c.error ? JSON.stringify(c.error) : null)),
      list.map((c) => c.outcome !== 'released' && 'workflowState' in c),
      list.map((c) =>
        'workflowState' in c && c.workflowState != null ? JSON.stringify(c.workflowState) : null,
      ),
      list.map((c) => c.attempt ?? null),
      now ?? null,
      names.jobsChannel,
      list.map(logJson),
      list.map((c) => (c.outcome === 'retry' || c.outcome === 'snoozed' ? (c.delayMs ?? null) : null)),
      waitsLiteral(list),
    ],
  })
  return completed(row)
}

/** The completion statements' row: the jobs written, the ids skipped (NULL: none), and `afterCommitSql`'s columns. */
interface CompletedRow {
  updated: number
  skipped: string[] | null
  after_commit: AfterCommitWork | null
  session_isolation: string
}

function completed(row: CompletedRow | undefined): CompletedJobs {
  if (!row) return NONE_SKIPPED
  const work = row.after_commit
  return {
    updated: row.updated,
    skipped: row.skipped ?? NONE_SKIPPED.skipped,
    afterCommit: work && (work.groups.length > 0 || work.ticks.length > 0) ? work : null,
    sessionIsolation: row.session_isolation,
  }
}

/**
 * The completions' ids as one `bigint[]` literal (`{1,2,3}`), or the plain array when an id is not
 * a job id (the server then rejects it as before). One joined string instead of `pg`'s
 * element-by-element array serialization, which cost more than half a kilobyte of garbage per job.
 */
function idsLiteral(list: readonly Completion[]): string | string[] {
  const ids = list.map((c) => c.id)
  for (const id of ids) if (!isJobId(id)) return ids
  return `{${ids.join(',')}}`
}

/** The completions' attempts as one `int[]` literal (NULL where a completion names none). */
function attemptsLiteral(list: readonly Completion[]): string {
  return `{${list.map((c) => (Number.isInteger(c.attempt) ? c.attempt : 'NULL')).join(',')}}`
}

/**
 * The completions' buffer waits as one `float8[]` literal, or null when none waited (multi-argument
 * `unnest` pads a NULL array with NULLs, so the common batch ships nothing).
 */
function waitsLiteral(list: readonly Completion[]): string | null {
  let any = false
  for (const c of list) if ((c.bufferWaitMs ?? 0) > 0) any = true
  if (!any) return null
  return `{${list.map((c) => (Number.isFinite(c.bufferWaitMs) ? c.bufferWaitMs : 'NULL')).join(',')}}`
}

/** A completion's run log as a jsonb parameter, or null when the run logged nothing. */
function logJson(c: Completion): string | null {
  return c.logs ? JSON.stringify(c.logs, withoutNul) : null
}

/** jsonb rejects `\u0000`: a NUL in a logged string must not fail the whole batch of completions. */
function withoutNul(_key: string, value: unknown): unknown {
  return typeof value === 'string' && value.includes('\0') ? value.replaceAll('\0', '\ufffd') : value
}
