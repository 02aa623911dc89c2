/** Reading and changing schedules, for the HTML pages and the JSON API alike. */
import type { JsonValue } from '../../core/domain/json.js'
import type { ScheduleOptions } from '../../core/ports/queue.js'
import type { MissedTickPolicy, ScheduleRecord } from '../../core/ports/store.js'
import { AdminHttpError } from '../errors.js'
import type { AdminSettings } from '../options.js'
import { requireDefinition } from './definitions.js'

/** Every stored schedule, by name. */
export function listSchedules(settings: Pick<AdminSettings, 'queue'>): Promise<ScheduleRecord[]> {
  return settings.queue.listSchedules()
}

/** One schedule; throws 404 `SCHEDULE_NOT_FOUND`. */
export async function findSchedule(
  settings: Pick<AdminSettings, 'queue'>,
  name: string,
): Promise<ScheduleRecord> {
  const schedule = (await settings.queue.listSchedules()).find((s) => s.name === name)
  if (schedule === undefined) throw scheduleNotFound(name)
  return schedule
}

/** What a schedule is made of, as an operator writes it. */
export interface ScheduleInput {
  readonly expression: string
  readonly kind: string
  readonly payload?: JsonValue
  readonly timezone?: string
  readonly missed?: MissedTickPolicy
  /** First run at or after this time (ISO 8601 text from the API, or a Date / epoch ms). */
  readonly startAt?: string | Date | number
  /** Name of the schedule this one runs after (see `ScheduleOptions.after`). */
  readonly after?: string
  /** Options of each tick's job (queue, priority, maxAttempts, ...). */
  readonly options?: Omit<ScheduleOptions, 'name' | 'timezone' | 'missed'>
}

/**
 * Creates or replaces the schedule `name`; the payload is validated with the kind's definition.
 * Returns the stored schedule and whether it is new.
 */
export async function putSchedule(
  settings: Pick<AdminSettings, 'queue' | 'jobs' | 'unknownKindAdvice'>,
  name: string,
  input: ScheduleInput,
): Promise<{ schedule: ScheduleRecord; created: boolean }> {
  const { queue } = settings
  const definition = requireDefinition(settings, input.kind)
  const existed = (await queue.listSchedules()).some((s) => s.name === name)
  const schedule = await queue.schedule(input.expression, definition, input.payload ?? null, {
    ...input.options,
    name,
    ...(input.timezone !== undefined ? { timezone: input.timezone } : {}),
    ...(input.missed !== undefined ? { missed: input.missed } : {}),
    ...(input.startAt !== undefined
      ? { startAt: typeof input.startAt === 'string' ? Date.parse(input.startAt) : input.startAt }
      : {}),
    ...(input.after !== undefined ? { after: input.after } : {}),
  })
  return { schedule, created: !existed }
}

/** Removes a schedule; throws 404 `SCHEDULE_NOT_FOUND` when there is none of that name. */
export async function deleteSchedule(settings: Pick<AdminSettings, 'queue'>, name: string): Promise<void> {
  if (!(await settings.queue.unschedule(name))) throw scheduleNotFound(name)
}

function scheduleNotFound(name: string): AdminHttpError {
  return new AdminHttpError(404, `There is no schedule named ${JSON.stringify(name)}.`, 'SCHEDULE_NOT_FOUND')
}
