/**
 * The SQL names of one schema, quoted once: tables, the group-claim function, notification channels,
 * advisory-lock spaces, and the prefix of prepared statement names.
 */
import { lockSpace, quoteIdentifier } from './schema-name.js'

/** Quoted, schema-qualified names used in SQL texts, and the values derived from the schema name. */
export interface SqlNames {
  readonly schema: string
  /** The quoted schema, e.g. `"conveyor"`. */
  readonly quotedSchema: string
  readonly jobs: string
  /** Finished jobs, partitioned by day of `finished_at` (migration 009). */
  readonly history: string
  /** Which waiting jobs wait for which unfinished ones (migration 012): `(dependency_id, dependant_id)`. */
  readonly dependants: string
  readonly queues: string
  readonly schedules: string
  readonly processes: string
  readonly migrations: string
  readonly claimGroupTurn: string
  /** Function: a claim sets a job its group holds back aside, with the rest of its backlog (migrations 013, 015). */
  readonly claimGroupBehind: string
  /** Function: releases a group's first job set aside once nothing holds it back (migration 013). */
  readonly releaseGroupBehind: string
  /** Function: whether a fifo job of a group waits for an earlier job's end (migration 013). */
  readonly groupJobWaits: string
  /** Function: whether a release job of a group waits for a running job's end (migration 015). */
  readonly groupReleaseJobWaits: string
  /** Function: whether no dependency of a job is in history failed or cancelled (migration 009). */
  readonly historyDependenciesMet: string
  /** Regclass text of the jobs id sequence (a bound value of `nextval`). */
  readonly jobIdSequence: string
  /** Channel notified with queue names when jobs become available: `<schema>_jobs`. */
  readonly jobsChannel: string
  /** Channel notified with job ids when running jobs are cancelled: `<schema>_cancel`. */
  readonly cancelChannel: string
  /** Advisory-lock space of group claims. */
  readonly groupLockSpace: number
  /** Advisory-lock space of migrations. */
  readonly migrationLockSpace: number
  /** Advisory-lock space of indexes built on demand (the `time` strategy's claim index). */
  readonly indexLockSpace: number
  /** Prefix of prepared statement names, unique per schema so one pool can serve several schemas. */
  readonly statementPrefix: string
}

/** Builds the names for a schema that was already validated. */
export function sqlNames(schema: string): SqlNames {
  const quotedSchema = quoteIdentifier(schema)
  return {
    schema,
    quotedSchema,
    jobs: `${quotedSchema}.jobs`,
    history: `${quotedSchema}.job_history`,
    dependants: `${quotedSchema}.job_dependants`,
    queues: `${quotedSchema}.queues`,
    schedules: `${quotedSchema}.schedules`,
    processes: `${quotedSchema}.processes`,
    migrations: `${quotedSchema}.migrations`,
    claimGroupTurn: `${quotedSchema}.claim_group_turn`,
    claimGroupBehind: `${quotedSchema}.claim_group_behind`,
    releaseGroupBehind: `${quotedSchema}.release_group_behind`,
    groupJobWaits: `${quotedSchema}.group_job_waits`,
    groupReleaseJobWaits: `${quotedSchema}.group_release_job_waits`,
    historyDependenciesMet: `${quotedSchema}.history_dependencies_met`,
    jobIdSequence: `${quotedSchema}.jobs_id_seq`,
    jobsChannel: channelName(schema, 'jobs'),
    cancelChannel: channelName(schema, 'cancel'),
    groupLockSpace: lockSpace(schema, 'group'),
    migrationLockSpace: lockSpace(schema, 'migrate'),
    indexLockSpace: lockSpace(schema, 'index'),
    // PostgreSQL compares statement names on their first 63 bytes: keep them short, a hash of the schema.
    statementPrefix: `cv${(lockSpace(schema, 'statements') >>> 0).toString(36)}_`,
  }
}

/**
 * `<schema>_<suffix>`; PostgreSQL limits channel names to 63 bytes, so a long schema name is cut
 * and made unique again with a hash of the whole name.
 */
export function channelName(schema: string, suffix: string): string {
  const name = `${schema}_${suffix}`
  if (name.length <= 63) return name
  const hash = (lockSpace(schema, 'channel') >>> 0).toString(36)
  return `${schema.slice(0, 62 - suffix.length - hash.length - 1)}_${hash}_${suffix}`
}

/** Waiting states as an SQL list (constants, matching the partial indexes' predicates). */
export const WAITING_SQL = `('scheduled', 'available', 'retryable')`

/**
 * The claim indexes' predicate on a job row of alias `a` (none: unqualified, as in the index):
 * waiting, and not set aside behind its group (migration 013). Claims name it whole so that the
 * planner can use the indexes.
 */
export function claimableSql(a?: string): string {
  const c = a === undefined ? '' : `${a}.`
  return `${c}state IN ${WAITING_SQL} AND NOT ${c}group_behind`
}

/** Waiting or running states as an SQL list (the group index predicate; a paused job steps out of its group). */
export const PENDING_SQL = `('scheduled', 'available', 'retryable', 'running')`

/** States in which a job holds its unique key: waiting, paused or running (the unique index's predicate). */
export const UNIQUE_SQL = `('scheduled', 'available', 'retryable', 'paused', 'running')`

/** Final states as an SQL list: the jobs of `job_history` (and only those, once swept). */
export const FINAL_SQL = `('succeeded', 'failed', 'cancelled')`

/** States of a job `updateJob` may change and a dependency's failure cancels: waiting or paused. */
export const CHANGEABLE_SQL = `('scheduled', 'available', 'retryable', 'paused')`

/** SQL converting a bound epoch-ms number to timestamptz (`Infinity` becomes 'infinity'). */
export function fromMs(param: string): string {
  // An expression is parenthesized; a bare parameter or column keeps its cast next to it.
  const value = /^[\w$.]+$/.test(param) ? param : `(${param})`
  return `to_timestamp(${value}::float8 / 1000)`
}

/**
 * SQL of the statement's current time in epoch ms (float8): the bound `now` when the caller passed
 * one (a `ManualClock`), else the database's `now()`, so that every process uses one clock.
 */
export function nowMs(param: string): string {
  return `coalesce(${param}::float8, date_part('epoch', now()) * 1000)`
}

/**
 * SQL converting a timestamptz column to whole epoch ms as float8. `date_part` (float8) is much
 * cheaper than `extract` (numeric since PostgreSQL 14); rounding makes it exact for whole ms.
 */
export function toMs(column: string): string {
  return `round(date_part('epoch', ${column}) * 1000)`
}

/** SQL regclass constant of a qualified name built from a validated schema (it contains no quote). */
export function regclassLiteral(qualifiedName: string): string {
  if (qualifiedName.includes("'")) throw new Error(`unexpected quote in ${qualifiedName}`)
  return `'${qualifiedName}'::regclass`
}
