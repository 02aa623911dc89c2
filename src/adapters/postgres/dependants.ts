/**
 * Waking the jobs a finished job lets run (migration 012). A dependant sits in the claim index at its
 * own key from the moment it is enqueued, and so does a group's next job while the group is held: a
 * claim loop whose keyset cursor (claim-cursor.ts) has passed them would take them only at its next
 * scan from the front. So the statements that finish jobs notify their keys on the jobs channel, which
 * every process's claim loops read as a place to start again (jobs-notification.ts):
 *
 * - the waiting dependants of jobs that succeeded or were deleted (a dependency found nowhere counts
 *   as met), found through `job_dependants`, whose rows the insert of a dependant (and a retry that
 *   brings one back from history) writes for each of its unfinished dependencies, and the end of a
 *   dependency (completion, cascade, cancel, delete, a rescue out of attempts) deletes. Where no job
 *   has dependencies the table is empty and a completion reads nothing more than that;
 * - the first waiting job (by id) after each job of a group that finished, retried, snoozed or was
 *   released, was cancelled, deleted or rescued: in `fifo` mode the group's next job (a waiting job
 *   holds its group for the later ones there, so a deleted or cancelled waiting one counts too).
 *
 * Before a group's next job is looked for, `release_group_behind` (migration 013) puts the group's
 * first job set aside after the ended one back in the claim index when nothing holds it back any
 * more (claim.ts, group-holds.ts); that job is then notified.
 *
 * A notified key need not be claimable yet (a dependant waiting for another dependency too, a group
 * still held): its claim just starts there and takes what is. Not notified, so taken by the next full
 * scan: a dependant whose insert commits while its dependency's completion statement runs (that
 * statement's snapshot does not see the new row, and the dependant's own notification came while the
 * dependency still ran). Rows left behind in `job_dependants` (that same case, a job failed by an
 * orphan check, a TRUNCATE of `jobs`, a dependant enqueued by a process of an earlier version) are
 * removed by `DependantsSweep`.
 */
import { notifyJobsSql } from './jobs-notification.js'
import { queryRows, type SqlTarget } from './queryable.js'
import { PENDING_SQL, type SqlNames, toMs, WAITING_SQL } from './sql-names.js'

/**
 * CTE body inserting the edges of the jobs of CTE `inserted` (columns `id`, `state`, `depends_on`)
 * that wait, one per dependency found unfinished in CTE `found` (columns `id`, `live`).
 */
export function insertEdgesSql(names: SqlNames, inserted: string, found: string): string {
  return `INSERT INTO ${names.dependants} (dependency_id, dependant_id)
      SELECT DISTINCT f.id, ins.id
      FROM ${inserted} ins CROSS JOIN LATERAL unnest(ins.depends_on) AS d(id)
      JOIN ${found} f ON f.id = d.id AND f.live
      WHERE ins.state IN ${WAITING_SQL}`
}

/**
 * CTE body writing the edges of the jobs of CTE `restored` (columns `id`, `depends_on`) that a retry
 * moved back from history, for each dependency still unfinished in `jobs` or moved back with them (a
 * failed workflow retried as a whole). Rows already there are kept.
 */
export function restoredEdgesSql(names: SqlNames, restored: string): string {
  return `INSERT INTO ${names.dependants} (dependency_id, dependant_id)
      SELECT DISTINCT d.id, r.id
      FROM ${restored} r CROSS JOIN LATERAL unnest(r.depends_on) AS d(id)
      WHERE r.depends_on IS NOT NULL AND (
        d.id IN (SELECT x.id FROM ${restored} x)
        OR EXISTS (SELECT 1 FROM ${names.jobs} x WHERE x.id = d.id AND x.finished_at IS NULL)
      )
      ON CONFLICT DO NOTHING`
}

/**
 * CTE body deleting the edges of the dependencies whose ids `ids` (a query of one bigint column)
 * selects, returning `dependency_id` and `dependant_id`.
 */
export function deleteEdgesSql(names: SqlNames, ids: string): string {
  return `DELETE FROM ${names.dependants} e WHERE e.dependency_id = ANY(ARRAY(${ids}))
      RETURNING e.dependency_id, e.dependant_id`
}

