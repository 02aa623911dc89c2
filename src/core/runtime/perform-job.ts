/**
 * `performJob`: runs the registered handler of a kind once on a payload, as a worker would (same
 * validation, context and outcome), without storing a job. For unit tests of handlers.
 */
import type { EnqueueOptions } from '../domain/enqueue-options.js'
import { backoffFunctionOf, validateEnqueueOptions } from '../domain/enqueue-options.js'
import { UnknownJobKindError } from '../domain/errors.js'
import type { JobRecord } from '../domain/job.js'
import { isJobDefinition, type JobDefinition } from '../domain/job-definition.js'
import { describe, validateOptionalInt } from '../domain/validation.js'
import type { AttemptOutcome } from '../ports/queue.js'
import { AbortHandle } from './abort-handle.js'
import type { JobEnqueuer } from './enqueuer.js'
import { type ExecutorDeps, runAttempt } from './executor.js'
import type { HandlerRegistry } from './handler-registry.js'

/** What `performJob` works with. */
export interface PerformJobDeps {
  readonly registry: HandlerRegistry
  /** Validates the job and builds its row, as an enqueue would. */
  readonly enqueuer: JobEnqueuer
  readonly executor: ExecutorDeps
  /** The `attemptedBy` of the job record the handler sees. */
  readonly attemptedBy: string
}

/** Runs the handler registered for `job` once on `payload`; returns the attempt's outcome. */
export async function performJob<P>(
  deps: PerformJobDeps,
  job: JobDefinition<P>,
  payload: P,
  options: Omit<EnqueueOptions, 'tx'> & { attempt?: number } = {},
): Promise<AttemptOutcome> {
  const { attempt, ...rest } = options
  const registration = isJobDefinition(job) ? deps.registry.get(job.kind) : undefined
  if (!registration)
    throw new UnknownJobKindError(
      isJobDefinition(job) ? job.kind : String(describe(job)),
      'Register it with queue.register(job, handler) first.',
    )
  const opts = validateEnqueueOptions(rest)
  const row = await deps.enqueuer.prepare(job, payload, opts)
  const now = deps.executor.clock.now()
  const runNumber = validateOptionalInt(attempt, 'attempt', 1, row.maxAttempts) ?? 1
  const record: JobRecord = {
    ...row,
    id: '0',
    state: 'running',
    createdAt: now,
    attempt: runNumber,
    runs: runNumber,
    errors: [],
    attemptedAt: now,
    attemptedBy: deps.attemptedBy,
    finishedAt: null,
  }
  const result = await runAttempt(deps.executor, {
    job: record,
    handler: registration.handler,
    backoffFn: backoffFunctionOf(registration.definition),
    schedule: null,
    abort: new AbortHandle(),
  })
  return result.outcome
}
