/**
 * Orphan checks on PostgreSQL: due waiting jobs (and schedules) of kinds no live process registered.
 * Each process writes its kinds with its heartbeat (`processes.kinds`). Both statements find the
 * distinct kinds of waiting jobs with a skip scan of `jobs_waiting_kind_idx` (one probe per kind,
 * whatever the backlog), keep the unregistered ones, and read only their due jobs: finished jobs and
 * the waiting jobs of registered kinds are never read.
 */
import type { JobRecord } from '../../core/domain/job.js'
import type { OrphanedJobs, OrphanParams, OrphanReport } from '../../core/ports/store.js'
import { cascadeCtes } from './complete.js'
import { notifyWokenSql, wokenJobsSql } from './dependants.js'
import { copyRowsSql, rowWith } from './history-sql.js'
import { queryRows, type SqlTarget } from './queryable.js'
import {
  type JobRow,
  jobColumns,
  type ScheduleRow,
  scheduleColumns,
  toJobRecord,
  toScheduleRecord,
} from './row-mapping.js'
import { fromMs, nowMs, type SqlNames, toMs, WAITING_SQL } from './sql-names.js'

/**
 * The CTEs shared by both statements. Parameters: $1 now ms (null: the database's), $2 stale-after
 * ms, $3 the caller's own kinds. `orphan_kinds` holds the kinds of waiting jobs that no process heard
 * from within stale-after registered (none while a live process does not report its kinds).
 */
function orphanKindsCtes(names: SqlNames): string {
  const now = nowMs('$1')
  return `live AS (
      SELECT p.kinds FROM ${names.processes} p WHERE p.last_heartbeat_at >= ${fromMs(`${now} - $2::float8`)}
    ), waiting_kinds(kind) AS (
      (SELECT j.kind FROM ${names.jobs} j WHERE j.state IN ${WAITING_SQL} ORDER BY j.kind LIMIT 1)
      UNION ALL
      SELECT (SELECT j.kind FROM ${names.jobs} j WHERE j.state IN ${WAITING_SQL} AND j.kind > w.kind ORDER BY j.kind LIMIT 1)
      FROM waiting_kinds w WHERE w.kind IS NOT NULL
    ), orphan_kinds AS (
      SELECT w.kind FROM waiting_kinds w
      WHERE w.kind IS NOT NULL AND w.kind <> ALL($3::text[])
        AND NOT EXISTS (SELECT 1 FROM live l WHERE l.kinds IS NULL OR w.kind = ANY(l.kinds))
    ), orphans AS (
      SELECT j.id, j.queue, j.kind, j.run_at FROM orphan_kinds o CROSS JOIN LATERAL (
        SELECT d.id, d.queue, d.kind, d.run_at FROM ${names.jobs} d
        WHERE d.kind = o.kind AND d.state IN ${WAITING_SQL} AND d.run_at <= ${fromMs(now)} OFFSET 0
      ) j
    )`
}

/**
 * The report statement: one row with `jobs` (groups by queue and kind) and `schedules` (schedules
 * with ticks to come whose kind is registered by no live process), both JSON arrays.
 */
export function findOrphansSql(names: SqlNames): string {
  return `WITH RECURSIVE ${orphanKindsCtes(names)}
    SELECT
      (SELECT coalesce(json_agg(g ORDER BY g.queue COLLATE "C", g.kind COLLATE "C"), '[]')
        FROM (SELECT o.queue, o.kind, count(*)::int AS count, ${toMs('min(o.run_at)')} AS "oldestRunAt"
              FROM orphans o GROUP BY o.queue, o.kind) g) AS jobs,
      (SELECT coalesce(json_agg(s ORDER BY s.name COLLATE "C"), '[]') FROM (
        SELECT ${scheduleColumns('x')} FROM ${names.schedules} x
        WHERE (x.next_run_at IS NOT NULL OR x.after_schedule IS NOT NULL)
          AND x.kind <> ALL($3::text[])
          AND NOT EXISTS (SELECT 1 FROM live l WHERE l.kinds IS NULL OR x.kind = ANY(l.kinds))
      ) s) AS schedules`
}

