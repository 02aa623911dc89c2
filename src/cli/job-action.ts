/**
 * Running `retry`, `cancel`, `pause` or `resume` so that an operator (or a script) can tell what happened: the jobs
 * named by `--id` are looked up first, so ids that do not exist are named (exit code 1, after the
 * others were acted on) and chosen jobs the action leaves alone are listed with their state. A
 * succeeded job is retried only with `--force`: without it, nothing is changed.
 */
import type { PostgresQueue } from '../adapters/postgres/index.js'
import type { JobRecord, JobState } from '../core/domain/job.js'
import type { JobFilter } from '../core/ports/store.js'
import { CliError } from './errors.js'
import type { Output } from './output.js'
import { formatCount } from './progress.js'

/** What one action does and says. */
export interface JobAction {
  /** The key of the count in `--json` output. */
  readonly done: 'retried' | 'cancelled' | 'paused' | 'resumed' | 'deleted'
  /** The states of the jobs the action changes. */
  readonly acts: readonly JobState[]
  /** Why a chosen job in another state is left alone, e.g. `only waiting, paused or running jobs can be cancelled`. */
  readonly leftAloneBecause: string
  /** Runs the action on the queue; resolves to the number of jobs changed. */
  run(queue: PostgresQueue, filter: JobFilter): Promise<number>
}

/** How the command was asked to act. */
export interface ActionRequest {
  readonly filter: JobFilter
  /** Retry succeeded jobs too (they run again). */
  readonly force: boolean
  readonly json: boolean
}

/** A chosen job the action did not change, and its state. */
interface LeftAlone {
  readonly id: string
  readonly state: JobState
  readonly why: string
}

const LOOKUP_CHUNK = 1000

/**
 * Runs `action` on the jobs `request.filter` selects; resolves to the exit code: 1 when an id was
 * not found (the other jobs were still acted on), else 0.
 */
export async function runJobAction(
  queue: PostgresQueue,
  action: JobAction,
  given: ActionRequest,
  output: Output,
): Promise<number> {
  const named = await resolveName(queue, given.filter)
  if (named === null) {
    const { key, kind } = given.filter
    output.error(
      `conveyor: not found: no job${kind !== undefined ? ` of kind ${JSON.stringify(kind)}` : ''} has the unique key ${JSON.stringify(key)}; nothing was done.`,
    )
    return 1
  }
  // The name is one more chosen job: acted on, or listed as left alone, like an --id.
  const { key: _key, ...rest } = given.filter
  const request =
    named === undefined
      ? given
      : { ...given, filter: { ...rest, ids: [...new Set([...(rest.ids ?? []), named])] } }
  const ids = request.filter.ids ?? []
  const found = ids.length > 0 ? await findJobs(queue, ids) : new Map<string, JobRecord>()
  const notFound = ids.filter((id) => !found.has(id))
  const chosen = [...found.values()].filter((job) => matches(job, request.filter))
  if (action.done === 'retried' && !request.force) {
    const succeeded = chosen.filter((job) => job.state === 'succeeded').map((job) => job.id)
    if (succeeded.length > 0) {
      const jobs = succeeded.length === 1 ? `job ${succeeded[0]}` : `jobs ${succeeded.join(', ')}`
      throw new CliError(
        `${jobs} succeeded: retrying runs ${succeeded.length === 1 ? 'it' : 'them'} again; pass --force if that is what you mean (nothing was retried)`,
      )
    }
  }
  const leftAlone: LeftAlone[] = [...found.values()].flatMap((job) => {
    if (!matches(job, request.filter)) {
      return [{ id: job.id, state: job.state, why: 'not selected by --queue, --kind or --state' }]
    }
    return action.acts.includes(job.state)
      ? []
      : [{ id: job.id, state: job.state, why: action.leftAloneBecause }]
  })
  // Without --force, a job that succeeds between the check above and the action is not retried either.
  const filter =
    action.done === 'retried' && !request.force && request.filter.states === undefined
      ? { ...request.filter, states: action.acts.filter((state) => state !== 'succeeded') }
      : request.filter
  const count = await action.run(queue, filter)
  if (request.json) {
    const jobs = leftAlone.map(({ id, state }) => ({ id, state }))
    output.line(JSON.stringify({ [action.done]: count, notFound, leftAlone: jobs }))
  } else {
    const verb = `${action.done.charAt(0).toUpperCase()}${action.done.slice(1)}`
    output.line(`${verb} ${formatCount(count)} job${count === 1 ? '' : 's'}.`)
    for (const job of leftAlone) {
      output.line(`Left alone: job ${job.id} (${job.state}: ${job.why}).`)
    }
  }
  if (notFound.length === 0) return 0
  const of = `${notFound.length} of ${ids.length} id${ids.length === 1 ? '' : 's'}`
  output.error(
    `conveyor: not found: job${notFound.length === 1 ? '' : 's'} ${notFound.join(', ')} (${of}); nothing was done for ${notFound.length === 1 ? 'it' : 'them'}.`,
  )
  return 1
}

/**
 * The id of the job `filter.key` names (within `filter.kind`): undefined without a key, null when no
 * job has it; a key two kinds hold without `--kind` throws the core's `AmbiguousJobKeyError`.
 */
async function resolveName(queue: PostgresQueue, filter: JobFilter): Promise<string | null | undefined> {
  if (filter.key === undefined) return undefined
  const job = await queue.getJob({
    key: filter.key,
    ...(filter.kind !== undefined ? { kind: filter.kind } : {}),
  })
  return job === null ? null : job.id
}

/** The jobs with these ids that exist, by id. */
async function findJobs(queue: PostgresQueue, ids: readonly string[]): Promise<Map<string, JobRecord>> {
  const found = new Map<string, JobRecord>()
  for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) {
    const chunk = ids.slice(i, i + LOOKUP_CHUNK)
    for (const job of await queue.listJobs({ ids: chunk }, { limit: chunk.length })) found.set(job.id, job)
  }
  return found
}

/** True when a job found by id also matches the filter's other criteria (the action selects it). */
function matches(job: JobRecord, filter: JobFilter): boolean {
  return (
    (filter.queue === undefined || job.queue === filter.queue) &&
    (filter.kind === undefined || job.kind === filter.kind) &&
    (filter.states === undefined || filter.states.includes(job.state))
  )
}
