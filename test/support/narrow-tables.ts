/**
 * The narrow-table invariant of migration 011, checked after tests on PostgreSQL: every waiting job
 * (scheduled, available, retryable) has exactly one ready row with its queue, priority, run time, kind
 * and weight, every running job one running row with its attempt, and no narrow row names a job in
 * another state (or none).
 */
import type pg from 'pg'
import { quoteIdentifier } from '../../src/adapters/postgres/schema-name.js'

/** One way the narrow tables disagree with the job rows. */
export interface NarrowTableMismatch {
  readonly problem: string
  readonly id: string
  /** Where the job is and in which state: `jobs:running`, `job_history:failed`, or `nowhere`. */
  readonly job: string
}

/** The mismatches between the narrow tables and the job rows of `schema` (none: the invariant holds). */
export async function narrowTableMismatches(pool: pg.Pool, schema: string): Promise<NarrowTableMismatch[]> {
  const s = quoteIdentifier(schema)
  const waiting = `('scheduled', 'available', 'retryable')`
  const { rows } = await pool.query<NarrowTableMismatch>(`
    SELECT 'waiting job without its ready row' AS problem, j.id::text AS id FROM ${s}.jobs j
    WHERE j.state IN ${waiting} AND NOT EXISTS (
      SELECT 1 FROM ${s}.job_ready r WHERE r.id = j.id AND r.queue = j.queue AND r.priority = j.priority
        AND r.run_at = j.run_at AND r.kind = j.kind AND r.weight = j.weight
        AND r.gated = (j.group_key IS NOT NULL OR j.depends_on IS NOT NULL))
    UNION ALL
    SELECT 'ready row of a job that does not wait', r.id::text FROM ${s}.job_ready r
    WHERE NOT EXISTS (SELECT 1 FROM ${s}.jobs j WHERE j.id = r.id AND j.state IN ${waiting})
    UNION ALL
    SELECT 'running job without its running row', j.id::text FROM ${s}.jobs j
    WHERE j.state = 'running' AND NOT EXISTS (
      SELECT 1 FROM ${s}.job_running r WHERE r.id = j.id AND r.attempt = j.attempt
        AND r.attempted_by IS NOT DISTINCT FROM j.attempted_by)
    UNION ALL
    SELECT 'running row of a job that does not run', r.id::text FROM ${s}.job_running r
    WHERE NOT EXISTS (SELECT 1 FROM ${s}.jobs j WHERE j.id = r.id AND j.state = 'running')
    ORDER BY 2, 1`)
  for (const row of rows) {
    const { rows: found } = await pool.query<{ at: string }>(
      `SELECT 'jobs:' || state AS at FROM ${s}.jobs WHERE id = $1::bigint
       UNION ALL SELECT 'job_history:' || state FROM ${s}.job_history WHERE id = $1::bigint`,
      [row.id],
    )
    ;(row as { job: string }).job = found.map((f) => f.at).join(', ') || 'nowhere'
  }
  return rows
}

/** Throws, naming each mismatch, when the narrow tables of `schema` disagree with its job rows. */
export async function expectNarrowTablesConsistent(pool: pg.Pool, schema: string): Promise<void> {
  const mismatches = await narrowTableMismatches(pool, schema)
  if (mismatches.length > 0) {
    throw new Error(
      `the narrow tables disagree with the job rows: ${mismatches.map((m) => `job ${m.id} (${m.job}): ${m.problem}`).join('; ')}`,
    )
  }
}

/**
 * Gives the waiting and running jobs of `schema` that a test wrote with plain SQL (bypassing the
 * store) their ready and running rows, as the store's statements would have.
 */
export async function addNarrowRows(client: pg.Pool | pg.Client, schema: string): Promise<void> {
  const s = quoteIdentifier(schema)
  await client.query(
    `INSERT INTO ${s}.job_ready (id, queue, priority, run_at, kind, weight, gated)
     SELECT id, queue, priority, run_at, kind, weight, group_key IS NOT NULL OR depends_on IS NOT NULL FROM ${s}.jobs
     WHERE state IN ('scheduled', 'available', 'retryable')
     ON CONFLICT (id) DO NOTHING`,
  )
  await client.query(
    `INSERT INTO ${s}.job_running (id, attempt, attempted_at, attempted_by, timeout_ms, group_key, group_lock_timeout_ms)
     SELECT id, attempt, attempted_at, attempted_by, timeout_ms, group_key, group_lock_timeout_ms FROM ${s}.jobs
     WHERE state = 'running'
     ON CONFLICT (id) DO NOTHING`,
  )
}
