/**
 * G and H: can a claim that writes nothing per job reach the issue's drain goal? (issue 19)
 *
 * Every claim of today's adapter writes a new version of each job row it takes (state, attempt,
 * claimer). G claims without that write, as Que's locker does: the claim takes a session advisory
 * lock per job on the claim connection (kept in the server's shared lock table; no tuple, no index
 * entry, no WAL), and writes one narrow row per claim batch (the worker and the ids it holds: what a
 * rescue would need to count a dead worker's attempts, since no job row says it ran). Because a
 * claim's snapshot can predate a completion that committed and was unlocked while the claim scanned,
 * a second statement re-reads the claimed ids with a new snapshot and lets go of those gone. The
 * completion moves the rows to history (attempt counted there) and deletes the batch row; the claim
 * session unlocks a batch's ids in its next claim, after the completion committed.
 *
 * H is G's control: the adapter's own claim with the same plain completion, so that G against H is
 * the claim alone, and H against baseline is the completion's features.
 *
 * Statements only. What G would cost the product is in docs/storage.md ("A claim that writes no job
 * row"): a claim connection held per worker process for as long as it runs jobs, locks lost (and
 * jobs taken by another process) when that connection drops while the handlers still run, and the
 * lock table's size.
 */
import { copyRowsSql, rowWith } from '../../src/adapters/postgres/history-sql.js'
import { insertJobs } from '../../src/adapters/postgres/insert-jobs.js'
import { migrate } from '../../src/adapters/postgres/migrate.js'
import { fromMs, sqlNames, WAITING_SQL } from '../../src/adapters/postgres/sql-names.js'
import { storeStatements } from '../../src/adapters/postgres/statements.js'
import { resolveNewJob } from '../../src/core/domain/enqueue-options.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { adapterClaimer, countStates } from './current-table.js'
import type { Candidate, ClaimedJob, Claimer } from './types.js'

const names = sqlNames('conveyor')
const sql = storeStatements(names)
const noop = defineJob<Record<string, unknown>>({ kind: 'noop' })

/** Per worker: the ids its completions ended, unlocked by its claim session's next claim. */
const toUnlock = new Map<string, string[]>()
/** Per worker: the batch row of each claimed job, deleted with the batch's completion. */
const batchOf = new Map<string, string>()
/**
 * Per worker: the claimed jobs it has not completed yet. The claim skips them by id: a session's
 * advisory locks are re-entrant, so `pg_try_advisory_lock` on a job the same session already holds
 * succeeds, and without the list a claim made while jobs run would take them again.
 */
const held = new Map<string, Set<string>>()
const heldBy = (workerId: string): Set<string> => {
  const set = held.get(workerId) ?? new Set<string>()
  held.set(workerId, set)
  return set
}

const G_CLAIM = `WITH unlocked AS (
    SELECT count(*) FILTER (WHERE pg_advisory_unlock(u)) AS n FROM unnest($3::bigint[]) AS u
  ), locked AS (
    SELECT c.id, c.attempt, c.payload
    FROM (
      SELECT j.id, j.attempt, j.payload FROM ${names.jobs} j
      WHERE j.queue = 'default' AND j.state IN ${WAITING_SQL} AND NOT j.group_behind
        AND j.run_at <= now() AND j.kind = 'noop' AND (SELECT n FROM unlocked) >= 0
        AND j.id <> ALL($4::bigint[])
      ORDER BY j.priority, j.run_at, j.id
      OFFSET 0
    ) c
    WHERE pg_try_advisory_lock(c.id)
    LIMIT $1
  ), batch AS (
    INSERT INTO cand.claim_batches (worker, ids) SELECT $2, array_agg(id) FROM locked HAVING count(*) > 0
    RETURNING batch
  )
  SELECT l.id::text AS id, l.attempt, l.payload, (SELECT batch FROM batch)::text AS batch FROM locked l`

/**
 * The claimed ids still waiting under a new snapshot; the others are let go. `gone` is joined, not
 * a scalar subquery of the select list: that would run only for a row of `present`, and a claim
 * whose every job was gone would keep their locks.
 */
export function recheckSql(jobs: string): string {
  return `WITH present AS (
    SELECT j.id FROM ${jobs} j WHERE j.id = ANY($1::bigint[]) AND j.state IN ${WAITING_SQL}
  ), gone AS (
    SELECT count(*) FILTER (WHERE pg_advisory_unlock(u)) AS n FROM unnest($1::bigint[]) AS u
    WHERE u NOT IN (SELECT id FROM present)
  )
  SELECT p.id::text AS id FROM gone LEFT JOIN present p ON true`
}
const G_RECHECK = recheckSql(names.jobs)

