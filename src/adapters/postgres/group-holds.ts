/**
 * The rescue pass's release of jobs set aside behind their group (migration 013): a `fifo` job that
 * a claim found held back by an earlier job of its group leaves the claim index (`group_behind`), and
 * the statements that end or move a job of the group release the group's next one (dependants.ts).
 * This sweep releases the rest: a job set aside whose group nothing holds back any more because
 *
 * - a process of the previous version ended the job before it (its statements release nothing), or
 *   claimed a job set aside and then retried it;
 * - the job before it runs with a group lock timeout, which holds the group only until it runs out
 *   (no statement marks that moment), so the job set aside is released by the first pass after the
 *   job before it started and then waits for the timeout in the claim index, like any held job;
 * - a release found the job's row locked (an admin change in a transaction), and skipped it.
 *
 * Each call looks at up to `GROUP_SWEEP_BATCH` groups with jobs set aside, in key order from where
 * the last call ended (one probe of `jobs_group_behind_idx` per group), and releases each group's
 * first job set aside when nothing holds it back, announcing the due ones on the jobs channel. A
 * group whose advisory lock is taken (a claim or a release at work on it) is left for the next pass.
 */
import { notifyWokenSql } from './dependants.js'
import { queryRows, type SqlTarget } from './queryable.js'
import { fromMs, nowMs, type SqlNames } from './sql-names.js'

/** How many groups with jobs set aside one sweep looks at. */
export const GROUP_SWEEP_BATCH = 1000

/** The sweep's statement. Parameters: $1 the group key after which to start (null: the first), $2 the batch, $3 now ms, $4 the jobs channel. */
function sweepSql(names: SqlNames): string {
  const next = (after: string) =>
    `SELECT b.group_key FROM ${names.jobs} b WHERE b.group_behind AND b.group_key > ${after} ORDER BY b.group_key LIMIT 1`
  return `WITH RECURSIVE keys(group_key) AS (
      (SELECT b.group_key FROM ${names.jobs} b
        WHERE b.group_behind AND ($1::text IS NULL OR b.group_key > $1::text) ORDER BY b.group_key LIMIT 1)
      UNION ALL
      SELECT (${next('k.group_key')}) FROM keys k WHERE k.group_key IS NOT NULL
    ), batch AS (
      SELECT k.group_key FROM keys k WHERE k.group_key IS NOT NULL LIMIT $2::int
    ), released AS (
      SELECT r.queue, r.priority, r.run_at
      FROM batch b CROSS JOIN LATERAL ${names.releaseGroupBehind}(${names.groupLockSpace}::int, b.group_key::text, 0::bigint, false) r
    ), woken AS (
      SELECT r.queue, r.priority, r.run_at FROM released r WHERE r.run_at <= ${fromMs(nowMs('$3'))}
    ), notified AS (
      ${notifyWokenSql('$4')}
    )
    SELECT (SELECT max(b.group_key) FROM batch b) AS last, (SELECT count(*) FROM batch)::int AS seen,
      (SELECT count(*) FROM released)::int AS released, (SELECT count(*) FROM notified)::int AS notified`
}

/** Releases jobs set aside that nothing holds back, a batch of groups per call (see the module comment). */
export class GroupHoldsSweep {
  readonly #names: SqlNames
  readonly #sql: string
  #after: string | null = null

  constructor(names: SqlNames) {
    this.#names = names
    this.#sql = sweepSql(names)
  }

  /** Looks at the next batch of groups with jobs set aside; returns how many jobs it released. */
  async sweep(target: SqlTarget, now: number | undefined): Promise<number> {
    const [row] = await queryRows<{ last: string | null; seen: number; released: number }>(target, {
      name: `${this.#names.statementPrefix}sweep_group_holds`,
      text: this.#sql,
      values: [this.#after, GROUP_SWEEP_BATCH, now ?? null, this.#names.jobsChannel],
    })
    // A full batch goes on after its last group next time; a short one reached the end: from the start.
    this.#after = row && row.seen >= GROUP_SWEEP_BATCH ? row.last : null
    return row?.released ?? 0
  }
}
