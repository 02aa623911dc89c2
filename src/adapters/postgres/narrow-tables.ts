/**
 * The narrow tables of migration 011: `job_ready` (one row per waiting job a claim may take: its scan
 * key) and `job_running` (one row per running job: attempt, start, worker, group), written beside the
 * job row by every statement that moves a job in or out of those states, in the same statement.
 *
 * Lock order, kept by every statement so that none can deadlock with a claim: a ready row before its
 * job row (a claim locks the ready row, then updates the job row; an admin statement deletes the ready
 * rows of the jobs it will change before it locks them: `unreadySql`), and a job row before its
 * running row (completions, the rescue and cancels lock the job row, then delete the running row).
 *
 * The job row stays the truth: a claim takes a job only if its row still waits, the rescue only if it
 * still runs the attempt its running row names. `repairNarrowTablesSql` puts the tables right where a
 * process of an earlier version (which writes job rows only) left them wrong.
 */
import { queryRows, type SqlTarget } from './queryable.js'
import type { SqlNames } from './sql-names.js'
import { fromMs, nowMs, WAITING_SQL } from './sql-names.js'

/**
 * A data-modifying CTE body that gives each job of CTE `source` (rows of `jobs` just set running) its
 * running row. With `replaceStale` (the claim), a running row the job still has is replaced: the
 * statement holds the job row, which was waiting, so that row is stale (a process of an earlier
 * version retried the job and left it; the repair pass may give the job its ready row before it
 * removes the running row, and an admin retry does), and a plain insert would fail the whole claim.
 */
export function startRunningSql(names: SqlNames, source: string, replaceStale = false): string {
  return `INSERT INTO ${names.running} (id, attempt, attempted_at, attempted_by, timeout_ms, group_key, group_lock_timeout_ms)
      SELECT s.id, s.attempt, s.attempted_at, s.attempted_by, s.timeout_ms, s.group_key, s.group_lock_timeout_ms FROM ${source} s${
        replaceStale
          ? `
      ON CONFLICT (id) DO UPDATE SET attempt = excluded.attempt, attempted_at = excluded.attempted_at,
        attempted_by = excluded.attempted_by, timeout_ms = excluded.timeout_ms, group_key = excluded.group_key,
        group_lock_timeout_ms = excluded.group_lock_timeout_ms`
          : ''
      }`
}

/**
 * A data-modifying CTE body that deletes the running rows of the jobs of CTE `source` (column `id`),
 * whose job rows the statement has locked (a job row's lock comes before its running row's).
 */
export function stopRunningSql(names: SqlNames, source: string): string {
  return `DELETE FROM ${names.running} r WHERE r.id = ANY(ARRAY(SELECT x.id FROM ${source} x))`
}

/**
 * The claim's CTE body that gives back the ready rows it deleted (CTE `dequeued`, column `id`) of jobs
 * it did not start (CTE `claimed`): a ready row that disagreed with its job row (left by a process of
 * an earlier version: a job that no longer waits, or waits for a later run time) is replaced by one
 * made from the job row, if it still waits. Usually both CTEs hold the same ids and this reads nothing.
 */
export function putBackSql(names: SqlNames): string {
  return `INSERT INTO ${names.ready} (id, queue, priority, run_at, kind, weight, gated)
      SELECT j.id, j.queue, j.priority, j.run_at, j.kind, j.weight, ${GATED_SQL('j')} FROM ${names.jobs} j
      WHERE (SELECT count(*) FROM claimed) < (SELECT count(*) FROM dequeued)
        AND j.id = ANY(ARRAY(SELECT d.id FROM dequeued d WHERE d.id NOT IN (SELECT c.id FROM claimed c)))
        AND j.state IN ${WAITING_SQL}
      ON CONFLICT (id) DO NOTHING`
}

/** SQL of a ready row's `gated` for job row (or source row) `a`: it has a group or dependencies. */
export const GATED_SQL = (a: string): string => `(${a}.group_key IS NOT NULL OR ${a}.depends_on IS NOT NULL)`

/**
 * A data-modifying CTE body that gives the jobs of CTE `source` (job rows just made waiting: columns
 * `id`, `state`, `queue`, `priority`, `run_at` as timestamptz, `kind`, `weight`, `group_key`, `depends_on`) their ready rows;
 * a paused job gets none. With `upsert`, a job that already has one keeps it, updated to the job's
 * new values; without, the statement knows there is none (new jobs) and skips the conflict check.
 */
