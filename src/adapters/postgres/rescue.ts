/**
 * Crash rescue: every worker process upserts its row of `processes` (its heartbeat), and any process
 * can return to the queue the running jobs of processes whose heartbeat went stale. Both are one
 * statement. The rescue locks the jobs it takes with `FOR UPDATE SKIP LOCKED`, so concurrent rescuers
 * never rescue a job twice, and re-checks `state = 'running'` on the locked row, so a job its worker
 * completed meanwhile is never touched.
 */
import type { JobRecord } from '../../core/domain/job.js'
import type { ProcessRecord, ProcessWorker } from '../../core/ports/store.js'
import { cascadeCtes } from './complete.js'
import { deleteEdgesSql, notifyWokenSql, wokenJobsSql } from './dependants.js'
import { copyRowsSql, rowWith } from './history-sql.js'
import { queryRows, type SqlTarget } from './queryable.js'
import { type JobRow, jobColumns, toJobRecord } from './row-mapping.js'
import { fromMs, nowMs, type SqlNames, toMs } from './sql-names.js'

/** Rows of processes silent for this long are deleted by the rescue (cheap housekeeping). */
export const FORGET_PROCESS_AFTER_MS = 24 * 3600_000

/**
 * The heartbeat statement. Parameters: $1 process id, $2 now ms (null: the database's), $3 the
 * process's workers as JSON (null: keep the recorded ones; only the first heartbeat gives them),
 * $4 the kinds the process registered (null: keep the stored ones; none for a new row).
 */
export function heartbeatSql(names: SqlNames): string {
  return `INSERT INTO ${names.processes} AS p (id, last_heartbeat_at, started_at, workers, kinds)
    VALUES ($1::text, ${fromMs(nowMs('$2'))}, ${fromMs(nowMs('$2'))}, $3::jsonb, coalesce($4::text[], '{}'))
    ON CONFLICT (id) DO UPDATE SET last_heartbeat_at = excluded.last_heartbeat_at,
      workers = coalesce(excluded.workers, p.workers),
      kinds = coalesce($4::text[], p.kinds, '{}')`
}

/** Live processes: $1 now ms (null: the database's), $2 live-within ms. */
export function listProcessesSql(names: SqlNames): string {
  return `SELECT p.id, ${toMs('p.last_heartbeat_at')} AS last_heartbeat_at, ${toMs('p.started_at')} AS started_at, p.workers
    FROM ${names.processes} p
    WHERE p.last_heartbeat_at >= ${fromMs(`${nowMs('$1')} - $2::float8`)}
    ORDER BY p.id`
}

/** Reads the live processes (see `JobStore.listProcesses`). */
export async function listProcesses(
  target: SqlTarget,
  names: SqlNames,
  sql: string,
  params: { readonly now?: number; readonly liveWithinMs: number },
): Promise<ProcessRecord[]> {
  const rows = await queryRows<{
    id: string
    last_heartbeat_at: number
    started_at: number
    workers: ProcessWorker[] | null
  }>(target, {
    name: `${names.statementPrefix}list_processes`,
    text: sql,
    values: [params.now ?? null, params.liveWithinMs],
  })
  return rows.map((r) => ({
    id: r.id,
    lastHeartbeatAt: r.last_heartbeat_at,
    startedAt: r.started_at,
    workers: r.workers,
  }))
}

/** Records that `processId` is alive at `now` (see `JobStore.recordHeartbeat`). */
export async function recordHeartbeat(
  target: SqlTarget,
  names: SqlNames,
  sql: string,
  processId: string,
  now: number | undefined,
  workers: readonly ProcessWorker[] | undefined,
  kinds: readonly string[] | undefined,
): Promise<void> {
  await queryRows(target, {
    name: `${names.statementPrefix}heartbeat`,
    text: sql,
    values: [processId, now ?? null, workers === undefined ? null : JSON.stringify(workers), kinds ?? null],
  })
}

/**
 * The rescue statement. Parameters: $1 now ms (null: the database's), $2 stale-after ms, $3 limit, $4 the jobs
 * channel, $5 forget-after ms (process rows silent that long are deleted), $6 timeout margin ms (null:
 * no rescue by timeout). A job whose timeout plus the margin has passed since it started is rescued
 * whatever its process's heartbeat, as a failed attempt with a `JobTimeoutError`.
 *
 * Candidates come oldest first from the partial index of running jobs (`jobs_running_idx`); each is
 * checked against its process's heartbeat by primary key. A job out of attempts ends `failed` (and
 * cancels its waiting dependants, as a completion does) and moves to history, any other becomes `retryable` now and
 * wakes the workers of its queue; the next jobs of their groups are notified too (dependants.ts). The attempt stays counted; the error names the process.
 */
