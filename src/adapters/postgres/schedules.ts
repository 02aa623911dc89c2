/**
 * Stored schedules: upsert, list, due, delete, and firing a tick exactly once. A tick is fired in
 * one transaction: the schedule's row is locked and its `last_tick_at` read (a tick at or before it
 * was fired already: its job is skipped, wherever that job is now), a compare-and-set on
 * `next_run_at` (only one process can move it from the value it read), then the tick's job insert,
 * which the unique index on `jobs (schedule_name, schedule_tick)` makes a no-op if that tick's job
 * is still unfinished.
 */
import type pg from 'pg'
import type { JobRecord } from '../../core/domain/job.js'
import type { FireTickParams, ScheduleRecord, UpsertScheduleParams } from '../../core/ports/store.js'
import { isUnavailable } from './errors.js'
import { insertJobs } from './insert-jobs.js'
import type { InsertSql } from './insert-sql.js'
import { queryRows, type SqlTarget } from './queryable.js'
import { type ScheduleRow, scheduleColumns, toScheduleRecord } from './row-mapping.js'
import { fromMs, nowMs, type SqlNames } from './sql-names.js'

/** Creates or replaces a schedule by name, keeping its tick history and creation time. */
export async function upsertSchedule(
  target: SqlTarget,
  names: SqlNames,
  params: UpsertScheduleParams,
): Promise<ScheduleRecord> {
  const s = params.schedule
  const rows = await queryRows<ScheduleRow>(target, {
    text: `INSERT INTO ${names.schedules} AS s
        (name, expression, timezone, kind, payload, job_template, next_run_at, missed_policy,
         start_at, after_schedule, created_at, updated_at)
      VALUES ($1::text, $2::text, $3::text, $4::text, $5::jsonb, $6::jsonb, ${fromMs('$7')}, $8::text,
        ${fromMs('$10')}, $11::text, ${fromMs(nowMs('$9'))}, ${fromMs(nowMs('$9'))})
      ON CONFLICT (name) DO UPDATE SET
        expression = excluded.expression, timezone = excluded.timezone, kind = excluded.kind,
        payload = excluded.payload, job_template = excluded.job_template,
        -- Same expression, zone, start and predecessor: keep the stored next tick, read atomically
        -- here. The caller's copy may be stale (other processes fire ticks meanwhile); writing it
        -- back would rewind the schedule.
        next_run_at = CASE WHEN s.expression = excluded.expression
            AND s.timezone IS NOT DISTINCT FROM excluded.timezone
            AND s.start_at IS NOT DISTINCT FROM excluded.start_at
            AND s.after_schedule IS NOT DISTINCT FROM excluded.after_schedule
          THEN s.next_run_at ELSE excluded.next_run_at END,
        missed_policy = excluded.missed_policy, start_at = excluded.start_at,
        after_schedule = excluded.after_schedule, updated_at = excluded.updated_at
      RETURNING ${scheduleColumns('s')}`,
    values: [
      s.name,
      s.expression,
      s.timezone,
      s.kind,
      JSON.stringify(s.payload),
      JSON.stringify(s.jobTemplate),
      s.nextRunAt,
      s.missedPolicy,
      params.now ?? null,
      s.startAt ?? null,
      s.after ?? null,
    ],
  })
  return toScheduleRecord(rows[0] as ScheduleRow)
}

/** Deletes a schedule; returns whether it existed. */
export async function deleteSchedule(target: SqlTarget, names: SqlNames, name: string): Promise<boolean> {
  const rows = await queryRows(target, {
    text: `DELETE FROM ${names.schedules} WHERE name = $1::text RETURNING name`,
    values: [name],
  })
  return rows.length > 0
}

/** Lists schedules by name (sorted by code unit, as the memory adapter does, not by collation). */
export async function listSchedules(target: SqlTarget, names: SqlNames): Promise<ScheduleRecord[]> {
  const rows = await queryRows<ScheduleRow>(target, {
    text: `SELECT ${scheduleColumns('s')} FROM ${names.schedules} s`,
    values: [],
  })
  return rows.map(toScheduleRecord).sort(byName)
}

/** Schedules whose next tick is at or before `now`, and those that run after another, by name. */
export async function dueSchedules(
  target: SqlTarget,
  names: SqlNames,
  now: number | undefined,
): Promise<ScheduleRecord[]> {
  const rows = await queryRows<ScheduleRow>(target, {
    name: `${names.statementPrefix}due_schedules`,
    text: `SELECT ${scheduleColumns('s')} FROM ${names.schedules} s WHERE s.next_run_at <= ${fromMs(nowMs('$1'))} OR s.after_schedule IS NOT NULL`,
    values: [now ?? null],
  })
  return rows.map(toScheduleRecord).sort(byName)
}

/** Fires one tick exactly once (see `JobStore.fireScheduleTick`); returns the inserted job or null. */
export async function fireScheduleTick(
  pool: pg.Pool,
  names: SqlNames,
  insert: InsertSql,
  params: FireTickParams,
): Promise<JobRecord | null> {
  const client = await pool.connect()
  let broken = false
  // A checked-out client has no 'error' listener of the pool's: a connection the server ends while
  // this runs would emit an unheard 'error' and crash the process. The query fails anyway.
  const onClientError = () => {
    broken = true
  }
  client.on('error', onClientError)
  try {
    // READ COMMITTED whatever the session's default: a firing that waited for another's row lock
    // then reads the row that one committed (and skips the tick), where a REPEATABLE READ snapshot
    // would fail it with a serialization error.
    await client.query('BEGIN ISOLATION LEVEL READ COMMITTED')
    const tick = params.job?.scheduleTick ?? null
    // A tick at or before the last one fired is never enqueued again: its job may have finished and
    // moved to history, where no unique index can hold (schedule, tick) without the partition key.
    // The row lock taken here serializes every firing of this schedule until COMMIT.
    let fresh = true
    if (tick !== null) {
      const [last] = await queryRows<{ fresh: boolean }>(client, {
        name: `${names.statementPrefix}schedule_last_tick`,
        text: `SELECT (last_tick_at IS NULL OR last_tick_at < ${fromMs('$2')}) AS fresh
          FROM ${names.schedules} WHERE name = $1::text FOR UPDATE`,
        values: [params.name, tick],
      })
      fresh = last?.fresh ?? true
    }
    const advanced = await queryRows(client, {
      name: `${names.statementPrefix}advance_schedule`,
      text: `UPDATE ${names.schedules}
        SET next_run_at = ${fromMs('$2')}, last_tick_at = greatest(${fromMs('$3')}, last_tick_at), updated_at = ${fromMs(nowMs('$4'))}
        WHERE name = $1::text AND next_run_at IS NOT DISTINCT FROM ${fromMs('$5')}
        RETURNING name`,
      values: [
        params.name,
        params.nextRunAt,
        params.job ? tick : null,
        params.now ?? null,
        params.expectedNextRunAt,
      ],
    })
    let job: JobRecord | null = null
    if (advanced.length > 0 && params.job && fresh) {
      const [outcome] = await insertJobs(client, names, insert, [params.job], params.now)
      job = outcome && !outcome.duplicate ? outcome.job : null
    }
    await client.query('COMMIT')
    return job
  } catch (error) {
    // A connection that cannot roll back, or that broke, is discarded instead of returned to the pool.
    await client.query('ROLLBACK').catch(() => {
      broken = true
    })
    if (isUnavailable(error)) broken = true
    throw error
  } finally {
    client.removeListener('error', onClientError)
    client.release(broken)
  }
}

function byName(a: ScheduleRecord, b: ScheduleRecord): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}