export function readyRowsSql(names: SqlNames, source: string, upsert = true): string {
  return `INSERT INTO ${names.ready} AS r (id, queue, priority, run_at, kind, weight, gated)
      SELECT s.id, s.queue, s.priority, s.run_at, s.kind, s.weight, ${GATED_SQL('s')} FROM ${source} s WHERE s.state IN ${WAITING_SQL}${
        upsert
          ? `
      ON CONFLICT (id) DO UPDATE SET queue = excluded.queue, priority = excluded.priority, run_at = excluded.run_at,
        kind = excluded.kind, weight = excluded.weight, gated = excluded.gated`
          : ''
      }`
}

/**
 * CTE `unready`: deletes the ready rows of the jobs of `jobs j` matching `where` in states `states`,
 * returning their ids. An admin statement runs it before it locks any job row (see `afterUnready`):
 * a claim locks a ready row before its job row, so taking them in the other order could deadlock.
 * A claim holding one of these ready rows is waited for; its job is then running, and the statement's
 * own checks on the locked job row see it so.
 */
export function unreadySql(names: SqlNames, where: string, states: string): string {
  return `unready AS (
        DELETE FROM ${names.ready} r WHERE r.id = ANY(ARRAY(
          SELECT j.id FROM ${names.jobs} j WHERE ${where} AND j.state IN ${states}
        ))
        RETURNING r.id
      )`
}

/**
 * A condition that holds once CTE `unready` has run to the end: an uncorrelated subquery, so it is
 * evaluated once, before the scan that carries it returns (and locks) its first row.
 */
export const afterUnready = '(SELECT count(*) FROM unready) >= 0'

/**
 * The repair statement: puts the narrow tables right for up to `$1` jobs of each kind of mistake, and
 * returns how many rows it added and removed. Parameters: $1 limit.
 * - a waiting job without its ready row (inserted, retried, resumed or rescued by a process of an
 *   earlier version) gets one; a running job without its running row (claimed by one) gets one. Its
 *   job row is locked first (SKIP LOCKED: a statement changing it now writes its narrow rows itself)
 *   and checked again on the locked version;
 * - a ready row whose job no longer waits, and a running row whose job no longer runs, go. Each is
 *   locked by its tuple (SKIP LOCKED), so a row written since for the same id is never touched; the
 *   removals run first, so a ready row with outdated values is replaced in the same pass.
 * Finding the missing rows reads every job row (no index says which job lacks them), which is why
 * the store runs this only while a process of an earlier version is live, and once when it starts.
 */
export function repairNarrowTablesSql(names: SqlNames): string {
  const matchesJob = (r: string, j: string) =>
    `${r}.queue = ${j}.queue AND ${r}.priority = ${j}.priority AND ${r}.run_at = ${j}.run_at AND ${r}.kind = ${j}.kind AND ${r}.weight = ${j}.weight AND ${r}.gated = ${GATED_SQL(j)}`
  return `WITH stale_ready AS (
      DELETE FROM ${names.ready} r WHERE r.ctid = ANY(ARRAY(
        SELECT s.ctid FROM ${names.ready} s
        WHERE NOT EXISTS (SELECT 1 FROM ${names.jobs} j WHERE j.id = s.id AND j.state IN ${WAITING_SQL} AND ${matchesJob('s', 'j')})
        LIMIT $1::int FOR UPDATE OF s SKIP LOCKED
      ))
      RETURNING r.id
    ), stale_running AS (
      DELETE FROM ${names.running} r WHERE r.ctid = ANY(ARRAY(
        SELECT s.ctid FROM ${names.running} s
        WHERE NOT EXISTS (SELECT 1 FROM ${names.jobs} j WHERE j.id = s.id AND j.state = 'running' AND j.attempt = s.attempt)
        LIMIT $1::int FOR UPDATE OF s SKIP LOCKED
      ))
      RETURNING r.id
    ), missing_ready AS (
      INSERT INTO ${names.ready} (id, queue, priority, run_at, kind, weight, gated)
      SELECT j.id, j.queue, j.priority, j.run_at, j.kind, j.weight, ${GATED_SQL('j')} FROM ${names.jobs} j
      WHERE j.state IN ${WAITING_SQL}
        AND NOT EXISTS (SELECT 1 FROM ${names.ready} r WHERE r.id = j.id AND ${matchesJob('r', 'j')})
        AND (SELECT count(*) FROM stale_ready) >= 0
      LIMIT $1::int
      FOR UPDATE OF j SKIP LOCKED
      ON CONFLICT (id) DO NOTHING
      RETURNING id
    ), missing_running AS (
      ${startRunningSql(
        names,
        `(SELECT j.* FROM ${names.jobs} j
        WHERE j.state = 'running' AND j.attempted_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM ${names.running} r WHERE r.id = j.id AND r.attempt = j.attempt)
          AND (SELECT count(*) FROM stale_running) >= 0
        LIMIT $1::int
        FOR UPDATE OF j SKIP LOCKED)`,
      )}
      ON CONFLICT (id) DO NOTHING
      RETURNING id
    )
    SELECT (SELECT count(*) FROM missing_ready)::int + (SELECT count(*) FROM missing_running)::int AS added,
      (SELECT count(*) FROM stale_ready)::int + (SELECT count(*) FROM stale_running)::int AS removed`
}

