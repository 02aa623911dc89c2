/**
 * What each bulk action does to a filtered selection: retry touches finished jobs (failed and
 * cancelled unless the filter names states), run-now touches waiting jobs, cancel waiting or running
 * ones, delete everything matching that is not running.
 */
import { FINAL_STATES, type JobState, WAITING_STATES } from '../core/job.js'
import type { Queue } from '../core/ports.js'
import type { JobFilter } from '../core/store.js'

/** The bulk (and single-job) actions. */
export const JOB_ACTIONS = ['retry', 'run', 'cancel', 'delete'] as const

/** One of `JOB_ACTIONS`. */
export type JobAction = (typeof JOB_ACTIONS)[number]

/** Past-tense verbs for flash messages. */
export const DONE: Readonly<Record<JobAction, string>> = {
  retry: 'Retried',
  run: 'Made available now',
  cancel: 'Cancelled',
  delete: 'Deleted',
}

const CANCELLABLE: readonly JobState[] = [...WAITING_STATES, 'running']

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
      return keep(WAITING_STATES, WAITING_STATES)
    case 'cancel':
      return keep(CANCELLABLE, undefined)
    case 'delete':
      return keep(['scheduled', 'available', 'retryable', ...FINAL_STATES], undefined)
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
  }
}
