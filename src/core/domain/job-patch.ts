/**
 * Checking `updateJob`'s arguments and turning a patch into the changes a store writes: run time as
 * epoch ms, priority in enqueue's range, a payload validated by the job kind's definition, a
 * workflow state that is JSON, and the expression for the job's schedule (a string, parsed later).
 */

import type { JobChanges } from '../ports/store.js'
import { InvalidArgumentError, UnknownJobKindError } from './errors.js'
import { PRIORITY_MAX, PRIORITY_MIN } from './job.js'
import { isJobDefinition, type JobDefinition, validatePayload } from './job-definition.js'
import { type JobRef, validateJobRef } from './job-ref.js'
import { assertJsonValue, type JsonValue } from './json.js'
import { describe, validateOptionalInt, validateOptionalTime, validateOptionsObject } from './validation.js'

const PATCH_KEYS = ['runAt', 'priority', 'payload', 'state', 'expression'] as const
const OPTION_KEYS = ['job'] as const

/** An `updateJob` call whose arguments passed the checks that need no look-up. */
export interface ValidJobPatch {
  /** The job: its canonical id, or its name for the caller to resolve to an id. */
  readonly ref: JobRef
  /** The given fields (absent or `undefined` ones left out); `runAt` in epoch ms. */
  readonly patch: {
    readonly runAt?: number
    readonly priority?: number
    readonly payload?: unknown
    /** The new workflow state (null clears it). */
    readonly state?: JsonValue | null
    /** The new expression of the job's schedule, not yet parsed. */
    readonly expression?: string
  }
  /** `options.job`, when given. */
  readonly job: JobDefinition<unknown> | undefined
}

/** Checks the job reference, patch and options of `updateJob`; throws `InvalidArgumentError` naming the problem. */
export function validateJobPatch(job: unknown, patch: unknown, options: unknown): ValidJobPatch {
  const ref = validateJobRef(job, 'updateJob(job, patch)')
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw new InvalidArgumentError(
      `updateJob(id, patch): patch must be an object such as { runAt, priority, payload, state, expression }; got ${describe(patch)}.`,
    )
  }
  const p = patch as Record<string, unknown>
  for (const key of Object.keys(p)) {
    if (!(PATCH_KEYS as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(
        `updateJob: unknown patch field ${JSON.stringify(key)}. Only ${PATCH_KEYS.join(', ')} of a waiting job can change; for anything else cancel the job and enqueue a new one.`,
      )
    }
  }
  if (PATCH_KEYS.every((key) => p[key] === undefined)) {
    throw new InvalidArgumentError(
      `updateJob needs at least one of ${PATCH_KEYS.join(', ')} in the patch; got ${Object.keys(p).length === 0 ? 'an empty patch' : 'only undefined fields'}.`,
    )
  }
  const valid: {
    runAt?: number
    priority?: number
    payload?: unknown
    state?: JsonValue | null
    expression?: string
  } = {}
  if (p.runAt !== undefined) valid.runAt = validateOptionalTime(p.runAt, 'patch.runAt')
  if (p.priority !== undefined)
    valid.priority = validateOptionalInt(p.priority, 'patch.priority', PRIORITY_MIN, PRIORITY_MAX)
  if (p.payload !== undefined) valid.payload = p.payload
  if (p.state !== undefined) valid.state = validateState(p.state)
  if (p.expression !== undefined) {
    if (typeof p.expression !== 'string' || p.expression.trim() === '') {
      throw new InvalidArgumentError(
        `updateJob: patch.expression must be a schedule expression such as '0 4 * * *' or '@every 1 hour'; got ${describe(p.expression)}.`,
      )
    }
    valid.expression = p.expression
  }
  return { ref, patch: valid, job: validateOptions(options) }
}

/** A workflow state to store: null, or a JSON value (`InvalidPayloadError` naming `patch.state` otherwise). */
function validateState(state: unknown): JsonValue | null {
  if (state !== null) assertJsonValue(state, 'patch.state')
  return state as JsonValue | null
}

function validateOptions(options: unknown): JobDefinition<unknown> | undefined {
  const o = validateOptionsObject(options, 'updateJob options', OPTION_KEYS)
  const job = o.job
  if (job !== undefined && !isJobDefinition(job)) {
    throw new InvalidArgumentError(
      `updateJob: options.job must be a job made by defineJob() (the one the job was enqueued with); got ${describe(job)}.`,
    )
  }
  return job
}

/**
 * The changes to write. A payload (when the patch has one) is validated with `options.job`, which
 * must be of the job's `kind`, or else the definition `definitionOf(kind)` registered here; the
 * caller reads `kind` from the stored job `id` (it is only needed, and must be given, with a payload).
 */
export async function resolveJobChanges(
  valid: ValidJobPatch,
  id: string,
  kind: string | undefined,
  definitionOf: (kind: string) => JobDefinition<unknown> | undefined,
): Promise<JobChanges> {
  const { runAt, priority, payload, state } = valid.patch
  const changes: {
    runAt?: number
    priority?: number
    payload?: JobChanges['payload']
    workflowState?: JsonValue | null
  } = {}
  if (runAt !== undefined) changes.runAt = runAt
  if (priority !== undefined) changes.priority = priority
  if (state !== undefined) changes.workflowState = state
  if (payload !== undefined) {
    if (kind === undefined) throw new TypeError('resolveJobChanges: the job kind is needed with a payload')
    if (valid.job !== undefined && valid.job.kind !== kind) {
      throw new InvalidArgumentError(
        `updateJob: options.job is the definition of ${JSON.stringify(valid.job.kind)}, but job ${JSON.stringify(id)} is of kind ${JSON.stringify(kind)}; pass the definition of ${JSON.stringify(kind)}.`,
      )
    }
    const definition = valid.job ?? definitionOf(kind)
    if (!definition) {
      throw new UnknownJobKindError(
        kind,
        `To change the payload of job ${JSON.stringify(id)}, pass its definition so the payload can be validated: queue.updateJob(id, { payload }, { job }), or register the kind on this queue.`,
      )
    }
    changes.payload = await validatePayload(definition, payload)
  }
  return changes
}
