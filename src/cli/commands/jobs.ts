/**
 * `conveyor retry`, `conveyor cancel`, `conveyor pause`, `conveyor resume` and `conveyor delete`:
 * bulk actions on the jobs a filter selects (ids, a name, queue, kind, states). A filter is required;
 * `--all` says on purpose that every job the action can change is meant (cancel: waiting, paused or
 * running; retry: failed or cancelled; pause: waiting; resume: paused; delete: finished).
 */
import { isJobId } from '../../adapters/postgres/job-id.js'
import { JOB_STATES, type JobState } from '../../core/domain/job.js'
import type { JobFilter } from '../../core/ports/store.js'
import { booleanFlag, type FlagValues, listFlag, type OptionSpec, stringFlag } from '../args.js'
import type { Command } from '../command.js'
import { DATABASE_OPTIONS } from '../database-settings.js'
import { UsageError } from '../errors.js'
import { type JobAction, runJobAction } from '../job-action.js'
import { withQueue } from '../queue-session.js'

const FILTER_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  id: {
    type: 'string',
    multiple: true,
    value: '<id>',
    description:
      'a job id (repeat the flag, or comma-separate, for several); unknown ids are named, exit code 1',
  },
  key: {
    type: 'string',
    value: '<key>',
    description:
      'the job of this name: the one holding this unique key, else its newest finished one (with --kind when two kinds hold it); not found: exit code 1',
  },
  queue: { type: 'string', value: '<name>', description: 'only jobs of this queue' },
  kind: { type: 'string', value: '<kind>', description: 'only jobs of this kind' },
  state: {
    type: 'string',
    multiple: true,
    value: '<state>',
    description: `only jobs in these states (repeat or comma-separate): ${JOB_STATES.join(', ')}`,
  },
}

const JSON_OPTION: OptionSpec = {
  type: 'boolean',
  description:
    'print {"<retried|cancelled|paused|resumed>": n, "notFound": [ids], "leftAlone": [{id, state}]} as JSON',
}

/** The states `cancel` changes: waiting, paused or running. */
const CANCELLABLE: readonly JobState[] = ['scheduled', 'available', 'retryable', 'paused', 'running']
/** The states `pause` changes: waiting. */
const PAUSABLE: readonly JobState[] = ['scheduled', 'available', 'retryable']
/** The states `resume` changes. */
const PAUSED: readonly JobState[] = ['paused']
/** The states `retry` and `delete` change: every state but running. */
const RETRYABLE: readonly JobState[] = JOB_STATES.filter((state) => state !== 'running')
/** The states `delete` takes when no --id, --key or --state chooses: finished ones. */
const FINISHED: readonly JobState[] = ['succeeded', 'failed', 'cancelled']

/**
 * Builds the job filter from the flags, refusing an empty filter without `--all`; `--all` alone
 * (and a filter without `--id` or `--state`) selects the jobs in `defaultStates`.
 */
export function jobFilterFlags(
  values: FlagValues,
  command: string,
  defaultStates: readonly JobState[],
): JobFilter {
  const ids = listFlag(values, 'id')
  const bad = ids.find((id) => !isJobId(id))
  if (bad !== undefined) throw new UsageError(`--id must be a job id (digits), got "${bad}"`, command)
  const states = listFlag(values, 'state')
  for (const state of states) {
    if (!(JOB_STATES as readonly string[]).includes(state)) {
      throw new UsageError(`unknown state "${state}": expected one of ${JOB_STATES.join(', ')}`, command)
    }
  }
  const queue = stringFlag(values, 'queue')
  const kind = stringFlag(values, 'kind')
  const key = stringFlag(values, 'key')
  if (key !== undefined && key.length === 0) {
    throw new UsageError('--key must be a job name: the unique key it was enqueued with', command)
  }
  const all = booleanFlag(values, 'all')
  const narrowed =
    ids.length > 0 || states.length > 0 || queue !== undefined || kind !== undefined || key !== undefined
  if (!narrowed && !all) {
    throw new UsageError(
      `say which jobs: --id, --key, --queue, --kind, --state, or --all for every job`,
      command,
    )
  }
  // Jobs chosen by id or name are acted on in any state the action allows (others are listed).
  const chosen = ids.length > 0 || key !== undefined
  const chosenStates = states.length > 0 ? states : chosen ? undefined : defaultStates
  // 007 and 7 are the same job; each id once.
  const uniqueIds = [...new Set(ids.map((id) => BigInt(id).toString()))]
  return {
    ...(uniqueIds.length > 0 ? { ids: uniqueIds } : {}),
    ...(key !== undefined ? { key } : {}),
    ...(queue !== undefined ? { queue } : {}),
    ...(kind !== undefined ? { kind } : {}),
    ...(chosenStates !== undefined ? { states: chosenStates as JobState[] } : {}),
  }
}

