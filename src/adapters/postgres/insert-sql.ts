/**
 * The SQL of inserting jobs, and how jobs are bound to it: a batch statement over `unnest` of one
 * array per column (with or without a dependency check), a leaner statement for a single job (the
 * one-by-one enqueue path), and the lookup of the jobs holding skipped duplicates' keys.
 */
import type { NewJob } from '../../core/ports/store.js'
import { insertEdgesSql } from './dependants.js'
import { notifyJobsSql } from './jobs-notification.js'
import { jobColumns } from './row-mapping.js'
import { fromMs, nowMs, regclassLiteral, type SqlNames, toMs, UNIQUE_SQL } from './sql-names.js'

/**
 * Which jobs of a batch (alias `n`) hold the later `fifo` jobs of their group in the batch back until
 * their own end, for certain: a `fifo` job of a group with no group lock timeout. It can neither be
 * skipped as a duplicate nor be cancelled at its insert, since `groupedUnkeyed` has no `ON CONFLICT`
 * and serves batches without dependencies only. The batch's later `fifo` jobs of the group are
 * inserted set aside behind the first of them (migration 013): it commits with them, and its end
 * releases the next (dependants.ts), so no claim has to read the backlog to set it aside.
 */
const BEHIND_IN_BATCH = `n.group_key IS NOT NULL AND coalesce(n.group_mode, 'fifo') = 'fifo' AND n.group_lock_timeout_ms IS NULL`

/** The SQL texts of inserting, per schema. */
export interface InsertSql {
  /** Batch insert of jobs that depend on nothing. */
  readonly plain: string
  /** Batch insert that also checks dependencies (missing ids abort it; failed ones insert `cancelled`). */
  readonly withDependencies: string
  /** `plain` for jobs with no unique key and no schedule tick: nothing can conflict, so no `ON CONFLICT`. */
  readonly plainUnkeyed: string
  /**
   * `plainUnkeyed` for a batch with several `fifo` jobs of one group: each such job after the group's
   * first in the batch is inserted set aside behind it (`group_behind`, migration 013; see
   * `BEHIND_IN_BATCH`). Only without `ON CONFLICT`: a job skipped on a conflict (a unique key, or the
   * primary key while the id sequence is behind) would leave the jobs set aside behind it with nothing
   * to release them, so a keyed batch uses `plain` and leaves setting aside to the claims.
   */
  readonly groupedUnkeyed: string
  /** Insert of one job without dependencies, with scalar parameters (see `bindSingle`). */
  readonly single: string
  /** `single` for a job with no unique key and no schedule tick (no `ON CONFLICT`). */
  readonly singleUnkeyed: string
  /** The waiting or running jobs holding given unique keys or schedule ticks. */
  readonly holders: string
}

/** The column arrays bound to the insert, in the order of the `unnest` call. */
const INPUT_COLUMNS = [
  ['kind', 'text[]'],
  ['queue', 'text[]'],
  ['payload', 'jsonb[]'],
  ['priority', 'int[]'],
  ['run_at', 'float8[]'],
  ['max_attempts', 'int[]'],
  ['timeout_ms', 'int[]'],
  ['weight', 'int[]'],
  ['unique_key', 'text[]'],
  ['group_key', 'text[]'],
  ['depends_on', 'text[]'],
  ['metadata', 'jsonb[]'],
  ['tags', 'jsonb[]'],
  ['workflow_state', 'jsonb[]'],
  ['backoff', 'jsonb[]'],
  ['schedule_name', 'text[]'],
  ['schedule_tick', 'float8[]'],
  ['trace_context', 'jsonb[]'],
  ['group_mode', 'text[]'],
  ['group_lock_timeout_ms', 'int[]'],
] as const

