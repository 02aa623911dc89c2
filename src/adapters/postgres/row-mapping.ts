/**
 * The one place where snake_case rows become camelCase domain records: the select lists of jobs and
 * schedules, and the functions that map their rows. Ids are read as text and times as epoch ms, so
 * the result does not depend on type parsers the application may have set on `pg`.
 */
import type { AttemptError, BackoffSpec, JobRecord, JobState, RunLog } from '../../core/domain/job.js'
import type { JsonValue } from '../../core/domain/json.js'
import type { MissedTickPolicy, ScheduleJobTemplate, ScheduleRecord } from '../../core/ports/store.js'
import { toMs } from './sql-names.js'

/** A jobs row as selected by `jobColumns`. */
export interface JobRow {
  id: string
  kind: string
  queue: string
  state: JobState
  payload: JsonValue
  priority: number
  run_at: number
  created_at: number
  attempt: number
  runs: number
  max_attempts: number
  timeout_ms: number
  weight: number
  unique_key: string | null
  group_key: string | null
  depends_on: string[] | null
  /** NULL when empty (see `jobColumns`). */
  metadata: Record<string, JsonValue> | null
  /** NULL when empty. */
  tags: string[] | null
  workflow_state: JsonValue | null
  /** NULL when empty. */
  errors: AttemptError[] | null
  attempted_at: number | null
  attempted_by: string | null
  finished_at: number | null
  schedule_name: string | null
  schedule_tick: number | null
  backoff: BackoffSpec | null
  trace_context: Record<string, string> | null
}

/**
 * The select list of a job, reading from table alias `a` (`j.id::text AS id, ...`). Empty
 * `metadata`, `tags` and `errors` (nearly every job) are read as NULL: `pg` then parses nothing for
 * them (its array parser alone left garbage behind for every claimed job), and `toJobRecord`
 * puts a fresh empty value in their place.
 */
export function jobColumns(a: string): string {
  return jobColumnList(a).join(', ')
}

/** The select list of `jobColumns`, one entry per column. */
function jobColumnList(a: string): string[] {
  return [
    `${a}.id::text AS id`,
    `${a}.kind`,
    `${a}.queue`,
    `${a}.state`,
    `${a}.payload`,
    `${a}.priority::int AS priority`,
    `${toMs(`${a}.run_at`)} AS run_at`,
    `${toMs(`${a}.created_at`)} AS created_at`,
    `${a}.attempt`,
    `${a}.runs`,
    `${a}.max_attempts`,
    `${a}.timeout_ms`,
    `${a}.weight`,
    `${a}.unique_key`,
    `${a}.group_key`,
    `${a}.depends_on::text[] AS depends_on`,
    `nullif(${a}.metadata, '{}'::jsonb) AS metadata`,
    `nullif(${a}.tags, '{}'::text[]) AS tags`,
    `${a}.workflow_state`,
    `nullif(${a}.errors, '[]'::jsonb) AS errors`,
    `${toMs(`${a}.attempted_at`)} AS attempted_at`,
    `${a}.attempted_by`,
    `${toMs(`${a}.finished_at`)} AS finished_at`,
    `${a}.schedule_name`,
    `${toMs(`${a}.schedule_tick`)} AS schedule_tick`,
    `${a}.backoff`,
    `${a}.trace_context`,
  ]
}

/** Shared frozen empty values (the record is read-only; the memory adapter shares them too). */
const NO_STRINGS: readonly string[] = Object.freeze([])
const NO_ERRORS: readonly AttemptError[] = Object.freeze([])
const NO_METADATA: Readonly<Record<string, JsonValue>> = Object.freeze({})

/** Maps a jobs row to the domain record. */
export function toJobRecord(row: JobRow): JobRecord {
  return record(row, row.kind, row.queue, row.state, row.attempted_by)
}