/** The largest job id (bigint): the end of a group's range in `jobs_group_idx`. */
export const MAX_JOB_ID = '9223372036854775807'

/**
 * A query of the jobs to wake (`queue`, `priority`, `run_at`), due by `now` (SQL timestamptz; null:
 * due or not): the waiting dependants whose ids `dependants` selects (null: none), and for each group
 * of the jobs `groups` selects (a query of `group_key`, nulls allowed, and `id`; null: no groups), its
 * first waiting job by id after them. Each group is one probe of `jobs_group_idx`, fenced so it
 * stays one, and bounded on both sides by row comparisons alone: with `group_key = $g` beside the
 * lower bound, PostgreSQL 15 starts the scan at the front of the group (reading every leaf page of
 * its earlier, possibly dead, entries), and with a scalar `id > $after` the planner may walk the
 * primary key from the ended job instead, reading every later job of the queue until the group's next.
 */
export function wokenJobsSql(
  names: SqlNames,
  dependants: string | null,
  groups: string | null,
  now: string | null,
): string {
  const due = (a: string) => (now === null ? '' : ` AND ${a}.run_at <= ${now}`)
  const parts: string[] = []
  // One probe of the primary key per dependant, fenced: with the state condition in the same scan, a
  // table whose statistics show few live rows is planned as a walk of a state-partial index.
  if (dependants !== null)
    parts.push(`SELECT d.queue, d.priority, d.run_at
      FROM (${dependants}) w(id) CROSS JOIN LATERAL (
        SELECT d.queue, d.priority, d.run_at, d.state FROM ${names.jobs} d WHERE d.id = w.id OFFSET 0
      ) d
      WHERE d.state IN ${WAITING_SQL}${due('d')}`)
  // The probe starts after the group's finished job (in \`fifo\` mode the group's waiting jobs all come
  // after it): the dead entries of the group's earlier jobs, which a held xmin horizon keeps in the
  // index, are not walked. The finished jobs are still \`running\` in the statement's snapshot.
  // Each group first releases its first job set aside, if nothing holds it back now (migration 013):
  // under the group's advisory lock, taken in one order (by the lock's key) so that two statements
  // ending jobs of the same groups never wait for each other.
  if (groups !== null)
    parts.push(`SELECT n.queue, n.priority, n.run_at
      FROM (
        SELECT k.group_key, min(k.id::bigint) AS after_id FROM (${groups}) k(group_key, id)
        WHERE k.group_key IS NOT NULL GROUP BY k.group_key
        ORDER BY hashtext(k.group_key), k.group_key
      ) k
      CROSS JOIN LATERAL (
        SELECT r.queue, r.priority, r.run_at, 'available'::text AS state, false AS group_behind
        FROM ${names.releaseGroupBehind}(${names.groupLockSpace}, k.group_key, k.after_id, true) r
        UNION ALL
        (SELECT n.queue, n.priority, n.run_at, n.state, n.group_behind FROM ${names.jobs} n
        WHERE (n.group_key, n.id) > (k.group_key, k.after_id) AND (n.group_key, n.id) <= (k.group_key, ${MAX_JOB_ID})
          AND n.group_key IS NOT NULL AND n.state IN ${PENDING_SQL} AND n.state <> 'running'
        ORDER BY n.group_key, n.id LIMIT 1 OFFSET 0)
      ) n
      WHERE n.state IN ${WAITING_SQL} AND NOT n.group_behind${due('n')}`)
  if (parts.length === 0) throw new Error('wokenJobsSql needs dependants, groups or both')
  return parts.join('\n      UNION ALL\n      ')
}

/** The notification of CTE `woken` (a `wokenJobsSql` query) on channel `channel`, when it has rows. */
export function notifyWokenSql(channel: string): string {
  return notifyJobsSql(channel, {
    from: 'woken w',
    queue: 'w.queue',
    priority: 'w.priority',
    runAtMs: toMs('w.run_at'),
  })
}

/** The changes to `job_dependants` since its last ANALYZE past which a rescue pass analyzes it. */
export const ANALYZE_AFTER_CHANGES = 1000

/** How many edges one sweep reads. */
export const SWEEP_BATCH = 1000

/** At most this often (process time) a store sweeps (a rate limit only: leftover edges cost space, not correctness). */
export const SWEEP_INTERVAL_MS = 60_000