export function rescueSql(names: SqlNames): string {
  const exhausted = 'j.attempt >= j.max_attempts'
  const now = nowMs('$1')
  const processOf = (a: string) => `split_part(coalesce(${a}.attempted_by, ''), ':', 1)`
  // Past its timeout by the margin: its worker, alive or not, would have ended the attempt by now.
  const timedOut = (a: string) =>
    `($6::bigint IS NOT NULL AND ${a}.timeout_ms > 0 AND ${a}.attempted_at <= ${fromMs(`${now} - ${a}.timeout_ms - $6::float8`)})`
  const error = `j.errors || jsonb_build_array(CASE WHEN ${timedOut('j')} THEN jsonb_build_object(
          'attempt', j.attempt,
          'at', round(${now}),
          'name', 'JobTimeoutError',
          'message', 'Job timed out after ' || j.timeout_ms || ' ms: it was still running '
            || $6::bigint || ' ms past its timeout on worker ' || to_jsonb(j.attempted_by)::text
            || ', which never reported it; it was returned to the queue as a failed attempt.'
        ) ELSE jsonb_build_object(
          'attempt', j.attempt,
          'at', round(${now}),
          'name', 'WorkerDied',
          'message', 'The worker process ' || to_jsonb(${processOf('j')})::text
            || ' stopped sending heartbeats while running this job; it was returned to the queue.'
        ) END)`
  return `WITH RECURSIVE stale AS (
      SELECT r.ctid AS tid FROM ${names.jobs} r
      WHERE r.state = 'running'
        AND (${timedOut('r')} OR NOT EXISTS (
          SELECT 1 FROM ${names.processes} p
          WHERE p.id = ${processOf('r')} AND p.last_heartbeat_at >= ${fromMs(`${now} - $2::float8`)}
        ))
      ORDER BY r.attempted_at
      LIMIT $3::int
      FOR UPDATE OF r SKIP LOCKED
    ), retried AS (
      UPDATE ${names.jobs} j SET state = 'retryable', run_at = ${fromMs(now)}, errors = ${error}, group_behind = false
      WHERE j.ctid = ANY(ARRAY(SELECT tid FROM stale)) AND j.state = 'running' AND NOT (${exhausted})
      RETURNING ${rowWith('j')}
    ), exhausted AS (
      DELETE FROM ${names.jobs} j
      WHERE j.ctid = ANY(ARRAY(SELECT tid FROM stale)) AND j.state = 'running' AND ${exhausted}
      RETURNING ${rowWith('j', { state: `'failed'`, finished_at: fromMs(now), errors: error })}
    ), archived AS (
      ${copyRowsSql(names.history, 'exhausted')}
    ), rescued AS (
      SELECT x.id AS row_id, ${jobColumns('x')} FROM (SELECT * FROM retried UNION ALL SELECT * FROM exhausted) x
    ), ended_badly AS (
      SELECT e.id FROM exhausted e
    ), ${cascadeCtes(names, 'ended_badly', now)}, freed AS (
      ${deleteEdgesSql(names, 'SELECT id FROM exhausted UNION ALL SELECT id FROM cascaded')}
    ), woken AS (
      SELECT r.queue, r.priority, r.run_at FROM retried r
      UNION ALL
      ${wokenJobsSql(names, null, 'SELECT group_key, id FROM retried UNION ALL SELECT group_key, id FROM exhausted UNION ALL SELECT group_key, id FROM cascaded', fromMs(now))}
    ), notified AS (
      ${notifyWokenSql('$4')}
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
  params: {
    readonly now?: number
    readonly staleAfterMs: number
    readonly timeoutMarginMs?: number
    readonly limit: number
  },
): Promise<JobRecord[]> {
  const limit = Math.floor(params.limit)
  if (!(limit >= 1)) return []
  const forgetAfterMs = Math.max(params.staleAfterMs, FORGET_PROCESS_AFTER_MS)
  const rows = await queryRows<JobRow>(target, {
    name: `${names.statementPrefix}rescue`,
    text: sql,
    values: [
      params.now ?? null,
      params.staleAfterMs,
      limit,
      names.jobsChannel,
      forgetAfterMs,
      params.timeoutMarginMs === undefined ? null : Math.floor(params.timeoutMarginMs),
    ],
  })
  return rows.map(toJobRecord)
}
