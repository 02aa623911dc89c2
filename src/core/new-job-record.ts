import type { JobRecord, JobState } from './job.js'
import type { NewJob } from './store.js'

/**
 * The record of a job just stored from `job`: the fields every adapter derives the same way
 * (no attempts or errors yet; a job stored `cancelled` because a dependency ended badly is finished).
 */
export function newJobRecord(id: string, job: NewJob, state: JobState, now: number): JobRecord {
  return {
    ...job,
    id,
    state,
    createdAt: now,
    attempt: 0,
    errors: [],
    attemptedAt: null,
    attemptedBy: null,
    finishedAt: state === 'cancelled' ? now : null,
  }
}
