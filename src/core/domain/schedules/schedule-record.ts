import type { ScheduleOptions } from '../../ports/queue.js'
import type { ScheduleJobTemplate, ScheduleRecord, UpsertScheduleParams } from '../../ports/store.js'
import { resolveNewJob, validateEnqueueOptions } from '../enqueue-options.js'
import { InvalidArgumentError, InvalidScheduleError } from '../errors.js'
import type { JobDefinition } from '../job-definition.js'
import type { JsonValue } from '../json.js'
import { describe, validateName, validateOptionalTime } from '../validation.js'
import { parseScheduleExpression, type ScheduleExpression } from './expression.js'

/** Enqueue options a schedule cannot take: each tick sets its run time, and it enqueues outside any transaction. */
export const NOT_FOR_SCHEDULES: readonly string[] = ['runAt', 'delayMs', 'uniqueKey', 'dependsOn', 'tx']

/**
 * Builds the schedule to store. When a schedule of the same name already has the same expression,
 * time zone, start and predecessor, its next run time is kept, so re-registering schedules at every
 * boot neither skips nor repeats a tick. A one-off `@at` in the past is due at once (`now`).
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
  const { name: _n, timezone, missed, startAt: startAtInput, after: afterInput, ...jobOptions } = options
  for (const key of NOT_FOR_SCHEDULES) {
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
  const startAt = validateOptionalTime(startAtInput, 'schedule option startAt') ?? null
  if (startAt !== null && expression.type === 'at') {
    throw new InvalidArgumentError(
      'schedule option startAt does not apply to @at, which names its own instant; drop startAt or use @every/cron.',
    )
  }
  const after = afterInput === undefined ? null : validateName(afterInput, 'schedule option after')
  if (after !== null) {
    if (after === input.name) {
      throw new InvalidArgumentError(
        `schedule option after names the schedule itself (${JSON.stringify(after)}).`,
      )
    }
    if (expression.type !== 'after' || startAt !== null) {
      throw new InvalidArgumentError(
        `a schedule with option after runs when ${JSON.stringify(after)} succeeds: write its expression as the delay, "@after <interval>" (e.g. "@after 1 minute"), without startAt; got ${JSON.stringify(expression.source)}.`,
      )
    }
  }
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
  const same =
    existing &&
    existing.expression === expression.source &&
    (existing.timezone ?? null) === tz &&
    (existing.startAt ?? null) === startAt &&
    (existing.after ?? null) === after
  const nextRunAt = same ? existing.nextRunAt : after !== null ? null : firstTick(expression, now, startAt)
  if (!same && after === null && nextRunAt === null) {
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
    startAt,
    after,
  }
}

/**
 * The first tick of a new schedule: after `now`, and not before `startAt` (`@every` counts from
 * `startAt`, whose own instant is its first tick). A past `@at` is due at once.
 */
function firstTick(expression: ScheduleExpression, now: number, startAt: number | null): number | null {
  if (startAt !== null && startAt > now) {
    // `@every` ticks at startAt + k intervals from k = 0; cron at its first tick from startAt on;
    // `@after` one interval after startAt.
    return expression.type === 'every' ? startAt : expression.nextTick(startAt - 1, startAt)
  }
  const tick = expression.nextTick(now - 1, now)
  if (tick === null && expression.type === 'at') return now
  return tick
}

/**
 * The schedule `existing` with a new expression (`updateJob(id, { expression })`): the same checks
 * and first tick as `schedule(expression, job, payload, { name, ... })` with every other argument as
 * stored (time zone, start, predecessor, payload, job options). An unchanged expression keeps the
 * next run time.
 */
export function scheduleWithExpression(
  existing: ScheduleRecord,
  input: string,
  now: number,
): UpsertScheduleParams['schedule'] {
  const expression = parseScheduleExpression(input, { timezone: existing.timezone ?? undefined })
  const { startAt, after } = existing
  if (startAt !== null && expression.type === 'at') {
    throw new InvalidArgumentError(
      `schedule ${JSON.stringify(existing.name)} has a startAt, which does not apply to @at; use @every or cron, or register the schedule again without startAt.`,
    )
  }
  if (after !== null && expression.type !== 'after') {
    throw new InvalidArgumentError(
      `schedule ${JSON.stringify(existing.name)} runs after ${JSON.stringify(after)}: its expression is the delay, "@after <interval>" (e.g. "@after 1 minute"); got ${JSON.stringify(expression.source)}.`,
    )
  }
  const same = existing.expression === expression.source
  const nextRunAt = same ? existing.nextRunAt : after !== null ? null : firstTick(expression, now, startAt)
  if (!same && after === null && nextRunAt === null) {
    throw new InvalidScheduleError(
      expression.source,
      'its only run time is in the past; use enqueue() to run a job now',
    )
  }
  return {
    name: existing.name,
    expression: expression.source,
    timezone: existing.timezone,
    kind: existing.kind,
    payload: existing.payload,
    jobTemplate: existing.jobTemplate,
    nextRunAt,
    missedPolicy: existing.missedPolicy,
    startAt,
    after,
  }
}
