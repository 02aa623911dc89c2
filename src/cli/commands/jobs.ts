/**
 * `conveyor retry` and `conveyor cancel`: bulk actions on the jobs a filter selects (ids, queue,
 * kind, states). A filter is required; `--all` says on purpose that every job is meant.
 */
import { isJobId } from '../../adapters/postgres/job-id.js'
import { JOB_STATES, type JobState } from '../../core/domain/job.js'
import type { JobFilter } from '../../core/ports/store.js'
import { booleanFlag, type FlagValues, listFlag, type OptionSpec, stringFlag } from '../args.js'
import type { Command } from '../command.js'
import { DATABASE_OPTIONS } from '../database-settings.js'
import { UsageError } from '../errors.js'
import { formatCount } from '../progress.js'
import { withQueue } from '../queue-session.js'

const FILTER_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  id: {
    type: 'string',
    multiple: true,
    value: '<id>',
    description: 'a job id (repeat the flag for several)',
  },
  queue: { type: 'string', value: '<name>', description: 'only jobs of this queue' },
  kind: { type: 'string', value: '<kind>', description: 'only jobs of this kind' },
  state: {
    type: 'string',
    multiple: true,
    value: '<state>',
    description: `only jobs in these states (repeat or comma-separate): ${JOB_STATES.join(', ')}`,
  },
  all: { type: 'boolean', description: 'select every job (required when no other filter is given)' },
}

/** Builds the job filter from the flags, refusing an empty filter without `--all`. */
export function jobFilterFlags(
  values: FlagValues,
  command: string,
  defaultStates?: readonly JobState[],
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
  const all = booleanFlag(values, 'all')
  const narrowed = ids.length > 0 || states.length > 0 || queue !== undefined || kind !== undefined
  if (!narrowed && !all) {
    throw new UsageError(`say which jobs: --id, --queue, --kind, --state, or --all for every job`, command)
  }
  const chosenStates = states.length > 0 ? states : ids.length === 0 ? defaultStates : undefined
  return {
    ...(ids.length > 0 ? { ids } : {}),
    ...(queue !== undefined ? { queue } : {}),
    ...(kind !== undefined ? { kind } : {}),
    ...(chosenStates !== undefined ? { states: chosenStates as JobState[] } : {}),
  }
}

/** The `retry` command. */
export const retryCommand: Command = {
  name: 'retry',
  summary: 'make failed or cancelled jobs run again now',
  details: [
    'Moves the selected jobs that are not running to `available` (attempts are kept; a job out of\n' +
      'attempts gets one more). Without --id or --state, only failed and cancelled jobs are selected.',
  ],
  options: { ...FILTER_OPTIONS, ...DATABASE_OPTIONS },
  examples: [
    'conveyor retry --id 42 --id 43',
    'conveyor retry --queue mail --kind send-email',
    'conveyor retry --state failed --all',
  ],
  run: (values, context) => {
    const filter = jobFilterFlags(values, 'retry', ['failed', 'cancelled'])
    return withQueue(values, context, 'retry', async (queue) => {
      const count = await queue.retryJobs(filter)
      context.output.line(`Retried ${formatCount(count)} job${count === 1 ? '' : 's'}.`)
      return 0
    })
  },
}

/** The `cancel` command. */
export const cancelCommand: Command = {
  name: 'cancel',
  summary: 'cancel waiting or running jobs',
  details: [
    'Cancels the selected jobs that are waiting (scheduled, available, retryable) or running; running\n' +
      'handlers see their abort signal fire. Jobs that already finished are left alone.',
  ],
  options: { ...FILTER_OPTIONS, ...DATABASE_OPTIONS },
  examples: ['conveyor cancel --id 42', 'conveyor cancel --queue reports --state scheduled'],
  run: (values, context) => {
    const filter = jobFilterFlags(values, 'cancel')
    return withQueue(values, context, 'cancel', async (queue) => {
      const count = await queue.cancelJobs(filter)
      context.output.line(`Cancelled ${formatCount(count)} job${count === 1 ? '' : 's'}.`)
      return 0
    })
  },
}
