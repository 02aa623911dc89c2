/**
 * SQL pieces for the split between `jobs` (unfinished jobs) and `job_history` (finished ones,
 * partitioned by day of `finished_at`, migration 009): the column list both tables share, a job row
 * returned with some columns replaced (so a `DELETE ... RETURNING` yields the row as it is archived),
 * the archiving insert, and the union every read of "any job" goes through.
 *
 * Invariant: a job is in exactly one of the two tables. Every move is one statement (a data-modifying
 * CTE deletes the row from one table and the same statement inserts it into the other), so a reader's
 * snapshot sees it in one place. `jobs` may still hold finished rows written by a process of the
 * previous version during an upgrade; reads therefore never assume a finished job is in history.
 */
import type { SqlNames } from './sql-names.js'

/**
 * Every column of `jobs` and `job_history`, in table order (a column added to one is added to both),
 * but `jobs.group_behind` (migration 013), which only a waiting job has: a copy to history leaves it,
 * and a job moved back from history gets its default (false: in the claim index).
 */
export const JOB_TABLE_COLUMNS = [
  'id',
  'kind',
  'queue',
  'state',
  'payload',
  'priority',
  'run_at',
  'created_at',
  'attempt',
  'max_attempts',
  'timeout_ms',
  'weight',
  'unique_key',
  'group_key',
  'depends_on',
  'metadata',
  'tags',
  'workflow_state',
  'errors',
  'attempted_at',
  'attempted_by',
  'finished_at',
  'schedule_name',
  'schedule_tick',
  'backoff',
  'trace_context',
  'logs',
  'runs',
  'group_mode',
  'group_lock_timeout_ms',
] as const

/** A column of the job tables. */
export type JobTableColumn = (typeof JOB_TABLE_COLUMNS)[number]

/** The column list, for `INSERT INTO ... (<list>)` and `SELECT <list>`. */
export const JOB_TABLE_COLUMN_LIST = JOB_TABLE_COLUMNS.join(', ')

/**
 * Every column of row alias `a`, named as in the table, with the expressions of `replaced` instead
 * of the stored values (for a `RETURNING` list whose rows are then archived as they are).
 */
export function rowWith(a: string, replaced: Partial<Record<JobTableColumn, string>> = {}): string {
  return JOB_TABLE_COLUMNS.map((c) => {
    const expression = replaced[c]
    return expression === undefined ? `${a}.${c}` : `${expression} AS ${c}`
  }).join(', ')
}

/** A data-modifying CTE body that inserts the rows of CTE `source` (every column) into `table`. */
export function copyRowsSql(table: string, source: string): string {
  return `INSERT INTO ${table} (${JOB_TABLE_COLUMN_LIST}) SELECT ${JOB_TABLE_COLUMN_LIST} FROM ${source}`
}

/**
 * Every job, wherever it is: a `UNION ALL` of both tables with the same columns. The planner flattens
 * it into one append of the tables and the history partitions, pushes conditions into each, and
 * merges their id indexes for an `ORDER BY id ... LIMIT`.
 */
export function everyJobSql(names: SqlNames): string {
  return `(SELECT ${JOB_TABLE_COLUMN_LIST} FROM ${names.jobs} UNION ALL SELECT ${JOB_TABLE_COLUMN_LIST} FROM ${names.history})`
}
