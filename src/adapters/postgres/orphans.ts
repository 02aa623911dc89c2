/**
 * Orphan checks on PostgreSQL: due waiting jobs (and schedules) of a queue and kind no live process
 * serves. Each process writes its kinds (`processes.kinds`) and its workers with their queues
 * (`processes.workers`) with its heartbeat; it serves a pair when it registered the kind and one of its
 * workers serves the queue. Both statements find the distinct (kind, queue) pairs of waiting jobs with
 * a skip scan of `jobs_waiting_kind_idx` (one probe per pair, whatever the backlog), keep the unserved
 * ones, and read only their due jobs: finished jobs and the waiting jobs of served pairs are never read.
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
 * Whether the process row `p` runs a worker for `queue` (text): one of its recorded workers lists it
 * (JSON containment), or it recorded none (null: a version before workers were recorded).
 */
function workerServes(p: string, queue: string): string {
  return `(${p}.workers IS NULL OR ${p}.workers @> jsonb_build_array(jsonb_build_object('queues', jsonb_build_array(${queue}))))`
}

/** Whether the live process `l` serves `queue` and `kind`: also when it reports no kinds (null, older versions). */
function liveServes(l: string, queue: string, kind: string): string {
  return `(${l}.kinds IS NULL OR ${kind} = ANY(${l}.kinds)) AND ${workerServes(l, queue)}`
}

/** Whether the caller's own registration ($3 kinds, $4 queues) covers `queue` and `kind`. */
function ownServes(queue: string, kind: string): string {
  return `(${kind} = ANY($3::text[]) AND ${queue} = ANY($4::text[]))`
}

/**
 * The CTEs shared by both statements. Parameters: $1 now ms (null: the database's), $2 stale-after
 * ms, $3 the caller's own kinds, $4 its own queues (it serves every pair of them). `orphan_pairs`
 * holds the (kind, queue) pairs of waiting jobs that no process heard from within stale-after serves.
 * The pairs come from a skip scan: each probe reads the first index entry past the previous pair.
 */
function orphanPairsCtes(names: SqlNames): string {
  const now = nowMs('$1')
  return `live AS (
      SELECT p.kinds, p.workers FROM ${names.processes} p WHERE p.last_heartbeat_at >= ${fromMs(`${now} - $2::float8`)}
    ), waiting_pairs(kind, queue) AS (
      (SELECT j.kind, j.queue FROM ${names.jobs} j WHERE j.state IN ${WAITING_SQL} ORDER BY j.kind, j.queue LIMIT 1)
      UNION ALL
      SELECT n.kind, n.queue FROM waiting_pairs w CROSS JOIN LATERAL (
        SELECT j.kind, j.queue FROM ${names.jobs} j
        WHERE j.state IN ${WAITING_SQL} AND (j.kind, j.queue) > (w.kind, w.queue)
        ORDER BY j.kind, j.queue LIMIT 1
      ) n
    ), orphan_pairs AS (
      SELECT w.kind, w.queue FROM waiting_pairs w
      WHERE NOT ${ownServes('w.queue', 'w.kind')}
        AND NOT EXISTS (SELECT 1 FROM live l WHERE ${liveServes('l', 'w.queue', 'w.kind')})
    ), orphans AS (
      SELECT j.id, j.queue, j.kind, j.run_at FROM orphan_pairs o CROSS JOIN LATERAL (
        SELECT d.id, d.queue, d.kind, d.run_at FROM ${names.jobs} d
        WHERE d.kind = o.kind AND d.queue = o.queue AND d.state IN ${WAITING_SQL} AND d.run_at <= ${fromMs(now)} OFFSET 0
      ) j
    )`
}

/**
 * The report statement: one row with `jobs` (groups by queue and kind) and `schedules` (schedules
 * with ticks to come whose job template's queue and kind no live process serves), both JSON arrays.
 */
export function findOrphansSql(names: SqlNames): string {
  const queue = `(x.job_template->>'queue')`
  return `WITH RECURSIVE ${orphanPairsCtes(names)}
    SELECT
      (SELECT coalesce(json_agg(g ORDER BY g.queue COLLATE "C", g.kind COLLATE "C"), '[]')
        FROM (SELECT o.queue, o.kind, count(*)::int AS count, ${toMs('min(o.run_at)')} AS "oldestRunAt"
              FROM orphans o GROUP BY o.queue, o.kind) g) AS jobs,
      (SELECT coalesce(json_agg(s ORDER BY s.name COLLATE "C"), '[]') FROM (
        SELECT ${scheduleColumns('x')} FROM ${names.schedules} x
        WHERE (x.next_run_at IS NOT NULL OR x.after_schedule IS NOT NULL)
          AND NOT ${ownServes(queue, 'x.kind')}
          AND NOT EXISTS (SELECT 1 FROM live l WHERE ${liveServes('l', queue, 'x.kind')})
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
    values: [params.now ?? null, params.staleAfterMs, params.registered.kinds, params.registered.queues],
  })
  return { jobs: row?.jobs ?? [], schedules: (row?.schedules ?? []).map(toScheduleRecord) }
}

/**
 * The failing statement. Parameters: $1-$4 as the CTEs, $5 fail-after ms, $6 limit, $7 the jobs
 * channel (the next jobs of the failed jobs' groups are released and announced: dependants.ts). An orphan fails
 * when its pair has gone unserved for fail-after: counted from the later of its run time and the
 * last heartbeat of any process (live or dead, while its row is kept) that served the pair (registered
 * the kind, and recorded a worker for the queue or no workers). The candidates come from the unserved
 * pairs' index entries only; their rows are locked with SKIP LOCKED by primary key and re-checked as
 * waiting, so a claim or a concurrent check wins.
 */
export function failOrphansSql(names: SqlNames): string {
  const now = nowMs('$1')
  return `WITH RECURSIVE ${orphanPairsCtes(names)}, last_served AS (
      SELECT k.kind, k.queue, max(p.last_heartbeat_at) AS at
      FROM orphan_pairs k JOIN ${names.processes} p ON k.kind = ANY(p.kinds) AND ${workerServes('p', 'k.queue')}
      GROUP BY k.kind, k.queue
    ), candidates AS (
      SELECT o.id FROM orphans o LEFT JOIN last_served ls ON ls.kind = o.kind AND ls.queue = o.queue
      WHERE greatest(o.run_at, ls.at) <= ${fromMs(`${now} - $5::float8`)}
      ORDER BY o.id
      LIMIT $6::int
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
          'message', 'No live process ran a worker for queue ' || to_jsonb(j.queue)::text
            || ' with a handler for kind ' || to_jsonb(j.kind)::text
            || ' for ' || round($5::float8)::bigint
            || ' ms (orphans.failAfterMs); register the kind in a process with a worker for that queue, then retry the job.'
        ))`,
      })}
    ), archived AS (
      ${copyRowsSql(names.history, 'failed')}
    ), failed_ids AS (
      SELECT f.id FROM failed f
    ), ${cascadeCtes(names, 'failed_ids', now)}, woken AS (
      ${wokenJobsSql(names, null, 'SELECT group_key, id FROM failed UNION ALL SELECT group_key, id FROM cascaded', fromMs(now))}
    ), notified AS (
      ${notifyWokenSql('$7')}
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
      params.registered.kinds,
      params.registered.queues,
      params.failAfterMs,
      limit,
      names.jobsChannel,
    ],
  })
  return rows.map(toJobRecord)
}
