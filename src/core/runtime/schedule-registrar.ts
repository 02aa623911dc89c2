/**
 * The scheduling side (`Scheduler`): validating schedules and storing, replacing and removing them.
 * Firing their ticks is the schedule service's job (maintenance).
 */

import { ENQUEUE_OPTION_KEYS } from '../domain/enqueue-options.js'
import { InvalidArgumentError, InvalidOptionsError } from '../domain/errors.js'
import { isJobDefinition, type JobDefinition, validatePayload } from '../domain/job-definition.js'
import type { JsonValue } from '../domain/json.js'
import { defaultScheduleName } from '../domain/schedules/default-name.js'
import { NOT_FOR_SCHEDULES, scheduleRecordFor } from '../domain/schedules/schedule-record.js'
import { describe, didYouMean, validateName, validateOptionsObject } from '../domain/validation.js'
import type { Clock } from '../ports/clock.js'
import type { ScheduleOptions, Scheduler } from '../ports/queue.js'
import type { JobStore, ScheduleRecord } from '../ports/store.js'

/** The options `schedule` takes: its own, then the enqueue options of the jobs it enqueues. */
const SCHEDULE_OPTION_KEYS: readonly string[] = [
  'name',
  'timezone',
  'missed',
  'startAt',
  'after',
  ...[...ENQUEUE_OPTION_KEYS].filter((k) => !NOT_FOR_SCHEDULES.includes(k)),
]

/** Validates and stores schedules. */
export class ScheduleRegistrar implements Scheduler {
  readonly #store: JobStore
  readonly #clock: Clock

  constructor(deps: { readonly store: JobStore; readonly clock: Clock }) {
    this.#store = deps.store
    this.#clock = deps.clock
  }

  async schedule<P>(
    expression: string,
    job: JobDefinition<P>,
    payload: P,
    options: ScheduleOptions = {},
  ): Promise<ScheduleRecord> {
    if (!isJobDefinition(job))
      throw new InvalidArgumentError(`schedule needs a job made by defineJob(); got ${describe(job)}.`)
    validateOptionsObject(options, 'schedule options', null)
    // Enqueue options a schedule cannot take pass here, to be refused with their own message.
    for (const key of Object.keys(options))
      if (!SCHEDULE_OPTION_KEYS.includes(key) && !ENQUEUE_OPTION_KEYS.has(key))
        throw new InvalidOptionsError(
          `schedule options: unknown option ${JSON.stringify(key)}${didYouMean(key, SCHEDULE_OPTION_KEYS)}. Known options: ${SCHEDULE_OPTION_KEYS.join(', ')}.`,
        )
    if (typeof expression !== 'string') {
      throw new InvalidArgumentError(
        `schedule(expression, ...) needs a string expression; got ${describe(expression)}.`,
      )
    }
    const value = await validatePayload(job, payload)
    const now = this.#clock.now()
    const stored = await this.#store.listSchedules()
    const name =
      options.name === undefined
        ? defaultNameFor(stored, job.kind, expression, value as JsonValue)
        : validateName(options.name, 'schedule name')
    const existing = stored.find((s) => s.name === name)
    const schedule = scheduleRecordFor({ expression, job, payload: value, options, name, now, existing })
    return this.#store.upsertSchedule({ schedule, now })
  }

  async unschedule(name: string): Promise<boolean> {
    return this.#store.deleteSchedule({ name: validateName(name, 'schedule name') })
  }

  listSchedules(): Promise<ScheduleRecord[]> {
    return this.#store.listSchedules()
  }
}

/**
 * The name of a schedule registered without one: `kind:hash` (see `defaultScheduleName`), unless a
 * schedule stored under the kind alone (the default name of earlier versions) has the same kind,
 * expression and payload: that one is kept, so upgrading neither doubles nor restarts it.
 */
function defaultNameFor(
  stored: readonly ScheduleRecord[],
  kind: string,
  expression: string,
  payload: JsonValue,
): string {
  const name = defaultScheduleName(kind, expression, payload)
  const legacy = stored.find((s) => s.name === kind)
  if (
    legacy !== undefined &&
    legacy.kind === kind &&
    legacy.expression === expression.trim() &&
    defaultScheduleName(kind, legacy.expression, legacy.payload) === name
  ) {
    return kind
  }
  return name
}
