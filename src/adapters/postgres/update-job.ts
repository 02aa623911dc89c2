/**
 * Changing one waiting job (`JobStore.updateJob`) in one statement. The job's row is locked first
 * (`FOR UPDATE`, which waits for a claim holding it and then sees the claim's result), so the state
 * check and the write see the same row version: a job claimed meanwhile is reported `running` and left
 * alone, and claims (`SKIP LOCKED`) pass over the row while it changes.
 */
import type { JobState } from '../../core/domain/job.js'
import type { JobChanges, UpdateJobOutcome } from '../../core/ports/store.js'
import { notifyJobsSql } from './jobs-notification.js'
import { queryRows, type SqlTarget } from './queryable.js'
import { type JobRow, jobColumns, toJobRecord } from './row-mapping.js'
import { CHANGEABLE_SQL, fromMs, nowMs, type SqlNames } from './sql-names.js'

/**
 * Parameters: $1 id, $2 payload JSON text or null, $3 priority or null, $4 run-at ms or null,
 * $5 now ms, $6 jobs channel, $7 whether to set the workflow state, $8 the workflow state (jsonb). A
 * new run-at makes a scheduled or available job `scheduled` when it is after now, else `available`;
 * a `retryable` or `paused` job keeps its state. A job due after the change is notified like an insert.
 */
function updateJobSql(names: SqlNames): string {
  return `WITH target AS (
      SELECT j.id, j.state FROM ${names.jobs} j WHERE j.id = $1::bigint FOR UPDATE
    ), updated AS (
      UPDATE ${names.jobs} j SET
        payload = COALESCE($2::jsonb, j.payload),
        priority = COALESCE($3::smallint, j.priority),
        workflow_state = CASE WHEN $7::boolean THEN $8::jsonb ELSE j.workflow_state END,
        run_at = COALESCE(${fromMs('$4')}, j.run_at),
        state = CASE
          WHEN $4::float8 IS NULL OR j.state IN ('retryable', 'paused') THEN j.state
          WHEN $4::float8 > ${nowMs('$5')} THEN 'scheduled'
          ELSE 'available' END,
        group_behind = false
      FROM target t
      WHERE j.id = t.id AND t.state IN ${CHANGEABLE_SQL} AND j.state IN ${CHANGEABLE_SQL}
      RETURNING ${jobColumns('j')}
    ), notified AS (
      ${notifyJobsSql('$6', {
        from: 'updated u',
        where: `u.run_at <= ${nowMs('$5')} AND u.state <> 'paused'`,
        queue: 'u.queue',
        priority: 'u.priority',
        runAtMs: 'u.run_at',
      })}
    )
    SELECT t.state AS found_state, u.*, (SELECT count(*) FROM notified)::int AS notified
    FROM target t LEFT JOIN updated u ON true`
}

/** Changes a waiting job; reports a missing or not-waiting job instead of writing. */
export async function updateJob(
  target: SqlTarget,
  names: SqlNames,
  params: { readonly id: string; readonly changes: JobChanges; readonly now?: number },
): Promise<UpdateJobOutcome> {
  const { id, changes, now } = params
  const rows = await queryRows<(JobRow | { [K in keyof JobRow]: null }) & { found_state: JobState }>(target, {
    name: `${names.statementPrefix}update_job`,
    text: updateJobSql(names),
    values: [
      id,
      changes.payload === undefined ? null : JSON.stringify(changes.payload),
      changes.priority ?? null,
      changes.runAt ?? null,
      now ?? null,
      names.jobsChannel,
      changes.workflowState !== undefined,
      changes.workflowState === undefined || changes.workflowState === null
        ? null
        : JSON.stringify(changes.workflowState),
    ],
  })
  const row = rows[0]
  if (!row) {
    // Not in `jobs`: finished (in history, possibly moved there while this statement waited for the
    // row's lock, hence a new statement with a new snapshot), or gone.
    const [finished] = await queryRows<{ state: JobState }>(target, {
      name: `${names.statementPrefix}update_job_finished`,
      text: `SELECT h.state FROM ${names.history} h WHERE h.id = $1::bigint`,
      values: [id],
    })
    return finished ? { status: 'notWaiting', state: finished.state } : { status: 'notFound' }
  }
  if (row.id === null) return { status: 'notWaiting', state: row.found_state }
  return { status: 'updated', job: toJobRecord(row as JobRow) }
}
