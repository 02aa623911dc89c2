/**
 * Reading and managing jobs outside the hot path: get, list (keyset by id, newest first), retry,
 * cancel, delete by filter, pause/resume, and counts by queue and state. Reads see both `jobs` and
 * `job_history`; cancelling moves jobs to history, retrying a finished job moves it back.
 */
import type { JobRecord, JobState } from '../../core/domain/job.js'
import { JOB_STATES } from '../../core/domain/job.js'
import type { JobFilter, ListJobsParams, QueueStats } from '../../core/ports/store.js'
import { cascadeCtes } from './complete.js'
import { deleteEdgesSql, notifyWokenSql, restoredEdgesSql, wokenJobsSql } from './dependants.js'
import { copyRowsSql, everyJobSql, rowWith } from './history-sql.js'
import { jobFilterSql, SqlParams } from './job-filter-sql.js'
import { assertJobId, isJobId } from './job-id.js'
import { frontOfQueueSql, notifyJobsSql } from './jobs-notification.js'
import { queryRows, type SqlTarget } from './queryable.js'
import {
  type JobRow,
  type JobRowWithLogs,
  jobColumns,
  toJobRecord,
  toJobRecordWithLogs,
} from './row-mapping.js'
import { fromMs, nowMs, type SqlNames, toMs, UNIQUE_SQL, WAITING_SQL } from './sql-names.js'

/** At most this many ids per `<schema>_cancel` notification (payloads are limited to 8000 bytes). */
const IDS_PER_NOTIFICATION = 300

/** Returns one job with its run logs, or null. */
export async function getJob(target: SqlTarget, names: SqlNames, id: string): Promise<JobRecord | null> {
  if (!isJobId(id)) return null
  const rows = await queryRows<JobRowWithLogs>(target, {
    name: `${names.statementPrefix}get_job_logs`,
    text: `SELECT ${jobColumns('j')}, j.logs FROM ${names.jobs} j WHERE j.id = $1::bigint
      UNION ALL
      SELECT ${jobColumns('h')}, h.logs FROM ${names.history} h WHERE h.id = $1::bigint
      LIMIT 1`,
    values: [id],
  })
  return rows[0] ? toJobRecordWithLogs(rows[0]) : null
}

/**
 * The statement of `getJobsByKey` (`$1` the key, `$2` the kind when `withKind`): the holders of the
 * key, else its newest finished job. Two texts (with and without the kind) so each keeps an index
 * plan: holders come from `jobs_unique_key_held_idx` or `jobs_unique_key_id_idx`, the newest finished
 * job from backward scans of `jobs_unique_key_id_idx` and of each history partition's
 * `(unique_key, id)` index, merged, that stop at the first match.
 */
export function jobsByKeySql(names: SqlNames, withKind: boolean): string {
  const match = `j.unique_key = $1::text${withKind ? ' AND j.kind = $2::text' : ''}`
  return `WITH holders AS (
      SELECT ${jobColumns('j')}, j.logs FROM ${names.jobs} j WHERE ${match} AND j.state IN ${UNIQUE_SQL}
    )
    SELECT * FROM holders
    UNION ALL
    (SELECT ${jobColumns('j')}, j.logs FROM ${everyJobSql(names)} j
      WHERE ${match} AND j.state NOT IN ${UNIQUE_SQL} AND NOT EXISTS (SELECT 1 FROM holders)
      ORDER BY j.id DESC LIMIT 1)`
}

/** The jobs a unique key names (see `JobStore.getJobsByKey`), newest first. */
export async function getJobsByKey(
  target: SqlTarget,
  names: SqlNames,
  params: { readonly uniqueKey: string; readonly kind?: string },
): Promise<JobRecord[]> {
  const withKind = params.kind !== undefined
  const rows = await queryRows<JobRowWithLogs>(target, {
    name: `${names.statementPrefix}jobs_by_key${withKind ? '_kind' : ''}`,
    text: jobsByKeySql(names, withKind),
    values: withKind ? [params.uniqueKey, params.kind] : [params.uniqueKey],
  })
  return rows
    .map(toJobRecordWithLogs)
    .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : BigInt(b.id) < BigInt(a.id) ? -1 : 0))
}

