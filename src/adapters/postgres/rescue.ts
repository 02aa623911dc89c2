/**
 * Crash rescue: every worker process upserts its row of `processes` (its heartbeat), and any process
 * can return to the queue the running jobs of processes whose heartbeat went stale. Both are one
 * statement. The rescue locks the jobs it takes with `FOR UPDATE SKIP LOCKED`, so concurrent rescuers
 * never rescue a job twice, and re-checks `state = 'running'` on the locked row, so a job its worker
 * completed meanwhile is never touched.
 */
import type { JobRecord } from '../../core/domain/job.js'
import { cascadeCtes } from './complete.js'
import { queryRows, type SqlTarget } from './queryable.js'
import { type JobRow, jobColumns, toJobRecord } from './row-mapping.js'
import { fromMs, nowMs, type SqlNames } from './sql-names.js'

/** Rows of processes silent for this long are deleted by the rescue (cheap housekeeping). */
export const FORGET_PROCESS_AFTER_MS = 24 * 3600_000

/**
 * The heartbeat statement. Parameters: $1 process id, $2 now ms (null: the database's), $3 the kinds
 * the process registered (null: keep the stored ones; none for a new row).
 */
export function heartbeatSql(names: SqlNames): string {
  return `INSERT INTO ${names.processes} AS p (id, last_heartbeat_at, started_at, kinds)
    VALUES ($1::text, ${fromMs(nowMs('$2'))}, ${fromMs(nowMs('$2'))}, coalesce($3::text[], '{}'))
    ON CONFLICT (id) DO UPDATE SET last_heartbeat_at = excluded.last_heartbeat_at,
      kinds = coalesce($3::text[], p.kinds, '{}')`
}

/** Records that `processId` is alive at `now` (see `JobStore.recordHeartbeat`). */
export async function recordHeartbeat(
  target: SqlTarget,
  names: SqlNames,
  sql: string,
  processId: string,
  now: number | undefined,
  kinds: readonly string[] | undefined,
): Promise<void> {
  await queryRows(target, {
    name: `${names.statementPrefix}heartbeat`,
    text: sql,
    values: [processId, now ?? null, kinds ?? null],
  })
}

/**
 * The rescue statement. Parameters: $1 now ms (null: the database's), $2 stale-after ms, $3 limit, $4 the jobs
 * channel, $5 forget-after ms (process rows silent that long are deleted).
 *
 * Candidates come oldest first from the partial index of running jobs (`jobs_running_idx`); each is
 * checked against its process's heartbeat by primary key. A job out of attempts ends `failed` (and
 * cancels its waiting dependants, as a completion does), any other becomes `retryable` now and
 * wakes the workers of its queue. The attempt stays counted; the error names the process.
 */
export function rescueSql(names: SqlNames): string {
  const exhausted = 'j.attempt >= j.max_attempts'
  const now = nowMs('$1')
  const processOf = (a: string) => `split_part(coalesce(${a}.attempted_by, ''), ':', 1)`
  return `WITH RECURSIVE rescued AS (
      UPDATE ${names.jobs} j SET
        state = CASE WHEN ${exhausted} THEN 'failed' ELSE 'retryable' END,
        run_at = CASE WHEN ${exhausted} THEN j.run_at ELSE ${fromMs(now)} END,
        finished_at = CASE WHEN ${exhausted} THEN ${fromMs(now)} END,
        errors = j.errors || jsonb_build_array(jsonb_build_object(
          'attempt', j.attempt,
          'at', round(${now}),
          'name', 'WorkerDied',
          'message', 'The worker process ' || to_jsonb(${processOf('j')})::text
            || ' stopped sending heartbeats while running this job; it was returned to the queue.'
        ))
      WHERE j.id = ANY(ARRAY(
          SELECT r.id FROM ${names.jobs} r
          WHERE r.state = 'running'
            AND NOT EXISTS (
              SELECT 1 FROM ${names.processes} p
              WHERE p.id = ${processOf('r')} AND p.last_heartbeat_at >= ${fromMs(`${now} - $2::float8`)}
            )
          ORDER BY r.attempted_at
          LIMIT $3::int
          FOR UPDATE OF r SKIP LOCKED
        ))
        AND j.state = 'running'
      RETURNING j.id AS row_id, ${jobColumns('j')}
    ), ended_badly AS (
      SELECT r.row_id AS id FROM rescued r WHERE r.state = 'failed'
    ), ${cascadeCtes(names, 'ended_badly', now)}, notified AS (
      SELECT pg_notify($4::text, CASE WHEN count(DISTINCT r.queue) <= 40 THEN json_agg(DISTINCT r.queue)::text ELSE '[]' END)
      FROM rescued r
      WHERE r.state = 'retryable'
      HAVING count(*) > 0
    ), forgotten AS (
      DELETE FROM ${names.processes} p
      WHERE p.id = ANY(ARRAY(
        SELECT o.id FROM ${names.processes} o WHERE o.last_heartbeat_at < ${fromMs(`${now} - $5::float8`)} FOR UPDATE SKIP LOCKED
      ))
      RETURNING p.id
    )
    SELECT r.*, (SELECT count(*) FROM notified)::int AS notified, (SELECT count(*) FROM cascaded)::int AS cascaded
    FROM rescued r
    ORDER BY r.row_id`
}

/** Rescues jobs of dead processes as `JobStore.rescueJobs` describes; returns them in id order. */
export async function rescueJobs(
  target: SqlTarget,
  names: SqlNames,
  sql: string,
  params: { readonly now?: number; readonly staleAfterMs: number; readonly limit: number },
): Promise<JobRecord[]> {
  const limit = Math.floor(params.limit)
  if (!(limit >= 1)) return []
  const forgetAfterMs = Math.max(params.staleAfterMs, FORGET_PROCESS_AFTER_MS)
  const rows = await queryRows<JobRow>(target, {
    name: `${names.statementPrefix}rescue`,
    text: sql,
    values: [params.now ?? null, params.staleAfterMs, limit, names.jobsChannel, forgetAfterMs],
  })
  return rows.map(toJobRecord)
}
