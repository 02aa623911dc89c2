import type { ScheduleOptions } from '../../ports/queue.js'
import type { ScheduleJobTemplate, ScheduleRecord, UpsertScheduleParams } from '../../ports/store.js'
import { resolveNewJob, validateEnqueueOptions } from '../enqueue-options.js'
import { InvalidArgumentError, InvalidScheduleError } from '../errors.js'
import type { JobDefinition } from '../job-definition.js'
import type { JsonValue } from '../json.js'
import { describe } from '../validation.js'
import { parseScheduleExpression } from './expression.js'

/**
 * Builds the schedule to store. When a schedule of the same name already has the same expression
 * and time zone, its next run time and anchor are kept, so re-registering schedules at every boot
 * neither skips nor repeats a tick.
 */
export function scheduleRecordFor(input: {
  expression: string
  job: JobDefinition<unknown>
  payload: JsonValue
  options: ScheduleOptions
  name: string
  now: number
  existing: ScheduleRecord | undefined
}): UpsertScheduleParams['schedule'] {
  const { options, now, existing } = input
  if (typeof input.expression !== 'string') {
    throw new InvalidArgumentError(
      `schedule(expression, ...) needs a string expression; got ${describe(input.expression)}.`,
    )
  }
  const { name: _n, timezone, missed, ...jobOptions } = options
  for (const key of ['runAt', 'delayMs', 'uniqueKey', 'dependsOn', 'tx']) {
    if (key in jobOptions)
      throw new InvalidArgumentError(
        `schedule option ${key} is not supported: each tick sets its own run time, and the schedule enqueues outside any transaction.`,
      )
  }
  if (missed !== undefined && missed !== 'runOnce' && missed !== 'skip') {
    throw new InvalidArgumentError(
      `schedule option missed must be 'runOnce' or 'skip'; got ${describe(missed)}.`,
    )
  }
  const expression = parseScheduleExpression(input.expression, { timezone })
  const opts = validateEnqueueOptions(jobOptions)
  const {
    kind: _k,
    payload: _p,
    runAt: _r,
    scheduleName: _s,
    scheduleTick: _t,
    ...jobTemplate
  } = resolveNewJob(input.job, input.payload, opts, now)
  const template: ScheduleJobTemplate = jobTemplate
  const tz = expression.timezone
  const same = existing && existing.expression === expression.source && (existing.timezone ?? null) === tz
  const nextRunAt = same ? existing.nextRunAt : expression.nextTick(now - 1, now)
  if (!same && nextRunAt === null) {
    throw new InvalidScheduleError(
      expression.source,
      'its only run time is in the past; use enqueue() to run a job now',
    )
  }
  return {
    name: input.name,
    expression: expression.source,
    timezone: tz,
    kind: input.job.kind,
    payload: input.payload,
    jobTemplate: template,
    nextRunAt,
    missedPolicy: missed ?? 'runOnce',
  }
}