/** Lists matching jobs, newest first, with ids below `beforeId`. */
export async function listJobs(
  target: SqlTarget,
  names: SqlNames,
  params: ListJobsParams,
): Promise<JobRecord[]> {
  const p = new SqlParams()
  const where = jobFilterSql(params.filter, 'j', p)
  const before =
    params.beforeId === undefined
      ? ''
      : `AND j.id < ${p.add(assertJobId(params.beforeId, 'beforeId'))}::bigint`
  const limit = p.add(Math.max(0, Math.floor(params.limit)))
  const rows = await queryRows<JobRow>(target, {
    text: `SELECT ${jobColumns('j')} FROM ${everyJobSql(names)} j WHERE ${where} ${before} ORDER BY j.id DESC LIMIT ${limit}::int`,
    values: p.values,
  })
  return rows.map(toJobRecord)
}

/**
 * Makes matching jobs that are not running available now (max attempts raised when exhausted). A job
 * whose unique key is held by another waiting or running job stays as it is, as does every matching
 * job of one key but the first (the unique index allows one holder).
 */
export async function retryJobs(
  target: SqlTarget,
  names: SqlNames,
  filter: JobFilter,
  now: number | undefined,
): Promise<number> {
  const p = new SqlParams()
  const where = jobFilterSql(filter, 'j', p)
  const nowSql = nowMs(p.add(now ?? null))
  const channel = p.add(names.jobsChannel)
  const [row] = await queryRows<{ count: number }>(target, {
    text: `WITH waiting AS (
        SELECT j.id, j.kind, j.unique_key, j.state FROM ${names.jobs} j
        WHERE ${where} AND j.state <> 'running'
        FOR UPDATE
      ), finished AS (
        SELECT j.id, j.kind, j.unique_key, j.state FROM ${names.history} j
        WHERE ${where}
        FOR UPDATE
      ), matched AS (
        SELECT * FROM waiting UNION ALL SELECT * FROM finished
      ), eligible AS (
        SELECT m.id FROM matched m
        WHERE m.unique_key IS NULL
          OR m.state IN ${UNIQUE_SQL}
          OR (
            NOT EXISTS (
              SELECT 1 FROM ${names.jobs} h WHERE h.kind = m.kind AND h.unique_key = m.unique_key AND h.state IN ${UNIQUE_SQL}
            )
            AND m.id = (SELECT min(o.id) FROM matched o WHERE o.kind = m.kind AND o.unique_key = m.unique_key)
          )
      ), updated AS (
        UPDATE ${names.jobs} j SET state = 'available', run_at = ${fromMs(nowSql)}, finished_at = NULL, group_behind = false,
          max_attempts = ${maxAttempts('j')}
        WHERE j.id IN (SELECT id FROM eligible) AND j.id IN (SELECT id FROM waiting)
        RETURNING j.queue, j.priority, j.run_at
      ), moved_back AS (
        DELETE FROM ${names.history} j
        WHERE j.id IN (SELECT id FROM eligible) AND j.id IN (SELECT id FROM finished)
        RETURNING ${rowWith('j', { state: `'available'`, run_at: fromMs(nowSql), finished_at: 'NULL::timestamptz', max_attempts: maxAttempts('j') })}
      ), restored AS (
        ${copyRowsSql(names.jobs, 'moved_back')}
        RETURNING queue, priority, run_at
      ), edges AS (
        ${restoredEdgesSql(names, 'moved_back')}
      ), notified AS (
        ${notifyJobsSql(channel, {
          from: '(SELECT queue, priority, run_at FROM updated UNION ALL SELECT queue, priority, run_at FROM restored) q',
          queue: 'q.queue',
          priority: 'q.priority',
          runAtMs: toMs('q.run_at'),
        })}
      )
      SELECT ((SELECT count(*) FROM updated) + (SELECT count(*) FROM restored))::int AS count, (SELECT count(*) FROM notified)::int AS notified`,
    values: p.values,
  })
  return row?.count ?? 0
}

/** Max attempts of a retried job of alias `a`: one more than its attempts when they are exhausted. */
function maxAttempts(a: string): string {
  return `CASE WHEN ${a}.attempt >= ${a}.max_attempts THEN ${a}.attempt + 1 ELSE ${a}.max_attempts END`
}

/**
 * Cancels matching waiting or running jobs and, transitively, their waiting dependants; notifies
 * `<schema>_cancel` with the ids that were running, and `<schema>_jobs` with the next jobs of their
 * groups (a running job holds its group, and in \`fifo\` mode so does a waiting one: dependants.ts). Returns the matching ids, in id order.
 */