/**
 * Whether a process of an earlier storage version (no narrow rows) is live: $1 now ms (null: the
 * database's), $2 live-within ms, $3 this version.
 */
export function legacyProcessLiveSql(names: SqlNames): string {
  return `SELECT EXISTS (
      SELECT 1 FROM ${names.processes} p
      WHERE p.storage_version IS DISTINCT FROM $3::int
        AND p.last_heartbeat_at >= ${fromMs(`${nowMs('$1')} - $2::float8`)}
    ) AS live`
}

/** What one repair pass changed. */
export interface NarrowTableRepair {
  readonly added: number
  readonly removed: number
}

/**
 * When a store repairs the narrow tables, from its rescue passes: at its first pass (a database just
 * migrated while processes of the earlier version ran), at every pass while such a process is live,
 * and at the pass after the last one went; each of the first and the last is repeated at the next
 * pass until one goes through and finds nothing to put right (a pass does at most `limit` of each kind).
 */
export class NarrowTableUpkeep {
  readonly #names: SqlNames
  readonly #version: number
  #due = true
  /** The last pass's changes (for tests and diagnostics), null before the first. */
  last: NarrowTableRepair | null = null

  constructor(names: SqlNames, version: number) {
    this.#names = names
    this.#version = version
  }

  async afterRescue(
    target: SqlTarget,
    params: { readonly now?: number; readonly staleAfterMs: number; readonly limit: number },
  ): Promise<void> {
    const [legacy] = await queryRows<{ live: boolean }>(target, {
      name: `${this.#names.statementPrefix}legacy_process_live`,
      text: legacyProcessLiveSql(this.#names),
      values: [params.now ?? null, params.staleAfterMs, this.#version],
    })
    const live = legacy?.live === true
    if (!this.#due && !live) return
    const [row] = await queryRows<NarrowTableRepair>(target, {
      name: `${this.#names.statementPrefix}repair_narrow_tables`,
      text: repairNarrowTablesSql(this.#names),
      values: [Math.max(1, Math.floor(params.limit))],
    })
    this.last = row ?? { added: 0, removed: 0 }
    // Due again at the next rescue until a pass has gone through and found nothing left to put right:
    // a pass that failed, or that stopped at its limit, after the last earlier-version process went
    // would otherwise leave jobs without ready rows for good.
    this.#due = live || this.last.added + this.last.removed > 0
  }
}

/**
 * The tidy statement: removes the ready and running rows of jobs `$1` that no longer wait or run
 * (each by its tuple, SKIP LOCKED: a locked one belongs to a claim or completion that removes it).
 * Run by an admin statement that took jobs out of waiting or running, right after it and with a new
 * snapshot: its own statement cannot see a ready or running row that a claim or completion committed
 * while it waited for the job row's lock (it then acted on that job's new version, and the row a
 * claim or a retry added meanwhile would be left behind).
 */
export function tidyNarrowRowsSql(names: SqlNames): string {
  return `WITH stale_ready AS (
      DELETE FROM ${names.ready} r WHERE r.ctid = ANY(ARRAY(
        SELECT s.ctid FROM ${names.ready} s
        WHERE s.id = ANY($1::bigint[])
          AND NOT EXISTS (SELECT 1 FROM ${names.jobs} j WHERE j.id = s.id AND j.state IN ${WAITING_SQL})
        FOR UPDATE OF s SKIP LOCKED
      ))
      RETURNING 1
    ), stale_running AS (
      DELETE FROM ${names.running} r WHERE r.ctid = ANY(ARRAY(
        SELECT s.ctid FROM ${names.running} s
        WHERE s.id = ANY($1::bigint[])
          AND NOT EXISTS (SELECT 1 FROM ${names.jobs} j WHERE j.id = s.id AND j.state = 'running')
        FOR UPDATE OF s SKIP LOCKED
      ))
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM stale_ready)::int + (SELECT count(*) FROM stale_running)::int AS removed`
}

/** Runs the tidy statement for `ids` (nothing when there are none). */
export async function tidyNarrowRows(
  target: SqlTarget,
  names: SqlNames,
  ids: readonly string[],
): Promise<void> {
  if (ids.length === 0) return
  await queryRows(target, {
    name: `${names.statementPrefix}tidy_narrow_rows`,
    text: tidyNarrowRowsSql(names),
    values: [`{${ids.join(',')}}`],
  })
}
