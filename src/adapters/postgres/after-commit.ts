/**
 * What a completion written above READ COMMITTED leaves for after its transaction's commit: a job
 * run in its own transaction whose handler raised the level (`SET TRANSACTION ISOLATION LEVEL
 * REPEATABLE READ`), or a session whose default is stricter. There the completion statement neither
 * releases the next job of the groups it ended jobs of (`release_group_behind` would read a stale
 * snapshot, migration 014) nor moves its schedules' last success (the schedule's row, which each tick
 * updates, would fail the job's transaction with a serialization error); it returns them instead
 * (`after_commit`, complete.ts). Once the transaction has committed, this statement does both at READ
 * COMMITTED on another connection of the pool, with the same SQL the completion runs at that level. Until it has run (or if the process dies first) the rescue pass releases the
 * groups' next jobs; a schedule's last success only moves forward, so a later success moves it.
 */
import { notifyWokenSql, wokenJobsSql } from './dependants.js'
import { queryRows, type SqlTarget } from './queryable.js'
import { fromMs, nowMs, type SqlNames } from './sql-names.js'

/** What a completion left for after the commit (see the module comment). */
export interface AfterCommitWork {
  /** `[group_key, id]` of each job it ended or moved in a group. */
  readonly groups: readonly (readonly [string, string])[]
  /** `[schedule_name, tick ms]` of each schedule job that succeeded. */
  readonly ticks: readonly (readonly [string, number])[]
}

/**
 * The statement: the schedules' row locks first, then the groups' advisory locks, in the order the
 * completion statements take them (the other order deadlocked with a READ COMMITTED completion of the
 * same schedule and group, found in review). Parameters: $1 group keys, $2 job ids, $3 schedule names, $4 ticks ms, $5 now ms
 * (null: the database's), $6 the jobs channel.
 */
export function afterCommitSql(names: SqlNames): string {
  return `WITH ended AS (
      SELECT * FROM unnest($1::text[], $2::bigint[]) AS k(group_key, id)
    ), woken AS (
      ${wokenJobsSql(names, null, 'SELECT group_key, id FROM ended', fromMs(nowMs('$5')))}
    ), notified AS (
      ${notifyWokenSql('$6')}
    ), ticks AS (
      UPDATE ${names.schedules} s SET last_success_at = t.tick
      FROM (
        SELECT n.name, max(${fromMs('n.tick')}) AS tick FROM unnest($3::text[], $4::float8[]) AS n(name, tick)
        GROUP BY n.name
      ) t
      WHERE s.name = t.name AND (s.last_success_at IS NULL OR s.last_success_at < t.tick)
      RETURNING s.name
    )
    SELECT (SELECT count(*) FROM ticks)::int AS schedules, (SELECT count(*) FROM notified)::int AS notified`
}

/**
 * Runs `work` on `target`, which must run it at READ COMMITTED: the store's pool (whose statements
 * run at that level, as `PostgresStore` makes sure), not a caller's transaction.
 */
export async function runAfterCommit(
  target: SqlTarget,
  names: SqlNames,
  sql: string,
  work: AfterCommitWork,
  now: number | undefined,
): Promise<void> {
  await queryRows(target, {
    name: `${names.statementPrefix}after_commit`,
    text: sql,
    values: [
      work.groups.map(([key]) => key),
      work.groups.map(([, id]) => id),
      work.ticks.map(([name]) => name),
      work.ticks.map(([, tick]) => tick),
      now ?? null,
      names.jobsChannel,
    ],
  })
}