export async function cancelJobs(
  target: SqlTarget,
  names: SqlNames,
  filter: JobFilter,
  now: number | undefined,
): Promise<string[]> {
  const p = new SqlParams()
  const where = jobFilterSql(filter, 'j', p)
  const nowSql = nowMs(p.add(now ?? null))
  const channel = p.add(names.cancelChannel)
  const jobsChannel = p.add(names.jobsChannel)
  const rows = await queryRows<{ id: string | null }>(target, {
    text: `WITH RECURSIVE matched AS (
        SELECT j.id, j.state FROM ${names.jobs} j WHERE ${where} AND j.state IN ${UNIQUE_SQL} FOR UPDATE
      ), source AS (
        DELETE FROM ${names.jobs} j USING matched m WHERE j.id = m.id
        RETURNING ${rowWith('j', { state: `'cancelled'`, finished_at: fromMs(nowSql) })}, m.state AS was
      ), archived AS (
        ${copyRowsSql(names.history, 'source')}
      ), ${cascadeCtes(names, 'source', nowSql)}, freed AS (
        ${deleteEdgesSql(names, 'SELECT id FROM source UNION ALL SELECT id FROM cascaded')}
      ), notified AS (
        SELECT pg_notify(${channel}::text, json_agg(r.id::text)::text)
        FROM (SELECT s.id, (row_number() OVER (ORDER BY s.id) - 1) / ${IDS_PER_NOTIFICATION} AS chunk FROM source s WHERE s.was = 'running') r
        GROUP BY r.chunk
      ), woken AS (
        ${wokenJobsSql(names, null, 'SELECT group_key, id FROM source UNION ALL SELECT group_key, id FROM cascaded', fromMs(nowSql))}
      ), woke AS (
        ${notifyWokenSql(jobsChannel)}
      )
      SELECT s.id::text AS id, (SELECT count(*) FROM notified) AS notified, (SELECT count(*) FROM woke) AS woke,
        (SELECT count(*) FROM cascaded) AS cascaded
      FROM (SELECT 1) one LEFT JOIN source s ON true
      ORDER BY s.id`,
    values: p.values,
  })
  return rows.flatMap((r) => (r.id === null ? [] : [r.id]))
}

/**
 * Pauses matching waiting jobs (`JobStore.pauseJobs`). The rows are locked first (`FOR UPDATE`
 * waits for a claim holding one, then sees it running and leaves it). Returns them in id order.
 */
export async function pauseJobs(target: SqlTarget, names: SqlNames, filter: JobFilter): Promise<JobRecord[]> {
  const p = new SqlParams()
  const where = jobFilterSql(filter, 'j', p)
  const channel = p.add(names.jobsChannel)
  const rows = await queryRows<JobRow & { notified: number }>(target, {
    text: `WITH matched AS (
        SELECT j.id FROM ${names.jobs} j WHERE ${where} AND j.state IN ${WAITING_SQL} FOR UPDATE
      ), paused AS (
        UPDATE ${names.jobs} j SET state = 'paused', group_behind = false
        FROM matched m WHERE j.id = m.id
        RETURNING ${jobColumns('j')}
      ), woken AS (
        ${wokenJobsSql(names, null, 'SELECT group_key, id FROM paused', null)}
      ), notified AS (
        ${notifyWokenSql(channel)}
      )
      SELECT u.*, (SELECT count(*) FROM notified)::int AS notified FROM paused u`,
    values: p.values,
  })
  return rows.map(toJobRecord).sort(byId)
}

/**
 * Resumes matching paused jobs (`JobStore.resumeJobs`): `scheduled` when their run time is after
 * now, else `available`, notifying the queues of the due ones. Returns them in id order.
 */