/** Refuses `--state` values the action never changes, saying why. */
function refuseStates(filter: JobFilter, allowed: readonly JobState[], command: string, why: string): void {
  const refused = (filter.states ?? []).filter((state) => !allowed.includes(state))
  if (refused.length > 0) {
    throw new UsageError(`cannot ${command} ${refused.join(' or ')} jobs: ${why}`, command)
  }
}

/** The `retry` command. */
export const retryCommand: Command = {
  name: 'retry',
  summary: 'make failed or cancelled jobs run again now',
  details: [
    'Moves the selected jobs that are not running to `available` (attempts are kept; a job out of\n' +
      'attempts gets one more). Without --id or --state, only failed and cancelled jobs are selected.\n' +
      'A succeeded job runs again only with --force; without it nothing is retried and the exit code is 1.',
    'Exit codes: 0 done (chosen jobs left alone are listed), 1 an --id was not found (the other jobs\n' +
      'were retried) or a succeeded job needs --force, 2 a usage mistake.',
  ],
  options: {
    ...FILTER_OPTIONS,
    all: {
      type: 'boolean',
      description: 'every failed or cancelled job (with --state: every job in those states)',
    },
    force: { type: 'boolean', description: 'also retry succeeded jobs (they run again)' },
    json: JSON_OPTION,
    ...DATABASE_OPTIONS,
  },
  examples: [
    'conveyor retry --id 42 --id 43',
    'conveyor retry --queue mail --kind send-email',
    'conveyor retry --state failed --all',
    'conveyor retry --id 42 --force   # 42 succeeded: run it again',
    'conveyor retry --key nightly-report   # the job of that name (its unique key)',
  ],
  run: (values, context) => {
    const filter = jobFilterFlags(values, 'retry', ['failed', 'cancelled'])
    const force = booleanFlag(values, 'force')
    refuseStates(filter, RETRYABLE, 'retry', 'cancel them first, or wait until they finish')
    if (!force && filter.states?.includes('succeeded')) {
      throw new UsageError(
        'retrying succeeded jobs runs them again: add --force if that is what you mean',
        'retry',
      )
    }
    const action: JobAction = {
      done: 'retried',
      acts: RETRYABLE,
      leftAloneBecause: 'a running job is not retried',
      run: (queue, f) => queue.retryJobs(f),
    }
    const request = { filter, force, json: booleanFlag(values, 'json') }
    return withQueue(values, context, 'retry', (queue) =>
      runJobAction(queue, action, request, context.output),
    )
  },
}

/** The `cancel` command. */
export const cancelCommand: Command = {
  name: 'cancel',
  summary: 'cancel waiting or running jobs',
  details: [
    'Cancels the selected jobs that are waiting (scheduled, available, retryable) or running; running\n' +
      'handlers see their abort signal fire. Jobs that already finished are left alone (and listed when\n' +
      'chosen by --id). Jobs waiting for a cancelled job are cancelled with it.',
    'Exit codes: 0 done, 1 an --id was not found (the other jobs were cancelled), 2 a usage mistake.',
  ],
  options: {
    ...FILTER_OPTIONS,
    all: {
      type: 'boolean',
      description: 'every waiting or running job (required when no other filter is given)',
    },
    json: JSON_OPTION,
    ...DATABASE_OPTIONS,
  },
  examples: [
    'conveyor cancel --id 42',
    'conveyor cancel --key nightly-report --kind report',
    'conveyor cancel --queue reports --state scheduled',
    'conveyor cancel --all --json',
  ],
  run: (values, context) => {
    const filter = jobFilterFlags(values, 'cancel', CANCELLABLE)
    refuseStates(
      filter,
      CANCELLABLE,
      'cancel',
      'only waiting (scheduled, available, retryable), paused or running jobs can be cancelled',
    )
    const action: JobAction = {
      done: 'cancelled',
      acts: CANCELLABLE,
      leftAloneBecause: 'only waiting, paused or running jobs can be cancelled',
      run: (queue, f) => queue.cancelJobs(f),
    }
    const request = { filter, force: false, json: booleanFlag(values, 'json') }
    return withQueue(values, context, 'cancel', (queue) =>
      runJobAction(queue, action, request, context.output),
    )
  },
}