/** Builds the insert statements of a schema. */
export function insertSql(names: SqlNames): InsertSql {
  const n = INPUT_COLUMNS.length
  const now = nowMs(`$${n + 1}`)
  const channel = `$${n + 2}`
  const notifyInserted = notifyJobsSql(channel, {
    from: 'inserted',
    where: "state = 'available'",
    queue: 'queue',
    priority: 'priority',
    runAtMs: toMs('run_at'),
  })
  const arrays = INPUT_COLUMNS.map(([, type], i) => `$${i + 1}::${type}`).join(', ')
  const aliases = INPUT_COLUMNS.map(([name]) => name).join(', ')
  const numbered = `SELECT nextval(${regclassLiteral(names.jobIdSequence)}) AS id, i.*
    FROM unnest(${arrays}) WITH ORDINALITY AS i(${aliases}, ord)`
  const input = (grouped: boolean) =>
    grouped
      ? `input AS (
    SELECT n.*, n.id > min(n.id) FILTER (WHERE ${BEHIND_IN_BATCH}) OVER (PARTITION BY n.group_key) AS behind
    FROM (${numbered}) n
  )`
      : `input AS (
    ${numbered}
  )`
  // Only unique keys and schedule ticks can conflict (ids come from the sequence). Without them the
  // statement skips ON CONFLICT, whose speculative insertion costs a check of every unique index.
  const onConflict = (keyed: boolean) => (keyed ? 'ON CONFLICT DO NOTHING' : '')
  const build = (withDependencies: boolean, keyed = true, grouped = false): string => {
    const state = withDependencies
      ? `CASE WHEN i.depends_on IS NOT NULL AND EXISTS (
           SELECT 1 FROM found f WHERE f.id = ANY(i.depends_on::bigint[]) AND f.state IN ('failed', 'cancelled')
         ) THEN 'cancelled' WHEN i.run_at > ${now}::float8 THEN 'scheduled' ELSE 'available' END`
      : `CASE WHEN i.run_at > ${now}::float8 THEN 'scheduled' ELSE 'available' END`
    const dependencyCtes = withDependencies
      ? `, wanted AS (
          SELECT DISTINCT unnest(i.depends_on::bigint[]) AS id FROM input i WHERE i.depends_on IS NOT NULL
        ), found AS (
          SELECT d.id, d.state, d.finished_at IS NULL AS live FROM ${names.jobs} d WHERE d.id IN (SELECT id FROM wanted)
          UNION ALL
          SELECT d.id, d.state, false FROM ${names.history} d WHERE d.id IN (SELECT id FROM wanted)
        ), missing AS (
          SELECT w.id FROM wanted w WHERE NOT EXISTS (SELECT 1 FROM found f WHERE f.id = w.id)
        )`
      : ''
    return `WITH ${input(grouped)}${dependencyCtes}, inserted AS (
      INSERT INTO ${names.jobs} AS j (
        id, kind, queue, state, payload, priority, run_at, created_at, max_attempts, timeout_ms, weight,
        unique_key, group_key, depends_on, metadata, tags, workflow_state, finished_at, schedule_name,
        schedule_tick, backoff, trace_context, group_mode, group_lock_timeout_ms${grouped ? ', group_behind' : ''}
      )
      SELECT i.id, i.kind, i.queue, x.state, i.payload, i.priority, ${fromMs('i.run_at')}, ${fromMs(now)},
        i.max_attempts, i.timeout_ms, i.weight, i.unique_key, i.group_key, i.depends_on::bigint[],
        coalesce(i.metadata, '{}'),
        CASE WHEN i.tags IS NULL THEN '{}'::text[] ELSE ARRAY(SELECT jsonb_array_elements_text(i.tags)) END,
        i.workflow_state,
        CASE WHEN x.state = 'cancelled' THEN ${fromMs(now)} END,
        i.schedule_name, ${fromMs('i.schedule_tick')}, i.backoff, i.trace_context,
        coalesce(i.group_mode, 'fifo'), i.group_lock_timeout_ms${
          grouped
            ? `,
        coalesce(i.behind AND coalesce(i.group_mode, 'fifo') = 'fifo', false)`
            : ''
        }
      FROM input i CROSS JOIN LATERAL (SELECT ${state} AS state) x
      ${withDependencies ? 'WHERE NOT EXISTS (SELECT 1 FROM missing)' : ''}
      ORDER BY i.ord
      ${onConflict(keyed)}
      RETURNING j.id, j.state, j.queue, j.priority, j.run_at${withDependencies ? ', j.depends_on' : ''}
    ), notified AS (
      ${notifyInserted}
    )${
      withDependencies
        ? `, edges AS (
      ${insertEdgesSql(names, 'inserted', 'found')}
    )`
        : ''
    }
    SELECT input.ord::int AS ord, ins.id::text AS id, ins.state, (SELECT count(*) FROM notified)::int AS notified, ${now} AS now_ms${
      withDependencies ? ', (SELECT array_agg(id::text) FROM missing) AS missing_ids' : ''
    }
    FROM (SELECT 1) AS one
    LEFT JOIN (inserted ins JOIN input ON input.id = ins.id) ON true`
  }
  return {
    plain: build(false),
    plainUnkeyed: build(false, false),
    groupedUnkeyed: build(false, false, true),
    withDependencies: build(true),
    single: single(true),
    singleUnkeyed: single(false),
    holders: `SELECT DISTINCT ON (k.ord) k.ord::int AS ord, ${jobColumns('j')}
      FROM unnest($1::int[], $2::text[], $3::text[], $4::text[], $5::float8[]) AS k(ord, kind, unique_key, schedule_name, schedule_tick)
      JOIN ${names.jobs} j ON (
        k.unique_key IS NOT NULL AND j.kind = k.kind AND j.unique_key = k.unique_key AND j.state IN ${UNIQUE_SQL}
      ) OR (
        k.schedule_tick IS NOT NULL AND j.schedule_name = k.schedule_name AND j.schedule_tick = ${fromMs('k.schedule_tick')}
      )
      ORDER BY k.ord, j.id`,
  }
  function single(keyed: boolean): string {
    return `WITH inserted AS (
      INSERT INTO ${names.jobs} AS j (
        kind, queue, state, payload, priority, run_at, created_at, max_attempts, timeout_ms, weight,
        unique_key, group_key, depends_on, metadata, tags, workflow_state, backoff, schedule_name, schedule_tick, trace_context,
        group_mode, group_lock_timeout_ms
      ) VALUES (
        $1::text, $2::text, CASE WHEN $5::float8 > ${now}::float8 THEN 'scheduled' ELSE 'available' END, $3::jsonb,
        $4::int, ${fromMs('$5')}, ${fromMs(now)}, $6::int, $7::int, $8::int, $9::text, $10::text, $11::bigint[], $12::jsonb,
        coalesce($13::text[], '{}'), $14::jsonb, $15::jsonb, $16::text, ${fromMs('$17')}, $18::jsonb,
        coalesce($19::text, 'fifo'), $20::int
      )
      ${onConflict(keyed)}
      RETURNING j.id, j.state, j.queue, j.priority, j.run_at
    ), notified AS (
      ${notifyInserted}
    )
    SELECT 1 AS ord, id::text AS id, state, (SELECT count(*) FROM notified)::int AS notified, ${now} AS now_ms
    FROM inserted`
  }
}