/**
 * Removes the edges of `job_dependants` whose dependency or dependant is no longer in `jobs`, a batch
 * per call, walking the table in key order from where the last call ended (and from the start again
 * after the end). Each process's rescue pass calls it.
 */
export class DependantsSweep {
  readonly #names: SqlNames
  readonly #elapsed: () => number
  #after: readonly [string, string] = ['0', '0']
  #sweptAt = Number.NEGATIVE_INFINITY

  constructor(names: SqlNames, elapsed: () => number = () => performance.now()) {
    this.#names = names
    this.#elapsed = elapsed
  }

  /**
   * Analyzes the table when it changed a lot since it was last analyzed, then sweeps one batch unless
   * one was swept within `SWEEP_INTERVAL_MS`; returns the edges removed.
   */
  async sweep(target: SqlTarget): Promise<number> {
    await this.#analyzeIfGrown(target)
    const at = this.#elapsed()
    if (at - this.#sweptAt < SWEEP_INTERVAL_MS) return 0
    this.#sweptAt = at
    const names = this.#names
    const [row] = await queryRows<{
      last_dependency: string | null
      last_dependant: string | null
      seen: number
      swept: number
    }>(target, {
      name: `${names.statementPrefix}sweep_dependants`,
      text: `WITH batch AS (
            SELECT e.dependency_id, e.dependant_id FROM ${names.dependants} e
            WHERE (e.dependency_id, e.dependant_id) > ($1::bigint, $2::bigint)
            ORDER BY e.dependency_id, e.dependant_id LIMIT $3::int
            FOR UPDATE SKIP LOCKED
          ), swept AS (
            DELETE FROM ${names.dependants} e USING batch b
            WHERE e.dependency_id = b.dependency_id AND e.dependant_id = b.dependant_id
              AND (NOT EXISTS (SELECT 1 FROM ${names.jobs} j WHERE j.id = b.dependency_id AND j.finished_at IS NULL)
                OR NOT EXISTS (SELECT 1 FROM ${names.jobs} j WHERE j.id = b.dependant_id AND j.finished_at IS NULL))
            RETURNING 1
          ), last AS (
            SELECT b.dependency_id, b.dependant_id FROM batch b ORDER BY 1 DESC, 2 DESC LIMIT 1
          )
          SELECT (SELECT dependency_id::text FROM last) AS last_dependency,
            (SELECT dependant_id::text FROM last) AS last_dependant,
            (SELECT count(*) FROM batch)::int AS seen, (SELECT count(*) FROM swept)::int AS swept`,
      values: [this.#after[0], this.#after[1], SWEEP_BATCH],
    })
    // A full batch goes on after its last row next time; a short one reached the end: from the start.
    this.#after = row && row.seen >= SWEEP_BATCH ? [row.last_dependency!, row.last_dependant!] : ['0', '0']
    return row?.swept ?? 0
  }

  /**
   * The completions' delete of edges is a prepared statement: its plan, made while the table was
   * empty (a read of its no pages), would read every row once the table fills, until the next
   * ANALYZE (autovacuum's, when it runs at all). So each rescue pass looks at the table's changes
   * since its last ANALYZE, and analyzes it (a sample, a few milliseconds) when they exceed both
   * `ANALYZE_AFTER_CHANGES` and the rows the planner counts on: the plans are then made again.
   * Without the privilege (not the table's owner), PostgreSQL skips it with a warning.
   */
  async #analyzeIfGrown(target: SqlTarget): Promise<void> {
    const names = this.#names
    const [row] = await queryRows<{ changed: string | null; rows: number | null }>(target, {
      name: `${names.statementPrefix}dependants_changes`,
      text: `SELECT s.n_mod_since_analyze::text AS changed, c.reltuples AS rows
        FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
        WHERE c.oid = to_regclass($1::text)`,
      values: [names.dependants],
    })
    const changed = Number(row?.changed ?? 0)
    if (changed > ANALYZE_AFTER_CHANGES && changed > (row?.rows ?? 0)) {
      // SKIP_LOCKED: another process's ANALYZE or a VACUUM at work on it does the same or will.
      await queryRows(target, { text: `ANALYZE (SKIP_LOCKED) ${names.dependants}`, values: [] })
    }
  }
}
