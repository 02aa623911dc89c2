import {
  type AttemptError,
  type JobRecord,
  type JobState,
  RUN_LOGS_KEPT,
  type RunLog,
} from '../../core/domain/job.js'
import { newJobRecord } from '../../core/domain/new-job-record.js'
import type { NewJob } from '../../core/ports/store.js'
import { frozenCopy, mutableCopy } from './frozen-json.js'

/** A job record the store owns and changes in place; it is never handed out (see `copyJobRecord`). */
export type StoredJob = { -readonly [K in keyof JobRecord]: JobRecord[K] }

/** A stored job with the bookkeeping the memory store's indexes need. */
export interface JobEntry {
  /** The job. Its JSON values (payload, metadata, tags, errors, ...) are deep-frozen and replaced, never changed. */
  readonly record: StoredJob
  /** The numeric id, for ordering. */
  readonly seq: number
  /** Bumped whenever the job leaves a claim heap or is pushed again; older heap items are stale. */
  version: number
  /** True while the job is physically in its group's waiting heap (it may be a stale item there). */
  inGroupHeap: boolean
  /**
   * Logs of the job's last runs (frozen), kept beside the record so that claims, lists and events,
   * which copy the record, never carry them; `getJob` adds them. Deleted and pruned with the entry.
   */
  logs: readonly RunLog[] | undefined
}

const NO_STRINGS: readonly string[] = Object.freeze([])
const NO_ERRORS: readonly AttemptError[] = Object.freeze([])

/** Builds the record of a newly inserted job, with frozen copies of its JSON values. */
export function createJobRecord(id: string, job: NewJob, state: JobState, now: number): StoredJob {
  return {
    ...newJobRecord(id, job, state, now),
    payload: frozenCopy(job.payload),
    dependsOn: job.dependsOn.length === 0 ? NO_STRINGS : frozenCopy([...job.dependsOn]),
    metadata: frozenCopy(job.metadata),
    tags: job.tags.length === 0 ? NO_STRINGS : frozenCopy([...job.tags]),
    workflowState: frozenCopy(job.workflowState),
    errors: NO_ERRORS,
    backoff: frozenCopy(job.backoff),
    traceContext: frozenCopy(job.traceContext),
  }
}

/** Returns `logs` with `run` appended, keeping the last `RUN_LOGS_KEPT` runs, frozen. */
export function appendRunLog(logs: readonly RunLog[] | undefined, run: RunLog): readonly RunLog[] {
  const kept = logs ? logs.slice(-(RUN_LOGS_KEPT - 1)) : []
  kept.push(frozenCopy(run))
  return Object.freeze(kept)
}

/** A copy of a job with its run logs, as `getJob` returns it. */
export function jobWithLogs(entry: JobEntry): JobRecord {
  return entry.logs ? { ...entry.record, logs: entry.logs } : { ...entry.record }
}

/** Returns `errors` with `error` appended, frozen. */
export function appendError(errors: readonly AttemptError[], error: AttemptError): readonly AttemptError[] {
  return Object.freeze([...errors, frozenCopy(error)])
}

/**
 * A copy of a stored record for a caller: changing its fields cannot change the store, and its
 * JSON values are frozen (shared with the store, so reads stay cheap).
 */
export function copyJobRecord(record: StoredJob): JobRecord {
  return { ...record }
}

/** A copy for a handler: payload, workflow state and metadata are mutable deep copies, as a database would return. */
export function claimedJobRecord(record: StoredJob): JobRecord {
  return {
    ...record,
    payload: mutableCopy(record.payload),
    workflowState: mutableCopy(record.workflowState),
    metadata: mutableCopy(record.metadata),
  }
}
