/**
 * An experiment, not a design: Conveyor's own runtime (worker, prefetch, executor, completion
 * batching) on candidate G's claim (`bench/candidates/session-lock.ts`), to see whether the W3 drain
 * follows G's statements. The queue's store keeps every other statement; its `claimJobs` and
 * `completeJobs` are replaced on the instance:
 * - a claim reads due jobs in claim order on one dedicated connection (the locker) and takes a
 *   session advisory lock per job, skipping the jobs it already holds (its locks are re-entrant);
 *   one row per claim batch in `bench_claim_batches`; a second statement re-reads the claimed jobs
 *   with a new snapshot and lets go of those gone; the job rows are not written;
 * - a success moves the row to history (attempt counted there) and deletes the batch rows of its
 *   jobs, even while other jobs of those batches still run (the experiment keeps no crash accounting:
 *   the rows are there for their cost); a `released` job (shutdown) is only unlocked; the locks of
 *   ended jobs are released by the next claim on their connection, after the completion committed.
 * Only what W3 needs: one queue, the `priority` strategy, weights of 1, no groups or dependencies,
 * successes. Anything else throws, so that a run outside that shape fails instead of measuring
 * something else. Not safe for production (see docs/storage.md, "A claim that writes no job row").
 */
import pg from 'pg'
import { CLAIM_SESSION_SETTINGS } from '../../src/adapters/postgres/claim-pool.js'
import { copyRowsSql, rowWith } from '../../src/adapters/postgres/history-sql.js'
import type { PostgresQueue } from '../../src/adapters/postgres/index.js'
import { type JobRow, jobColumns, toJobRecord } from '../../src/adapters/postgres/row-mapping.js'
import { fromMs, nowMs, sqlNames, WAITING_SQL } from '../../src/adapters/postgres/sql-names.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import type { Completion } from '../../src/core/ports/store-params.js'
import { recheckSql } from '../candidates/session-lock.js'

/** Claim connections: claims alternate between them (the adapter runs claims on a pool too). */
const LOCKERS = Number(process.env.BENCH_SESSION_LOCKERS ?? 2)

/** A claim connection: the advisory locks it holds, and those to release at its next claim. */
interface Locker {
  readonly client: pg.Client
  last: Promise<unknown>
  toUnlock: string[]
  readonly held: Set<string>
}

