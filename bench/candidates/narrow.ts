/**
 * Candidates A, B and C: the job row is separate from the list of waiting jobs.
 *
 * - `ready`: one narrow row per job that may be claimed (id, queue, priority, run_at, kind, weight),
 *   with one index in claim order. The claim deletes from it; nothing else reads it on the hot path.
 *   A job blocked by a dependency or by its group would enter it only when it may run.
 * - `running`: one row per running job (id, attempt, worker, start), found by id on completion and by
 *   worker on rescue. The claim inserts here, the completion deletes.
 * - `jobs`: the full job row (today's columns and checks) with only its primary key and a BRIN index on
 *   `created_at`; no index mentions `state`, `attempted_*` or `finished_at`, so the claim's and the
 *   completion's updates of the row are HOT when its page has room (fillfactor below 100).
 *
 * A keeps finished jobs in `jobs`. B moves them to `history`, partitioned by day of `finished_at`,
 * so retention drops a partition and `jobs` holds only unfinished jobs. C is B with `ready` split into
 * rotating partitions by insert time; a partition no longer written and empty is truncated, so its dead
 * entries vanish with no VACUUM, whatever transaction holds the xmin horizon (PgQ's idea).
 */
import type pg from 'pg'
import type { Candidate, ClaimedJob, Db } from './types.js'

const S = 'cand'
const CHANNEL = 'cand_jobs'
/** C: seconds of inserts per waiting partition. */
const ROTATION_SECONDS = 2
/** C: the number of waiting partitions in the rotation. */
const ROTATION_PARTITIONS = 4

/** Today's columns of a job row, in table order (history repeats them). */
const JOB_COLUMNS = `
  id bigint NOT NULL,
  kind text NOT NULL,
  queue text NOT NULL,
  state text NOT NULL,
  payload jsonb NOT NULL,
  priority smallint NOT NULL DEFAULT 0,
  run_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  attempt integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL,
  timeout_ms integer NOT NULL DEFAULT 0,
  weight integer NOT NULL DEFAULT 1,
  unique_key text,
  group_key text,
  depends_on bigint[],
  metadata jsonb NOT NULL DEFAULT '{}',
  tags text[] NOT NULL DEFAULT '{}',
  workflow_state jsonb,
  errors jsonb NOT NULL DEFAULT '[]',
  attempted_at timestamptz,
  attempted_by text,
  finished_at timestamptz,
  schedule_name text,
  schedule_tick timestamptz,
  backoff jsonb,
  trace_context jsonb,
  logs jsonb`

const COLUMN_NAMES = JOB_COLUMNS.trim()
  .split('\n')
  .map((line) => line.trim().split(' ')[0]!)

const CHECKS = `
  CONSTRAINT jobs_state_valid CHECK (
    state IN ('scheduled', 'available', 'running', 'retryable', 'succeeded', 'failed', 'cancelled')),
  CONSTRAINT jobs_attempt_range CHECK (attempt >= 0 AND attempt <= max_attempts),
  CONSTRAINT jobs_max_attempts_positive CHECK (max_attempts >= 1),
  CONSTRAINT jobs_timeout_not_negative CHECK (timeout_ms >= 0),
  CONSTRAINT jobs_weight_positive CHECK (weight >= 1),
  CONSTRAINT jobs_errors_array CHECK (jsonb_typeof(errors) = 'array'),
  CONSTRAINT jobs_finished_at_iff_final CHECK (
    (state IN ('succeeded', 'failed', 'cancelled')) = (finished_at IS NOT NULL)),
  CONSTRAINT jobs_depends_on_not_empty CHECK (depends_on IS NULL OR cardinality(depends_on) > 0),
  CONSTRAINT jobs_schedule_tick_named CHECK (schedule_tick IS NULL OR schedule_name IS NOT NULL)`

/** The insert slot of C: which rotating partition a job inserted now goes to (server clock). */
const SLOT_SQL = `(floor(date_part('epoch', now()) / ${ROTATION_SECONDS})::bigint % ${ROTATION_PARTITIONS})::smallint`

interface Variant {
  readonly history: boolean
  readonly rotating: boolean
}