/** The `pause` command. */
export const pauseCommand: Command = {
  name: 'pause',
  summary: 'pause waiting jobs: they are not run until resumed',
  details: [
    'Pauses the selected waiting jobs (scheduled, available, retryable): they become `paused` and no\n' +
      'worker claims them until `conveyor resume`. A paused job keeps its run time, attempts, workflow\n' +
      'state and unique key. --queue selects the jobs of a queue; the queue itself keeps running (to\n' +
      'pause a whole queue, use the admin page or queue.pauseQueue).',
    'Exit codes: 0 done, 1 an --id was not found (the other jobs were paused), 2 a usage mistake.',
  ],
  options: {
    ...FILTER_OPTIONS,
    all: { type: 'boolean', description: 'every waiting job (required when no other filter is given)' },
    json: JSON_OPTION,
    ...DATABASE_OPTIONS,
  },
  examples: ['conveyor pause --id 42', 'conveyor pause --kind send-report --state scheduled'],
  run: (values, context) => {
    const filter = jobFilterFlags(values, 'pause', PAUSABLE)
    refuseStates(
      filter,
      PAUSABLE,
      'pause',
      'only waiting (scheduled, available, retryable) jobs can be paused',
    )
    const action: JobAction = {
      done: 'paused',
      acts: PAUSABLE,
      leftAloneBecause: 'only waiting jobs can be paused',
      run: (queue, f) => queue.pauseJobs(f),
    }
    const request = { filter, force: false, json: booleanFlag(values, 'json') }
    return withQueue(values, context, 'pause', (queue) =>
      runJobAction(queue, action, request, context.output),
    )
  },
}

/** The `resume` command. */
export const resumeCommand: Command = {
  name: 'resume',
  summary: 'resume paused jobs',
  details: [
    'Resumes the selected paused jobs: each is `scheduled` again when its run time is still ahead, else\n' +
      '`available` (workers pick it up at once).',
    'Exit codes: 0 done, 1 an --id was not found (the other jobs were resumed), 2 a usage mistake.',
  ],
  options: {
    ...FILTER_OPTIONS,
    all: { type: 'boolean', description: 'every paused job (required when no other filter is given)' },
    json: JSON_OPTION,
    ...DATABASE_OPTIONS,
  },
  examples: ['conveyor resume --id 42', 'conveyor resume --queue reports'],
  run: (values, context) => {
    const filter = jobFilterFlags(values, 'resume', PAUSED)
    refuseStates(filter, PAUSED, 'resume', 'only paused jobs can be resumed')
    const action: JobAction = {
      done: 'resumed',
      acts: PAUSED,
      leftAloneBecause: 'only paused jobs can be resumed',
      run: (queue, f) => queue.resumeJobs(f),
    }
    const request = { filter, force: false, json: booleanFlag(values, 'json') }
    return withQueue(values, context, 'resume', (queue) =>
      runJobAction(queue, action, request, context.output),
    )
  },
}

/** The `delete` command. */
export const deleteCommand: Command = {
  name: 'delete',
  summary: 'delete jobs that are not running',
  details: [
    'Deletes the selected jobs that are not running (they are gone: no history is kept). Without\n' +
      '--id, --key or --state, only finished jobs (succeeded, failed, cancelled) are selected; name\n' +
      'waiting states with --state to delete waiting jobs. Jobs waiting for a deleted job no longer wait for it.',
    'Exit codes: 0 done (chosen jobs left alone are listed), 1 an --id or --key was not found (the\n' +
      'other jobs were deleted), 2 a usage mistake.',
  ],
  options: {
    ...FILTER_OPTIONS,
    all: { type: 'boolean', description: 'every finished job (with --state: every job in those states)' },
    json: {
      type: 'boolean',
      description: 'print {"deleted": n, "notFound": [ids], "leftAlone": [{id, state}]} as JSON',
    },
    ...DATABASE_OPTIONS,
  },
  examples: [
    'conveyor delete --id 42',
    'conveyor delete --key nightly-report   # the job of that name only',
    'conveyor delete --queue reports --state succeeded',
  ],
  run: (values, context) => {
    const filter = jobFilterFlags(values, 'delete', FINISHED)
    refuseStates(filter, RETRYABLE, 'delete', 'cancel them first, or wait until they finish')
    const action: JobAction = {
      done: 'deleted',
      acts: RETRYABLE,
      leftAloneBecause: 'a running job is not deleted',
      run: (queue, f) => queue.deleteJobs(f),
    }
    const request = { filter, force: true, json: booleanFlag(values, 'json') }
    return withQueue(values, context, 'delete', (queue) =>
      runJobAction(queue, action, request, context.output),
    )
  },
}