/** Replaces the claim and completion of `queue` (on `schema`) with G's; returns the locker's close. */
export async function useSessionLockClaims(
  queue: PostgresQueue,
  connectionString: string,
  schema: string,
): Promise<() => Promise<void>> {
  const names = sqlNames(schema)
  const batches = `${names.quotedSchema}.bench_claim_batches`
  await queue.store.pool.query(`CREATE TABLE IF NOT EXISTS ${batches} (
    batch bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker text NOT NULL,
    ids bigint[] NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now()
  )`)
  const lockers: Locker[] = []
  for (let k = 0; k < LOCKERS; k++) {
    const client = new pg.Client({ connectionString, options: `-c jit=off ${CLAIM_SESSION_SETTINGS}` })
    client.on('error', () => {})
    await client.connect()
    lockers.push({ client, last: Promise.resolve(), toUnlock: [], held: new Set() })
  }
  let turn = 0
  const now = nowMs('$7')
  const claimSql = `WITH unlocked AS (
      SELECT count(*) FILTER (WHERE pg_advisory_unlock(u)) AS n FROM unnest($3::bigint[]) AS u
    ), locked AS (
      SELECT c.* FROM (
        SELECT ${jobColumns('j')}, j.run_at::text AS run_at_key FROM ${names.jobs} j
        WHERE j.queue = $5 AND j.state IN ${WAITING_SQL} AND NOT j.group_behind
          AND j.run_at <= ${fromMs(now)} AND j.kind = ANY($6::text[]) AND (SELECT n FROM unlocked) >= 0
          AND j.group_key IS NULL AND j.depends_on IS NULL AND j.id NOT IN (SELECT unnest($4::bigint[]))
          AND ($8::int IS NULL OR (j.priority, j.run_at, j.id) > ($8::int, $9::timestamptz, $10::bigint))
        ORDER BY j.priority, j.run_at, j.id
        OFFSET 0
      ) c
      WHERE pg_try_advisory_lock(c.id::bigint)
      LIMIT $1
    ), batch AS (
      INSERT INTO ${batches} (worker, ids) SELECT $2, array_agg(id::bigint) FROM locked HAVING count(*) > 0
      RETURNING batch
    )
    SELECT l.*, (SELECT batch FROM batch)::text AS batch, ${now} AS claimed_at FROM locked l`
  const recheck = recheckSql(names.jobs)
  const unlockSql = 'SELECT count(*) FILTER (WHERE pg_advisory_unlock(u)) AS n FROM unnest($1::bigint[]) AS u'
  const completeSql = `WITH moved AS (
      DELETE FROM ${names.jobs} j WHERE j.id = ANY($1::bigint[]) AND j.state IN ${WAITING_SQL}
      RETURNING ${rowWith('j', {
        state: `'succeeded'`,
        attempt: 'j.attempt + 1',
        runs: 'j.runs + 1',
        attempted_at: fromMs(nowMs('$3')),
        attempted_by: '$2',
        finished_at: fromMs(nowMs('$3')),
      })}
    ), archived AS (
      ${copyRowsSql(names.history, 'moved')} RETURNING id
    ), ended AS (
      DELETE FROM ${batches} b WHERE b.batch = ANY($4::bigint[])
    )
    SELECT id::text AS id FROM archived`

  const held = new Map<string, { batch: string; workerId: string; locker: Locker }>()
  /**
   * Where the next claim resumes: after the last job the previous one took (jobs held stay in the
   * claim index, their rows unchanged, so a claim from the front walks them all); from the front
   * again after a claim that came back short. The experiment's only way to meet jobs behind it.
   */
  let cursor: { priority: number; runAt: string; id: string } | null = null
  // One claim at a time per locker: pg queues statements, this keeps each claim's two together.
  const onLocker = <T>(locker: Locker, work: () => Promise<T>): Promise<T> => {
    const next = locker.last.then(work, work)
    locker.last = next.catch(() => {})
    return next
  }

  const store = queue.store
  store.claimJobs = (params) => {
    const locker = lockers[turn++ % lockers.length]!
    return onLocker(locker, async (): Promise<JobRecord[]> => {
      if (params.queues.length !== 1 || params.strategy !== 'priority' || params.maxId !== undefined)
        throw new Error('the session-lock experiment claims from one queue, priority strategy, no maxId')
      const unlock = locker.toUnlock
      locker.toUnlock = []
      const { rows } = await locker.client.query<
        JobRow & { batch: string; claimed_at: number; run_at_key: string }
      >({
        name: 'bench_g_claim',
        text: claimSql,
        values: [
          Math.floor(params.capacity),
          params.workerId,
          unlock,
          [...locker.held],
          params.queues[0],
          params.kinds,
          params.dueBy ?? params.now ?? null,
          cursor?.priority ?? null,
          cursor?.runAt ?? null,
          cursor?.id ?? null,
        ],
      })
      const lastRow = rows.at(-1)
      cursor =
        rows.length < Math.floor(params.capacity) || lastRow === undefined
          ? null
          : { priority: lastRow.priority, runAt: lastRow.run_at_key, id: lastRow.id }
      if (rows.length === 0) return []
      const { rows: present } = await locker.client.query<{ id: string | null }>({
        name: 'bench_g_recheck',
        text: recheck,
        values: [rows.map((r) => r.id)],
      })
      const kept = new Set(present.flatMap((r) => (r.id === null ? [] : [r.id])))
      return rows
        .filter((r) => kept.has(r.id))
        .map((row) => {
          if (Number(row.weight) !== 1)
            throw new Error('the session-lock experiment takes jobs of weight 1 only')
          held.set(row.id, { batch: row.batch, workerId: params.workerId, locker })
          locker.held.add(row.id)
          const job = toJobRecord(row)
          return {
            ...job,
            state: 'running' as const,
            attempt: job.attempt + 1,
            runs: job.runs + 1,
            attemptedAt: Math.round(row.claimed_at),
            attemptedBy: params.workerId,
          }
        })
    })
  }

  store.completeJobs = async ({ completions, now: at }) => {
    const released = completions.filter((c) => c.outcome === 'released').map((c) => c.id)
    const succeeded = completions.filter(
      (c): c is Completion & { outcome: 'succeeded' } => c.outcome === 'succeeded',
    )
    const other = completions.find((c) => c.outcome !== 'released' && c.outcome !== 'succeeded')
    if (other !== undefined)
      throw new Error(`the session-lock experiment writes successes only; got ${other.outcome}`)
    const skipped: string[] = []
    if (succeeded.length > 0) {
      const first = held.get(succeeded[0]!.id)
      const { rows } = await store.pool.query<{ id: string }>({
        name: 'bench_g_complete',
        text: completeSql,
        values: [
          succeeded.map((c) => c.id),
          first?.workerId ?? null,
          at ?? null,
          [...new Set(succeeded.map((c) => held.get(c.id)?.batch).filter((b) => b !== undefined))],
        ],
      })
      const written = new Set(rows.map((r) => r.id))
      for (const c of succeeded) if (!written.has(c.id)) skipped.push(c.id)
    }
    for (const c of succeeded) {
      const locker = held.get(c.id)?.locker
      locker?.held.delete(c.id)
      locker?.toUnlock.push(c.id)
      held.delete(c.id)
    }
    for (const locker of lockers) {
      const mine = released.filter((id) => held.get(id)?.locker === locker)
      for (const id of mine) {
        held.delete(id)
        locker.held.delete(id)
      }
      if (mine.length > 0) await onLocker(locker, () => locker.client.query(unlockSql, [mine]))
    }
    return { skipped }
  }

  return async () => {
    for (const locker of lockers) {
      await locker.last
      await locker.client.end().catch(() => {})
    }
  }
}