const json = (value: unknown): string | null =>
  value === null || value === undefined ? null : JSON.stringify(value)

/**
 * Binds the jobs' fields as one array per column (see `INPUT_COLUMNS`). A column that is null for
 * every job is bound as one SQL NULL instead (multi-argument `unnest` pads it with NULLs): most
 * columns are usually empty, and parsing thousands of NULL elements costs more than the insert.
 */
export function bindColumns(jobs: readonly NewJob[]): (unknown[] | null)[] {
  return columnsOf(jobs).map((column) => (column.every((v) => v === null) ? null : column))
}

function columnsOf(jobs: readonly NewJob[]): unknown[][] {
  return [
    jobs.map((j) => j.kind),
    jobs.map((j) => j.queue),
    jobs.map((j) => JSON.stringify(j.payload)),
    jobs.map((j) => j.priority),
    jobs.map((j) => j.runAt),
    jobs.map((j) => j.maxAttempts),
    jobs.map((j) => j.timeoutMs),
    jobs.map((j) => j.weight),
    jobs.map((j) => j.uniqueKey),
    jobs.map((j) => j.groupKey),
    jobs.map((j) => (j.dependsOn.length > 0 ? `{${j.dependsOn.join(',')}}` : null)),
    jobs.map((j) => (Object.keys(j.metadata).length > 0 ? JSON.stringify(j.metadata) : null)),
    jobs.map((j) => (j.tags.length > 0 ? JSON.stringify(j.tags) : null)),
    jobs.map((j) => json(j.workflowState)),
    jobs.map((j) => json(j.backoff)),
    jobs.map((j) => j.scheduleName),
    jobs.map((j) => j.scheduleTick),
    jobs.map((j) => json(j.traceContext)),
    jobs.map((j) => groupModeValue(j)),
    jobs.map((j) => j.groupLockTimeoutMs ?? null),
  ]
}

/** Binds one job's fields as scalars in the same order (the `single` statement). */
export function bindSingle(job: NewJob): unknown[] {
  return [
    job.kind,
    job.queue,
    JSON.stringify(job.payload),
    job.priority,
    job.runAt,
    job.maxAttempts,
    job.timeoutMs,
    job.weight,
    job.uniqueKey,
    job.groupKey,
    null, // depends_on: jobs with dependencies use the batch statement
    JSON.stringify(job.metadata),
    job.tags.length > 0 ? job.tags : null,
    json(job.workflowState),
    json(job.backoff),
    job.scheduleName,
    job.scheduleTick,
    json(job.traceContext),
    groupModeValue(job),
    job.groupLockTimeoutMs ?? null,
  ]
}

/** A job's group mode as bound: null for the default `fifo` (most jobs), so the column binds as one NULL. */
function groupModeValue(job: NewJob): string | null {
  return job.groupMode === undefined || job.groupMode === 'fifo' ? null : job.groupMode
}
