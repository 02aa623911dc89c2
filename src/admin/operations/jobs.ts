/** Reading and changing jobs, for the HTML pages and the JSON API alike. */
import { JobKeyNotFoundError } from '../../core/domain/errors.js'
import { CHANGEABLE_STATES, type JobRecord } from '../../core/domain/job.js'
import type { JsonValue } from '../../core/domain/json.js'
import type { EnqueueManyItem, Queue } from '../../core/ports/queue.js'
import type { JobFilter } from '../../core/ports/store.js'
import type { AdminSettings } from '../options.js'
import { requireDefinition } from './definitions.js'
import { jobNotFound } from './job-actions.js'

/** One page of a job search, newest first. */
export interface JobPage {
  readonly jobs: JobRecord[]
  /** Id to pass as the next page's cursor; null on the last page. */
  readonly nextCursor: string | null
}

/**
 * Lists jobs matching `filter` older than `before` (keyset paging: one extra row tells whether a
 * next page exists; nothing is counted or skipped, so deep pages stay fast on big tables).
 */
export async function searchJobs(
  queue: Queue,
  filter: JobFilter,
  page: { readonly limit: number; readonly before?: string | undefined },
): Promise<JobPage> {
  const rows = await queue.listJobs(filter, {
    limit: page.limit + 1,
    ...(page.before ? { beforeId: page.before } : {}),
  })
  const jobs = rows.slice(0, page.limit)
  const last = jobs[jobs.length - 1]
  return { jobs, nextCursor: rows.length > page.limit && last !== undefined ? last.id : null }
}

/** One job with its errors and logs; throws 404 `JOB_NOT_FOUND`. */
export async function findJob(queue: Queue, id: string): Promise<JobRecord> {
  const job = await queue.getJob(id)
  if (job === null) throw jobNotFound(id)
  return job
}

/**
 * The job a name means (the holder of the unique key, else its newest finished job); throws 404
 * `JOB_KEY_NOT_FOUND` (from the core) when none, 409 `AMBIGUOUS_JOB_KEY` when several kinds hold it
 * and no `kind` is given.
 */
export async function findNamedJob(queue: Queue, key: string, kind: string | undefined): Promise<JobRecord> {
  const job = await queue.getJob({ key, ...(kind !== undefined ? { kind } : {}) })
  if (job === null) throw new JobKeyNotFoundError(key, kind ?? null)
  return job
}

/** The fields of a waiting or paused job an operator may change. */
export interface JobChanges {
  readonly runAt?: number
  readonly priority?: number
  readonly payload?: unknown
  /** New workflow state (null clears it). */
  readonly state?: JsonValue | null
  /** New expression of the schedule that enqueued the job. */
  readonly expression?: string
}

/**
 * Changes a waiting or paused job. A new payload is validated with the kind's definition (see
 * `requireDefinition`); the queue refuses jobs that are not waiting (`JOB_NOT_WAITING`).
 */
export async function updateJob(
  settings: Pick<AdminSettings, 'queue' | 'jobs' | 'unknownKindAdvice'>,
  id: string,
  changes: JobChanges,
): Promise<JobRecord> {
  const { queue } = settings
  const job = await findJob(queue, id)
  // A job that is not waiting is refused by the queue itself, whatever its kind.
  const validate = changes.payload !== undefined && CHANGEABLE_STATES.includes(job.state)
  const options = validate ? { job: requireDefinition(settings, job.kind) } : {}
  return queue.updateJob(id, changes, options)
}

/** A job to enqueue from outside the application (the JSON API). */
export interface NewJobRequest {
  readonly kind: string
  readonly payload: unknown
  readonly options?: EnqueueManyItem['options']
}

/**
 * Enqueues a job by kind, its payload validated with the kind's definition (see
 * `requireDefinition`; 422 `UNKNOWN_JOB_KIND` when there is none). A unique key that matches a
 * waiting or running job answers that job with `duplicate: true`, so a retried request is safe.
 */
export async function enqueueJob(
  settings: Pick<AdminSettings, 'queue' | 'jobs' | 'unknownKindAdvice'>,
  request: NewJobRequest,
): Promise<{ job: JobRecord; duplicate: boolean }> {
  const { queue } = settings
  const definition = requireDefinition(settings, request.kind)
  const result = await queue.enqueue(definition, request.payload, request.options)
  return { job: await findJob(queue, result.id), duplicate: result.duplicate }
}