function ddl(v: Variant): string[] {
  const statements = [
    `CREATE SCHEMA ${S}`,
    `CREATE SEQUENCE ${S}.jobs_id_seq`,
    // Room on each page for the claim's and the completion's new row versions, so both stay HOT even
    // while a held horizon keeps the old versions (B and C delete the row at completion: one update).
    `CREATE TABLE ${S}.jobs (${JOB_COLUMNS}, PRIMARY KEY (id), ${CHECKS}) WITH (fillfactor = ${v.history ? 50 : 30})`,
    `CREATE TABLE ${S}.queues (name text PRIMARY KEY, paused boolean NOT NULL DEFAULT false)`,
    `CREATE TABLE ${S}.running (
       id bigint PRIMARY KEY, attempt integer NOT NULL, attempted_by text NOT NULL, attempted_at timestamptz NOT NULL)`,
  ]
  const readyColumns = `id bigint NOT NULL, queue text NOT NULL, priority smallint NOT NULL,
     run_at timestamptz NOT NULL, kind text NOT NULL, weight integer NOT NULL`
  if (v.rotating) {
    statements.push(
      `CREATE TABLE ${S}.ready (${readyColumns}, slot smallint NOT NULL) PARTITION BY LIST (slot)`,
    )
    for (let k = 0; k < ROTATION_PARTITIONS; k++)
      statements.push(`CREATE TABLE ${S}.ready_${k} PARTITION OF ${S}.ready FOR VALUES IN (${k})`)
  } else {
    statements.push(`CREATE TABLE ${S}.ready (${readyColumns})`)
  }
  statements.push(`CREATE INDEX ready_claim_idx ON ${S}.ready (queue, priority, run_at, id)`)
  if (v.history) {
    statements.push(
      `CREATE TABLE ${S}.history (${JOB_COLUMNS}) PARTITION BY RANGE (finished_at)`,
      `CREATE INDEX history_id_idx ON ${S}.history (id)`,
      ...[-1, 0, 1].map((day) => historyPartitionSql(day)),
    )
  } else {
    // Pruning by age without an index entry per completion: created_at never changes.
    statements.push(`CREATE INDEX jobs_created_at_brin ON ${S}.jobs USING brin (created_at)`)
  }
  return statements
}

/** A daily history partition, `day` days from today (UTC). */
function historyPartitionSql(day: number): string {
  const from = new Date(Date.UTC(...utcDay(day)))
  const to = new Date(from.getTime() + 86_400_000)
  const name = `history_${from.toISOString().slice(0, 10).replaceAll('-', '')}`
  return `CREATE TABLE ${S}.${name} PARTITION OF ${S}.history
    FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`
}

function utcDay(offset: number): [number, number, number] {
  const d = new Date(Date.now() + offset * 86_400_000)
  return [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()]
}

function insertSql(v: Variant): string {
  return `WITH input AS (
      SELECT nextval('${S}.jobs_id_seq') AS id, i.*
      FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::int[], $5::float8[], $6::int[])
        AS i(kind, queue, payload, priority, run_at, max_attempts)
    ), jobs AS (
      INSERT INTO ${S}.jobs (id, kind, queue, state, payload, priority, run_at, created_at, max_attempts)
      SELECT i.id, i.kind, i.queue, 'available', i.payload, i.priority, to_timestamp(i.run_at / 1000),
        to_timestamp($7::float8 / 1000), i.max_attempts
      FROM input i
    ), ready AS (
      INSERT INTO ${S}.ready (id, queue, priority, run_at, kind, weight${v.rotating ? ', slot' : ''})
      SELECT i.id, i.queue, i.priority, to_timestamp(i.run_at / 1000), i.kind, 1${v.rotating ? `, ${SLOT_SQL}` : ''}
      FROM input i
    ), notified AS (
      SELECT pg_notify('${CHANNEL}', '["default"]')
    )
    SELECT i.id::text AS id, (SELECT count(*) FROM notified)::int AS notified FROM input i`
}

/**
 * Parameters: $1 queue, $2 now ms, $3 kinds, $4 limit, $5 worker id. The locked candidates are
 * deleted from `ready` by their tuple ids (a TID scan, never an index walk; with partitions, a ctid
 * is matched with its partition too).
 */
const CLAIM_SQL = `WITH locked AS (
    SELECT r.tableoid, r.ctid, r.id FROM ${S}.ready r
    WHERE r.queue = $1::text AND r.run_at <= to_timestamp($2::float8 / 1000) AND r.kind = ANY($3::text[])
      AND NOT EXISTS (SELECT 1 FROM ${S}.queues p WHERE p.name = $1::text AND p.paused)
    ORDER BY r.priority, r.run_at, r.id
    LIMIT $4::int
    FOR UPDATE OF r SKIP LOCKED
  ), taken AS (
    DELETE FROM ${S}.ready r
    WHERE r.ctid = ANY(ARRAY(SELECT ctid FROM locked))
      AND EXISTS (SELECT 1 FROM locked l WHERE l.ctid = r.ctid AND l.tableoid = r.tableoid)
    RETURNING r.id
  ), claimed AS (
    UPDATE ${S}.jobs j
    SET state = 'running', attempt = j.attempt + 1, attempted_at = to_timestamp($2::float8 / 1000), attempted_by = $5::text
    WHERE j.id = ANY(ARRAY(SELECT id FROM taken))
    RETURNING j.id, j.attempt, j.attempted_at, j.payload
  ), started AS (
    INSERT INTO ${S}.running (id, attempt, attempted_by, attempted_at)
    SELECT c.id, c.attempt, $5::text, c.attempted_at FROM claimed c
  )
  SELECT c.id::text AS id, c.attempt, c.payload FROM claimed c`