function record(
  row: ClaimedJobRow,
  kind: string,
  queue: string,
  state: JobState,
  attemptedBy: string | null,
): JobRecord {
  return {
    id: row.id,
    kind,
    queue,
    state,
    payload: row.payload,
    priority: row.priority,
    runAt: row.run_at,
    createdAt: row.created_at,
    attempt: row.attempt,
    runs: row.runs,
    maxAttempts: row.max_attempts,
    timeoutMs: row.timeout_ms,
    weight: row.weight,
    uniqueKey: row.unique_key,
    groupKey: row.group_key,
    dependsOn: row.depends_on ?? NO_STRINGS,
    metadata: row.metadata ?? NO_METADATA,
    tags: row.tags ?? NO_STRINGS,
    workflowState: row.workflow_state,
    errors: row.errors ?? NO_ERRORS,
    attemptedAt: row.attempted_at,
    attemptedBy,
    finishedAt: row.finished_at,
    scheduleName: row.schedule_name,
    scheduleTick: row.schedule_tick,
    backoff: row.backoff,
    traceContext: row.trace_context,
  }
}

/** A jobs row as selected by `claimedJobColumns`. */
export type ClaimedJobRow = Omit<JobRow, 'state' | 'attempted_by'>

/**
 * The select list of a job just claimed: `jobColumns` less `state` and `attempted_by`, which the
 * claim itself set (`running`, the worker's id); `toClaimedJob` fills them in. Claimed records wait
 * in the worker's buffer, so each string they do not carry is memory the young generation does not
 * have to keep.
 */
export function claimedJobColumns(a: string): string {
  return jobColumnList(a)
    .filter((c) => c !== `${a}.state` && c !== `${a}.attempted_by`)
    .join(', ')
}

/**
 * Maps a row of `claimedJobColumns` to the domain record; `kinds` and `queues` are the claim's
 * parameters, whose strings the record shares instead of the copies `pg` parsed.
 */
export function toClaimedJob(
  row: ClaimedJobRow,
  workerId: string,
  kinds: readonly string[],
  queues: readonly string[],
): JobRecord {
  const kind = kinds.find((k) => k === row.kind) ?? row.kind
  return record(row, kind, queues.find((q) => q === row.queue) ?? row.queue, 'running', workerId)
}

/** A jobs row selected with `jobColumns` and the `logs` column (only `getJob` reads logs). */
export interface JobRowWithLogs extends JobRow {
  logs: RunLog[] | null
}

/** Maps a jobs row read with its logs to the domain record (`logs` left out when there are none). */
export function toJobRecordWithLogs(row: JobRowWithLogs): JobRecord {
  const job = toJobRecord(row)
  return row.logs ? { ...job, logs: row.logs } : job
}

/** A schedules row as selected by `scheduleColumns`. */
export interface ScheduleRow {
  name: string
  expression: string
  timezone: string | null
  kind: string
  payload: JsonValue
  job_template: ScheduleJobTemplate
  next_run_at: number | null
  last_tick_at: number | null
  last_success_at: number | null
  missed_policy: MissedTickPolicy
  start_at: number | null
  after_schedule: string | null
  created_at: number
  updated_at: number
}

/** The select list of a schedule, reading from table alias `a`. */
export function scheduleColumns(a: string): string {
  return [
    `${a}.name`,
    `${a}.expression`,
    `${a}.timezone`,
    `${a}.kind`,
    `${a}.payload`,
    `${a}.job_template`,
    `${toMs(`${a}.next_run_at`)} AS next_run_at`,
    `${toMs(`${a}.last_tick_at`)} AS last_tick_at`,
    `${toMs(`${a}.last_success_at`)} AS last_success_at`,
    `${a}.missed_policy`,
    `${toMs(`${a}.start_at`)} AS start_at`,
    `${a}.after_schedule`,
    `${toMs(`${a}.created_at`)} AS created_at`,
    `${toMs(`${a}.updated_at`)} AS updated_at`,
  ].join(', ')
}

/** Maps a schedules row to the domain record. */
export function toScheduleRecord(row: ScheduleRow): ScheduleRecord {
  return {
    name: row.name,
    expression: row.expression,
    timezone: row.timezone,
    kind: row.kind,
    payload: row.payload,
    jobTemplate: row.job_template,
    nextRunAt: row.next_run_at,
    lastTickAt: row.last_tick_at,
    lastSuccessAt: row.last_success_at,
    missedPolicy: row.missed_policy,
    startAt: row.start_at,
    after: row.after_schedule,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}