export async function resumeJobs(
  target: SqlTarget,
  names: SqlNames,
  filter: JobFilter,
  now: number | undefined,
): Promise<JobRecord[]> {
  const p = new SqlParams()
  const where = jobFilterSql(filter, 'j', p)
  const nowSql = nowMs(p.add(now ?? null))
  const channel = p.add(names.jobsChannel)
  const rows = await queryRows<JobRow & { notified: number }>(target, {
    text: `WITH matched AS (
        SELECT j.id FROM ${names.jobs} j WHERE ${where} AND j.state = 'paused' FOR UPDATE
      ), updated AS (
        UPDATE ${names.jobs} j
        SET state = CASE WHEN j.run_at > ${fromMs(nowSql)} THEN 'scheduled' ELSE 'available' END, group_behind = false
        FROM matched m WHERE j.id = m.id
        RETURNING ${jobColumns('j')}
      ), notified AS (
        ${notifyJobsSql(channel, {
          from: 'updated u',
          where: "u.state = 'available'",
          queue: 'u.queue',
          priority: 'u.priority',
          runAtMs: 'u.run_at',
        })}
      )
      SELECT u.*, (SELECT count(*) FROM notified)::int AS notified FROM updated u`,
    values: p.values,
  })
  return rows.map(toJobRecord).sort(byId)
}

/** Orders records by numeric id. */
function byId(a: JobRecord, b: JobRecord): number {
  return a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

/**
 * Deletes matching jobs that are not running; returns the count. A deleted dependency counts as met:
 * its waiting dependants are notified, and so are the next jobs of its groups (in `fifo` mode a
 * waiting job holds its group for the later ones: dependants.ts).
 */
export async function deleteJobs(target: SqlTarget, names: SqlNames, filter: JobFilter): Promise<number> {
  const p = new SqlParams()
  const where = jobFilterSql(filter, 'j', p)
  const channel = p.add(names.jobsChannel)
  const [row] = await queryRows<{ count: number }>(target, {
    text: `WITH deleted AS (DELETE FROM ${names.jobs} j WHERE ${where} AND j.state <> 'running' RETURNING j.id, j.group_key),
        deleted_finished AS (DELETE FROM ${names.history} j WHERE ${where} RETURNING 1),
        freed AS (${deleteEdgesSql(names, 'SELECT id FROM deleted')}),
        woken AS (${wokenJobsSql(names, 'SELECT dependant_id FROM freed', 'SELECT group_key, id FROM deleted', null)}),
        notified AS (${notifyWokenSql(channel)})
      SELECT ((SELECT count(*) FROM deleted) + (SELECT count(*) FROM deleted_finished))::int AS count,
        (SELECT count(*) FROM notified)::int AS notified`,
    values: p.values,
  })
  return row?.count ?? 0
}

/** Pauses or resumes a queue; resuming notifies its workers. */
export async function setQueuePaused(
  target: SqlTarget,
  names: SqlNames,
  queue: string,
  paused: boolean,
  now: number | undefined,
): Promise<void> {
  await queryRows(target, {
    text: `WITH saved AS (
        INSERT INTO ${names.queues} (name, paused, updated_at) VALUES ($1::text, $2::boolean, ${fromMs(nowMs('$3'))})
        ON CONFLICT (name) DO UPDATE SET paused = excluded.paused, updated_at = excluded.updated_at
        RETURNING name
      )
      SELECT name, CASE WHEN NOT $2::boolean THEN pg_notify($4::text, ${frontOfQueueSql('name')}) END AS notified FROM saved`,
    values: [queue, paused, now ?? null, names.jobsChannel],
  })
}

/** Counts by queue and state (one grouped query), for every queue with jobs or paused, by name. */
export async function queueStats(target: SqlTarget, names: SqlNames): Promise<QueueStats[]> {
  const rows = await queryRows<{ queue: string; state: JobState | null; count: number; paused: boolean }>(
    target,
    {
      name: `${names.statementPrefix}queue_stats`,
      text: `SELECT queue, state, count(*)::int AS count, false AS paused FROM ${everyJobSql(names)} j GROUP BY queue, state
      UNION ALL
      SELECT name, NULL, 0, true FROM ${names.queues} WHERE paused`,
      values: [],
    },
  )
  const byQueue = new Map<string, { paused: boolean; counts: Record<JobState, number> }>()
  for (const row of rows) {
    let entry = byQueue.get(row.queue)
    if (!entry) {
      entry = {
        paused: false,
        counts: Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>,
      }
      byQueue.set(row.queue, entry)
    }
    if (row.paused) entry.paused = true
    if (row.state !== null) entry.counts[row.state] = row.count
  }
  return [...byQueue.keys()].sort().map((queue) => ({
    queue,
    ...(byQueue.get(queue) as { paused: boolean; counts: Record<JobState, number> }),
  }))
}