/** Parameters: $1 ids, $2 worker id, $3 now ms. */
function completeSql(v: Variant): string {
  const done = `done AS (
      DELETE FROM ${S}.running r WHERE r.id = ANY($1::bigint[]) AND r.attempted_by = $2::text RETURNING r.id
    )`
  if (!v.history) {
    return `WITH ${done}, finished AS (
        UPDATE ${S}.jobs j SET state = 'succeeded', finished_at = to_timestamp($3::float8 / 1000)
        WHERE j.id = ANY(ARRAY(SELECT id FROM done)) RETURNING 1
      )
      SELECT count(*)::int AS n FROM finished`
  }
  const values = COLUMN_NAMES.map((c) =>
    c === 'state' ? `'succeeded'` : c === 'finished_at' ? 'to_timestamp($3::float8 / 1000)' : `m.${c}`,
  )
  return `WITH ${done}, moved AS (
      DELETE FROM ${S}.jobs j WHERE j.id = ANY(ARRAY(SELECT id FROM done)) RETURNING j.*
    ), kept AS (
      INSERT INTO ${S}.history (${COLUMN_NAMES.join(', ')}) SELECT ${values.join(', ')} FROM moved m RETURNING 1
    )
    SELECT count(*)::int AS n FROM kept`
}

/**
 * C's rotation: every partition that is neither the current insert slot nor the one before it, and
 * is not already empty on disk, is truncated if it holds no row. The emptiness check runs under the
 * partition's ACCESS EXCLUSIVE lock, so no insert or claim of it can be in flight; the lock is
 * given up after 20 ms (a claim in progress) and tried again at the next turn, never queued behind.
 */
async function rotate(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ slot: number }>(`SELECT ${SLOT_SQL}::int AS slot`)
  const current = rows[0]!.slot
  const previous = (current + ROTATION_PARTITIONS - 1) % ROTATION_PARTITIONS
  for (let k = 0; k < ROTATION_PARTITIONS; k++) {
    if (k === current || k === previous) continue
    const table = `${S}.ready_${k}`
    const size = await pool.query<{ bytes: string }>(`SELECT pg_relation_size('${table}') AS bytes`)
    if (Number(size.rows[0]!.bytes) === 0) continue
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      await client.query(`SET LOCAL lock_timeout = '20ms'`)
      await client.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`)
      const live = await client.query(`SELECT 1 FROM ${table} LIMIT 1`)
      if (live.rowCount === 0) await client.query(`TRUNCATE ${table}`)
      await client.query('COMMIT')
    } catch {
      await client.query('ROLLBACK').catch(() => {})
    } finally {
      client.release()
    }
  }
}

function narrow(id: 'A' | 'B' | 'C', title: string, v: Variant): Candidate {
  const insert = insertSql(v)
  const complete = completeSql(v)
  return {
    id,
    title,
    channel: CHANNEL,
    async install(pool) {
      for (const statement of ddl(v)) await pool.query(statement)
    },
    async insert(db, payloads) {
      const n = payloads.length
      const now = Date.now()
      await db.query({
        name: `bench_${id}_insert`,
        text: insert,
        values: [
          new Array(n).fill('noop'),
          new Array(n).fill('default'),
          payloads,
          new Array(n).fill(0),
          new Array(n).fill(now),
          new Array(n).fill(25),
          now,
        ],
      })
    },
    openClaimer(workerId) {
      const values = (limit: number) => ['default', Date.now(), ['noop'], limit, workerId]
      return {
        async claim(db, limit) {
          const { rows } = await db.query<ClaimedJob>({
            name: `bench_${id}_claim`,
            text: CLAIM_SQL,
            values: values(limit),
          })
          return rows
        },
        nextClaim: (limit) => ({ text: CLAIM_SQL, values: values(limit) }),
      }
    },
    async complete(db, workerId, jobs) {
      if (jobs.length === 0) return 0
      const { rows } = await db.query<{ n: number }>({
        name: `bench_${id}_complete`,
        text: complete,
        values: [`{${jobs.map((j) => j.id).join(',')}}`, workerId, Date.now()],
      })
      return rows[0]!.n
    },
    async counts(db: Db) {
      const finished = v.history
        ? `(SELECT count(*) FROM ${S}.history)`
        : `(SELECT count(*) FROM ${S}.jobs WHERE state = 'succeeded')`
      const { rows } = await db.query<{ unfinished: number; finished: number }>(
        `SELECT (SELECT count(*) FROM ${S}.jobs WHERE finished_at IS NULL)::int AS unfinished, ${finished}::int AS finished`,
      )
      return rows[0]!
    },
    ...(v.rotating ? { maintenance: { everyMs: (ROTATION_SECONDS * 1000) / 2, run: rotate } } : {}),
  }
}

/** A: narrow waiting and running tables; the job row changes by HOT updates and keeps finished jobs. */
export const narrowWaiting = narrow('A', 'narrow ready + running tables, job row updated HOT', {
  history: false,
  rotating: false,
})

/** B: A, and finished jobs move to a history table partitioned by day (retention drops partitions). */
export const withHistory = narrow('B', 'A + finished jobs moved to daily history partitions', {
  history: true,
  rotating: false,
})

/** C: B with the waiting jobs in rotating partitions truncated once consumed. */
export const rotatingWaiting = narrow(
  'C',
  `B + ready in ${ROTATION_PARTITIONS} rotating partitions (${ROTATION_SECONDS} s each), truncated when empty`,
  { history: true, rotating: true },
)
