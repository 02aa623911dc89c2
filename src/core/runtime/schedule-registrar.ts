/**
 * The scheduling side (`Scheduler`): validating schedules and storing, replacing and removing them.
 * Firing their ticks is the schedule service's job (maintenance).
 */

import { InvalidArgumentError } from '../domain/errors.js'
import { isJobDefinition, type JobDefinition, validatePayload } from '../domain/job-definition.js'
import { scheduleRecordFor } from '../domain/schedules/schedule-record.js'
import { describe, validateName, validateOptionsObject } from '../domain/validation.js'
import type { Clock } from '../ports/clock.js'
import type { ScheduleOptions, Scheduler } from '../ports/queue.js'
import type { JobStore, ScheduleRecord } from '../ports/store.js'

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
    const value = await validatePayload(job, payload)
    const now = this.#clock.now()
    const name = options.name === undefined ? job.kind : validateName(options.name, 'schedule name')
    const existing = (await this.#store.listSchedules()).find((s) => s.name === name)
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
