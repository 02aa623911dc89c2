/**
 * Changing one waiting job (`JobStore.updateJob`) in one statement. Its ready row is deleted first
 * (waiting for a claim holding it: the lock order of migration 011), then the job's row is locked
 * (`FOR UPDATE`, which waits for a claim holding it and then sees the claim's result), so the state
 * check and the write see the same row version: a job claimed meanwhile is reported `running` and left
 * alone, and claims (`SKIP LOCKED`) pass over the row while it changes. A job still waiting after
 * the change gets its ready row back with the new priority and run time.
 */
import type { JobState } from '../../core/domain/job.js'
import type { JobChanges, UpdateJobOutcome } from '../../core/ports/store.js'
import { unchangedSinceSnapshot } from './job-admin.js'
import { notifyJobsSql } from './jobs-notification.js'
import { afterUnready, readyRowsSql } from './narrow-tables.js'
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
  return `WITH unready AS (
      DELETE FROM ${names.ready} r WHERE r.id = $1::bigint RETURNING r.id
    ), target AS (
      SELECT j.id, j.state FROM ${names.jobs} j
      WHERE j.id = $1::bigint AND ${afterUnready} AND ${unchangedSinceSnapshot(names, 'j')}
      FOR UPDATE
    ), updated AS (
      UPDATE ${names.jobs} j SET
        payload = COALESCE($2::jsonb, j.payload),
        priority = COALESCE($3::smallint, j.priority),
        workflow_state = CASE WHEN $7::boolean THEN $8::jsonb ELSE j.workflow_state END,
        run_at = COALESCE(${fromMs('$4')}, j.run_at),
        state = CASE
          WHEN $4::float8 IS NULL OR j.state IN ('retryable', 'paused') THEN j.state
          WHEN $4::float8 > ${nowMs('$5')} THEN 'scheduled'
          ELSE 'available' END
      FROM target t
      WHERE j.id = t.id AND t.state IN ${CHANGEABLE_SQL} AND j.state IN ${CHANGEABLE_SQL}
      RETURNING ${jobColumns('j')}, j.run_at AS run_at_tz
    ), requeued AS (
      ${readyRowsSql(names, '(SELECT u.id::bigint AS id, u.state, u.queue, u.priority, u.run_at_tz AS run_at, u.kind, u.weight, u.group_key, u.depends_on FROM updated u)')}
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
  // A job changed while the statement waited for its lock is left alone by it (see
  // `unchangedSinceSnapshot`): then the statement runs again, with a new snapshot.
  for (let attempt = 1; ; attempt++) {
    const outcome = await updateOnce(target, names, id, changes, now)
    if (!('raced' in outcome)) return outcome
    if (attempt >= MAX_RACES) return { status: 'notWaiting', state: outcome.raced }
  }
}

/** How many times `updateJob` runs its statement again after a concurrent change of the job. */
const MAX_RACES = 5

async function updateOnce(
  target: SqlTarget,
  names: SqlNames,
  id: string,
  changes: JobChanges,
  now: number | undefined,
): Promise<UpdateJobOutcome | { readonly raced: JobState }> {
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
    // Not in `jobs` (finished: in history, possibly moved there while this statement waited for the
    // row's lock, hence a new statement with a new snapshot; or gone), or changed meanwhile.
    const [found] = await queryRows<{ state: JobState; unfinished: boolean }>(target, {
      name: `${names.statementPrefix}update_job_finished`,
      text: `SELECT h.state, false AS unfinished FROM ${names.history} h WHERE h.id = $1::bigint
        UNION ALL SELECT j.state, true FROM ${names.jobs} j WHERE j.id = $1::bigint`,
      values: [id],
    })
    if (found?.unfinished) return { raced: found.state }
    return found ? { status: 'notWaiting', state: found.state } : { status: 'notFound' }
  }
  if (row.id === null) return { status: 'notWaiting', state: row.found_state }
  return { status: 'updated', job: toJobRecord(row as JobRow) }
}