/** Finds orphans as `JobStore.findOrphans` describes, in one statement. */
export async function findOrphans(
  target: SqlTarget,
  names: SqlNames,
  sql: string,
  params: OrphanParams,
): Promise<OrphanReport> {
  const [row] = await queryRows<{ jobs: OrphanedJobs[]; schedules: ScheduleRow[] }>(target, {
    name: `${names.statementPrefix}find_orphans`,
    text: sql,
    values: [params.now ?? null, params.staleAfterMs, params.registered],
  })
  return { jobs: row?.jobs ?? [], schedules: (row?.schedules ?? []).map(toScheduleRecord) }
}

/**
 * The failing statement. Parameters: $1-$3 as the CTEs, $4 fail-after ms, $5 limit, $6 the jobs
 * channel (the next jobs of the failed jobs' groups are released and announced: dependants.ts). An orphan fails
 * when its kind has gone unregistered for fail-after: counted from the later of its run time and the
 * last heartbeat of any process (live or dead, while its row is kept) that registered the kind. The
 * candidates come from the unregistered kinds' index entries only; their rows are locked with SKIP
 * LOCKED by primary key and re-checked as waiting, so a claim or a concurrent check wins.
 */
export function failOrphansSql(names: SqlNames): string {
  const now = nowMs('$1')
  return `WITH RECURSIVE ${orphanKindsCtes(names)}, last_registered AS (
      SELECT k.kind, max(p.last_heartbeat_at) AS at
      FROM orphan_kinds k JOIN ${names.processes} p ON k.kind = ANY(p.kinds)
      GROUP BY k.kind
    ), candidates AS (
      SELECT o.id FROM orphans o LEFT JOIN last_registered lr ON lr.kind = o.kind
      WHERE greatest(o.run_at, lr.at) <= ${fromMs(`${now} - $4::float8`)}
      ORDER BY o.id
      LIMIT $5::int
    ), locked AS (
      SELECT r.id FROM ${names.jobs} r
      WHERE r.id = ANY(ARRAY(SELECT c.id FROM candidates c)) AND r.state IN ${WAITING_SQL}
      FOR UPDATE SKIP LOCKED
    ), failed AS (
      DELETE FROM ${names.jobs} j
      WHERE j.id = ANY(ARRAY(SELECT l.id FROM locked l))
        AND j.state IN ${WAITING_SQL}
      RETURNING ${rowWith('j', {
        state: `'failed'`,
        finished_at: fromMs(now),
        errors: `j.errors || jsonb_build_array(jsonb_build_object(
          'attempt', j.attempt,
          'at', round(${now}),
          'name', 'OrphanedJob',
          'message', 'No live process registered a handler for kind ' || to_jsonb(j.kind)::text
            || ' for ' || round($4::float8)::bigint || ' ms (orphans.failAfterMs); register one and retry the job.'
        ))`,
      })}
    ), archived AS (
      ${copyRowsSql(names.history, 'failed')}
    ), failed_ids AS (
      SELECT f.id FROM failed f
    ), ${cascadeCtes(names, 'failed_ids', now)}, woken AS (
      ${wokenJobsSql(names, null, 'SELECT group_key, id FROM failed UNION ALL SELECT group_key, id FROM cascaded', fromMs(now))}
    ), notified AS (
      ${notifyWokenSql('$6')}
    )
    SELECT ${jobColumns('f')}, (SELECT count(*) FROM cascaded)::int AS cascaded,
      (SELECT count(*) FROM notified)::int AS notified
    FROM failed f ORDER BY f.id`
}

/** Fails orphans as `JobStore.failOrphans` describes; returns them in id order. */
export async function failOrphans(
  target: SqlTarget,
  names: SqlNames,
  sql: string,
  params: OrphanParams & { readonly failAfterMs: number; readonly limit: number },
): Promise<JobRecord[]> {
  const limit = Math.floor(params.limit)
  if (!(limit >= 1)) return []
  const rows = await queryRows<JobRow>(target, {
    name: `${names.statementPrefix}fail_orphans`,
    text: sql,
    values: [
      params.now ?? null,
      params.staleAfterMs,
      params.registered,
      params.failAfterMs,
      limit,
      names.jobsChannel,
    ],
  })
  return rows.map(toJobRecord)
}
