/**
 * The rescue pass's release of jobs set aside behind their group (migrations 013 to 016): a job that
 * a claim found held back by its group leaves the claim index (`group_behind`), and
 * the statements that end or move a job of the group release the group's next one (dependants.ts).
 * This sweep releases the rest: a job set aside whose group nothing holds back any more because
 *
 * - a process of the previous version ended the job before it (its statements release nothing), or
 *   claimed a job set aside and then retried it;
 * - the job before it runs with a group lock timeout, which holds the group only until it runs out
 *   (no statement marks that moment), so the job set aside is released by the first pass after the
 *   job before it started and then waits for the timeout in the claim index, like any held job;
 * - a release found the job's row locked (an admin change in a transaction), and skipped it;
 * - a job ran in its own transaction at a stricter isolation level than READ COMMITTED, whose
 *   completion releases nothing (migration 014).
 *
 * Each pass walks, per mode, every group with jobs set aside, in key order, in batches of
 * `GROUP_SWEEP_BATCH` groups, at most `GROUP_SWEEP_BATCHES` batches (past that, the next pass goes on
 * from there). For each group it checks whether anything holds its next job back, with no lock (for
 * `fifo`, one probe of `jobs_group_behind_fifo_idx` for the first job set aside and the checks of
 * `group_job_waits`; for `release`, whether a job of the group runs); only a group whose next job
 * nothing holds back is locked (tried: a group whose lock is taken is left for the next pass) and
 * checked again before its job is released and, when due, announced on the jobs channel. So a pass
 * holds the locks of the groups it releases only, and a group held back legitimately costs it three
 * index probes. Each batch is its own READ COMMITTED transaction (the release's checks need it, and a
 * stricter default would make them read a stale snapshot).
 */
import { MAX_JOB_ID, notifyWokenSql } from './dependants.js'
import { inReadCommitted, queryRows, type SqlTarget } from './queryable.js'
import { fromMs, nowMs, type SqlNames } from './sql-names.js'

/** How many groups with jobs set aside one statement looks at. */
export const GROUP_SWEEP_BATCH = 1000

/** How many batches one pass runs at most (10,000 groups with jobs set aside). */
export const GROUP_SWEEP_BATCHES = 10

type Mode = 'fifo' | 'release'

/**
 * The sweep's statement for the jobs set aside in `mode`. Parameters: $1 the group key after which
 * to start (null: the first), $2 the batch, $3 now ms, $4 the jobs channel.
 */
function sweepSql(names: SqlNames, mode: Mode): string {
  const marked = (a: string) => `${a}.group_behind AND ${a}.group_mode = '${mode}'`
  const next = (after: string) =>
    `SELECT b.group_key FROM ${names.jobs} b WHERE ${marked('b')} AND b.group_key > ${after} ORDER BY b.group_key LIMIT 1`
  // A `fifo` group is free when its first job set aside (by id) waits for nothing; a `release` group
  // when no job of it runs without a lock timeout.
  const free =
    mode === 'fifo'
      ? `SELECT b.group_key FROM batch b CROSS JOIN LATERAL (
          SELECT f.id FROM ${names.jobs} f
          WHERE ${marked('f')} AND (f.group_key, f.id) > (b.group_key, 0::bigint)
            AND (f.group_key, f.id) <= (b.group_key, ${MAX_JOB_ID}::bigint)
          ORDER BY f.group_key, f.id LIMIT 1 OFFSET 0
        ) f
        WHERE NOT ${names.groupJobWaits}(b.group_key, f.id)`
      : `SELECT b.group_key FROM batch b WHERE NOT ${names.groupReleaseJobWaits}(b.group_key, 0::bigint)`
  return `WITH RECURSIVE keys(group_key) AS (
      (SELECT b.group_key FROM ${names.jobs} b
        WHERE ${marked('b')} AND ($1::text IS NULL OR b.group_key > $1::text) ORDER BY b.group_key LIMIT 1)
      UNION ALL
      SELECT (${next('k.group_key')}) FROM keys k WHERE k.group_key IS NOT NULL
    ), batch AS (
      SELECT k.group_key FROM keys k WHERE k.group_key IS NOT NULL LIMIT $2::int
    ), free AS (
      ${free}
    ), released AS (
      SELECT r.queue, r.priority, r.run_at
      FROM free b CROSS JOIN LATERAL ${names.releaseGroupBehind}(${names.groupLockSpace}::int, b.group_key::text, 0::bigint, false) r
    ), woken AS (
      SELECT r.queue, r.priority, r.run_at FROM released r WHERE r.run_at <= ${fromMs(nowMs('$3'))}
    ), notified AS (
      ${notifyWokenSql('$4')}
    )
    SELECT (SELECT max(b.group_key) FROM batch b) AS last, (SELECT count(*) FROM batch)::int AS seen,
      (SELECT count(*) FROM released)::int AS released, (SELECT count(*) FROM notified)::int AS notified`
}

/** Releases jobs set aside that nothing holds back (see the module comment). */
export class GroupHoldsSweep {
  readonly #names: SqlNames
  readonly #sql: Record<Mode, string>
  readonly #after: Record<Mode, string | null> = { fifo: null, release: null }

  constructor(names: SqlNames) {
    this.#names = names
    this.#sql = { fifo: sweepSql(names, 'fifo'), release: sweepSql(names, 'release') }
  }

  /**
   * One pass: for each mode, up to `GROUP_SWEEP_BATCHES` batches of groups with jobs set aside;
   * returns the jobs released.
   */
  async sweep(target: SqlTarget, now: number | undefined): Promise<number> {
    let released = 0
    for (const mode of ['fifo', 'release'] as const) {
      for (let batch = 0; batch < GROUP_SWEEP_BATCHES; batch++) {
        const row = await inReadCommitted(target, (db) =>
          queryRows<{ last: string | null; seen: number; released: number }>(db, {
            name: `${this.#names.statementPrefix}sweep_group_holds_${mode}`,
            text: this.#sql[mode],
            values: [this.#after[mode], GROUP_SWEEP_BATCH, now ?? null, this.#names.jobsChannel],
          }).then((rows) => rows[0]),
        )
        released += row?.released ?? 0
        // A full batch goes on after its last group; a short one reached the end: from the start next pass.
        this.#after[mode] = row && row.seen >= GROUP_SWEEP_BATCH ? row.last : null
        if (this.#after[mode] === null) break
      }
    }
    return released
  }
}