function sessionLockClaimer(workerId: string): Claimer {
  return {
    async claim(db, limit) {
      const unlock = toUnlock.get(workerId) ?? []
      toUnlock.set(workerId, [])
      const { rows } = await db.query<{ id: string; attempt: number; payload: unknown; batch: string }>({
        name: 'cand_g_claim',
        text: G_CLAIM,
        values: [limit, workerId, unlock, [...heldBy(workerId)]],
      })
      if (rows.length === 0) {
        // Nothing held: let go of every lock, so that a pooled connection carries none into the
        // next measurement (whose fresh sequence hands out the same ids again).
        if (heldBy(workerId).size === 0) await db.query('SELECT pg_advisory_unlock_all()')
        return []
      }
      const { rows: present } = await db.query<{ id: string | null }>({
        name: 'cand_g_recheck',
        text: G_RECHECK,
        values: [rows.map((r) => r.id)],
      })
      const kept = new Set(present.flatMap((r) => (r.id === null ? [] : [r.id])))
      const claimed = rows.filter((r) => kept.has(r.id))
      for (const r of claimed) batchOf.set(r.id, r.batch)
      for (const r of claimed) heldBy(workerId).add(r.id)
      return claimed.map((r): ClaimedJob => ({ id: r.id, attempt: r.attempt + 1, payload: r.payload }))
    },
    nextClaim: (limit) => ({ text: G_CLAIM, values: [limit, workerId, [], [...heldBy(workerId)]] }),
  }
}

/**
 * Moves succeeded jobs to history in one statement (I: deletes them, keeping no history);
 * `running` is H's guard (G's and I's rows never change before their completion).
 */
function completionSql(running: boolean, history: boolean): string {
  const replaced = running
    ? { state: `'succeeded'`, finished_at: fromMs('$3') }
    : {
        state: `'succeeded'`,
        attempt: 'j.attempt + 1',
        attempted_at: fromMs('$3'),
        attempted_by: '$2',
        finished_at: fromMs('$3'),
      }
  const guard = running ? `AND j.state = 'running' AND j.attempted_by = $2` : `AND j.state IN ${WAITING_SQL}`
  return `WITH moved AS (
      DELETE FROM ${names.jobs} j WHERE j.id = ANY($1::bigint[]) ${guard}
      RETURNING ${rowWith('j', replaced)}
    ), archived AS (
      ${history ? `${copyRowsSql(names.history, 'moved')} RETURNING 1` : 'SELECT 1 FROM moved'}
    ), batches AS (
      DELETE FROM cand.claim_batches b WHERE b.batch = ANY($4::bigint[])
    )
    SELECT count(*)::int AS n FROM archived`
}

function onTodaysTableWith(
  id: 'G' | 'H' | 'I',
  title: string,
  openClaimer: (workerId: string) => Claimer,
): Candidate {
  const history = id !== 'I'
  const completion = completionSql(id === 'H', history)
  let deleted = 0
  return {
    id,
    title,
    channel: names.jobsChannel,
    async install(pool) {
      deleted = 0
      await migrate(pool, names)
      await pool.query(`CREATE SCHEMA cand`)
      await pool.query(`CREATE TABLE cand.claim_batches (
        batch bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        worker text NOT NULL,
        ids bigint[] NOT NULL,
        claimed_at timestamptz NOT NULL DEFAULT now()
      )`)
    },
    async insert(db, payloads) {
      const now = Date.now()
      const jobs = payloads.map((p) => resolveNewJob(noop, JSON.parse(p), {}, now))
      await insertJobs(db, names, sql.insert, jobs, now)
    },
    openClaimer,
    async complete(db, workerId, jobs) {
      const ids = jobs.map((j) => j.id)
      const batches = [...new Set(ids.map((i) => batchOf.get(i)).filter((b) => b !== undefined))]
      const { rows } = await db.query<{ n: number }>({
        name: `cand_${id}_complete`,
        text: completion,
        values: [ids, workerId, Date.now(), batches],
      })
      for (const i of ids) batchOf.delete(i)
      for (const i of ids) heldBy(workerId).delete(i)
      toUnlock.get(workerId)?.push(...ids)
      if (!history) deleted += rows[0]!.n
      return rows[0]!.n
    },
    async counts(db) {
      const counts = await countStates(db)
      // I keeps no history: the jobs it deleted are the finished ones (reset with the tables).
      return history ? counts : { unfinished: counts.unfinished, finished: counts.finished + deleted }
    },
  }
}

/** G: no job-row write at claim time. */
export const sessionLockClaim: Candidate = onTodaysTableWith(
  'G',
  "today's table, claim takes session advisory locks and writes no job row (one row per batch), plain move to history",
  sessionLockClaimer,
)

/** I: G with a completion that deletes the rows (no history, as graphile-worker completes). */
export const sessionLockClaimNoHistory: Candidate = onTodaysTableWith(
  'I',
  "G's claim, completion deletes the job rows (no history kept)",
  sessionLockClaimer,
)

/** H: the adapter's claim, G's plain completion. */
export const adapterClaimPlainCompletion: Candidate = onTodaysTableWith(
  'H',
  "today's table, the adapter's claim, G's plain move to history",
  adapterClaimer,
)
