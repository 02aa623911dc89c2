import type { AttemptError } from '../../core/domain/job.js'
import type { Completion, RunAgainAt } from '../../core/ports/store.js'
import { frozenCopy } from './frozen-json.js'
import { appendError, type StoredJob } from './job-record.js'

/**
 * The changes one attempt outcome makes to a running job (see `JobStore.completeJobs`): `retry`
 * -> retryable at run-at, `failed`/`cancelled` -> finished, `snoozed` -> scheduled and `released`
 * -> available without counting the attempt. A given `workflowState` (even null) replaces the stored one,
 * and a `bufferWaitMs` moves `attemptedAt` from the claim to the handler's start.
 */
export function completionChanges(job: StoredJob, c: Completion, now: number): Partial<StoredJob> {
  const changes = outcomeChanges(job, c, now)
  // The handler started this long after the claim (see `Completion.bufferWaitMs`).
  const waited = c.bufferWaitMs ?? 0
  return waited > 0 && job.attemptedAt !== null
    ? { ...changes, attemptedAt: job.attemptedAt + waited }
    : changes
}

function outcomeChanges(job: StoredJob, c: Completion, now: number): Partial<StoredJob> {
  const state = 'workflowState' in c ? { workflowState: frozenCopy(c.workflowState ?? null) } : {}
  switch (c.outcome) {
    case 'succeeded':
      return { ...state, state: 'succeeded', finishedAt: now }
    case 'retry':
      return {
        ...state,
        state: 'retryable',
        runAt: runAgainAt(c, now),
        errors: appendError(job.errors, c.error),
      }
    case 'failed':
      return { ...state, state: 'failed', finishedAt: now, errors: appendError(job.errors, c.error) }
    case 'cancelled':
      return {
        ...state,
        state: 'cancelled',
        finishedAt: now,
        errors: c.error ? appendError(job.errors, c.error) : job.errors,
      }
    case 'snoozed':
      return { ...state, state: 'scheduled', runAt: runAgainAt(c, now), attempt: job.attempt - 1 }
    case 'released':
      return { state: 'available', attempt: job.attempt - 1, runs: job.runs - 1 }
  }
}

/** When a retried or snoozed job is due again: its `runAt`, or `delayMs` after the store's time of the write. */
function runAgainAt(c: RunAgainAt, now: number): number {
  return c.runAt ?? now + c.delayMs
}

/** The error recorded for an attempt whose worker process stopped heartbeating. */
export function workerDiedError(attempt: number, at: number, processId: string): AttemptError {
  return {
    attempt,
    at,
    name: 'WorkerDied',
    message: `The worker process ${JSON.stringify(processId)} stopped sending heartbeats while running this job; it was returned to the queue.`,
  }
}

/** The error recorded for an attempt rescued once its timeout plus `marginMs` had passed (see `JobStore.rescueJobs`). */
export function rescuedTimeoutError(
  attempt: number,
  at: number,
  timeoutMs: number,
  marginMs: number,
  workerId: string,
): AttemptError {
  return {
    attempt,
    at,
    name: 'JobTimeoutError',
    message: `Job timed out after ${timeoutMs} ms: it was still running ${marginMs} ms past its timeout on worker ${JSON.stringify(workerId)}, which never reported it; it was returned to the queue as a failed attempt.`,
  }
}

/** The error recorded when an orphaned job is failed (`QueueOptions.orphans.failAfterMs`). */
export function orphanedError(
  attempt: number,
  at: number,
  queue: string,
  kind: string,
  failAfterMs: number,
): AttemptError {
  return {
    attempt,
    at,
    name: 'OrphanedJob',
    message: `No live process ran a worker for queue ${JSON.stringify(queue)} with a handler for kind ${JSON.stringify(kind)} for ${failAfterMs} ms (orphans.failAfterMs); register the kind in a process with a worker for that queue, then retry the job.`,
  }
}
