/**
 * The job actions both faces of the admin perform (the HTML forms and the JSON API): retry, run now,
 * cancel, delete, pause and resume, on one job or on a filtered selection. On a selection, retry
 * touches finished jobs (failed and cancelled unless the filter names states), run-now waiting
 * jobs, cancel waiting, paused or running ones, delete everything matching that is not running,
 * pause waiting jobs and resume paused ones.
 */
import { FINAL_STATES, type JobState, WAITING_STATES } from '../../core/domain/job.js'
import type { Queue } from '../../core/ports/queue.js'
import type { JobFilter } from '../../core/ports/store.js'
import { AdminHttpError } from '../errors.js'
import { isNarrowFilter } from '../filter.js'

/** The bulk (and single-job) actions. */
export const JOB_ACTIONS = ['retry', 'run', 'cancel', 'delete', 'pause', 'resume'] as const

/** One of `JOB_ACTIONS`. */
export type JobAction = (typeof JOB_ACTIONS)[number]

/** Past-tense verbs for messages. */
export const DONE: Readonly<Record<JobAction, string>> = {
  retry: 'Retried',
  run: 'Made available now',
  cancel: 'Cancelled',
  delete: 'Deleted',
  pause: 'Paused',
  resume: 'Resumed',
}

/** Which jobs each action applies to, for messages. */
export const APPLIES_TO: Readonly<Record<JobAction, string>> = {
  retry: 'failed and cancelled jobs, or the finished states the filter names',
  run: 'waiting or paused jobs: scheduled, available, retryable or paused',
  cancel: 'waiting, paused and running jobs',
  delete: 'jobs that are not running',
  pause: 'waiting jobs: scheduled, available or retryable',
  resume: 'paused jobs',
}

/** Why an action left one job as it was. */
export const NOT_APPLICABLE: Readonly<Record<JobAction, string>> = {
  retry: 'it does not exist, is running, or its unique key is held by another waiting job',
  run: 'it does not exist or is neither waiting nor paused',
  cancel: 'it does not exist or has already finished',
  delete: 'it does not exist or is running',
  pause: 'it does not exist or is not waiting',
  resume: 'it does not exist or is not paused',
}

const CANCELLABLE: readonly JobState[] = [...WAITING_STATES, 'paused', 'running']
const RUNNABLE: readonly JobState[] = [...WAITING_STATES, 'paused']

/** Narrows `filter` to the states `action` applies to; null when no state is left. */
export function narrowFilter(action: JobAction, filter: JobFilter): JobFilter | null {
  const keep = (applicable: readonly JobState[], fallback: readonly JobState[] | undefined) => {
    if (filter.states === undefined) return fallback === undefined ? filter : { ...filter, states: fallback }
    const states = filter.states.filter((s) => applicable.includes(s))
    return states.length > 0 ? { ...filter, states } : null
  }
  switch (action) {
    case 'retry':
      return keep(FINAL_STATES, ['failed', 'cancelled'])
    case 'run':
      return keep(RUNNABLE, RUNNABLE)
    case 'cancel':
      return keep(CANCELLABLE, undefined)
    case 'delete':
      return keep(['scheduled', 'available', 'retryable', 'paused', ...FINAL_STATES], undefined)
    case 'pause':
      return keep(WAITING_STATES, WAITING_STATES)
    case 'resume':
      return keep(['paused'], ['paused'])
  }
}

/** Runs `action` over `filter` through the public queue API; returns how many jobs it changed. */
export function applyAction(queue: Queue, action: JobAction, filter: JobFilter): Promise<number> {
  switch (action) {
    case 'retry':
    case 'run':
      return queue.retryJobs(filter)
    case 'cancel':
      return queue.cancelJobs(filter)
    case 'delete':
      return queue.deleteJobs(filter)
    case 'pause':
      return queue.pauseJobs(filter)
    case 'resume':
      return queue.resumeJobs(filter)
  }
}

/** Applies `action` to one job; returns how many jobs changed (0 or 1). */
export function actOnJob(queue: Queue, action: JobAction, id: string): Promise<number> {
  const filter = action === 'run' ? { ids: [id], states: RUNNABLE } : { ids: [id] }
  return applyAction(queue, action, filter)
}

/**
 * Applies `action` to one job and says why when nothing changed: 404 `JOB_NOT_FOUND` when the job
 * does not exist, 409 `JOB_STATE_CONFLICT` when its state does not allow the action.
 */
export async function actOnJobOrExplain(queue: Queue, action: JobAction, id: string): Promise<void> {
  if ((await actOnJob(queue, action, id)) > 0) return
  const job = await queue.getJob(id)
  if (job === null) throw jobNotFound(id)
  throw new AdminHttpError(
    409,
    `Job ${id} was left as it was: ${action} applies to ${APPLIES_TO[action]}, and the job is ${job.state}${action === 'retry' ? ' (or its unique key is held by another waiting job)' : ''}.`,
    'JOB_STATE_CONFLICT',
    { state: job.state },
  )
}

/**
 * Applies `action` to every job `filter` selects, narrowed to the states it applies to. Refuses an
 * empty filter (400 `FILTER_REQUIRED`), so a mistake never touches every job; returns the count.
 */
export async function actOnFilter(queue: Queue, action: JobAction, filter: JobFilter): Promise<number> {
  if (!isNarrowFilter(filter)) {
    throw new AdminHttpError(
      400,
      'A bulk action needs a filter: choose a queue, kind, state or other criterion first.',
      'FILTER_REQUIRED',
    )
  }
  const narrowed = narrowFilter(action, filter)
  return narrowed === null ? 0 : applyAction(queue, action, narrowed)
}

/** The 404 for a job id that does not exist. */
export function jobNotFound(id: string): AdminHttpError {
  return new AdminHttpError(
    404,
    `There is no job ${id} (it may have been deleted or pruned).`,
    'JOB_NOT_FOUND',
  )
}
