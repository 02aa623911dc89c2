import type { FireTickParams, ScheduleRecord, UpsertScheduleParams } from '../../core/ports/store.js'
import { frozenCopy } from './frozen-json.js'

const byName = (a: ScheduleRecord, b: ScheduleRecord): number =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0

/** The memory store's schedules by name; records are frozen and replaced on every change. */
export class ScheduleTable {
  readonly #schedules = new Map<string, ScheduleRecord>()

  /** The schedule with this name, if any. */
  get(name: string): ScheduleRecord | undefined {
    return this.#schedules.get(name)
  }

  /**
   * Creates or replaces a schedule, keeping the tick history and creation time of an existing one,
   * and its next run time when the expression, time zone, start and predecessor are unchanged (a process re-registering
   * at boot may hold a copy read before other processes fired ticks).
   */
  upsert({ schedule, now }: UpsertScheduleParams & { readonly now: number }): ScheduleRecord {
    const existing = this.#schedules.get(schedule.name)
    const startAt = schedule.startAt ?? null
    const after = schedule.after ?? null
    const sameTimes =
      existing !== undefined &&
      existing.expression === schedule.expression &&
      existing.timezone === schedule.timezone &&
      (existing.startAt ?? null) === startAt &&
      (existing.after ?? null) === after
    const record: ScheduleRecord = frozenCopy({
      ...schedule,
      startAt,
      after,
      nextRunAt: sameTimes ? existing.nextRunAt : schedule.nextRunAt,
      lastTickAt: existing?.lastTickAt ?? null,
      lastSuccessAt: existing?.lastSuccessAt ?? null,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    })
    this.#schedules.set(record.name, record)
    return record
  }

  /** Deletes a schedule; returns whether it existed. */
  delete(name: string): boolean {
    return this.#schedules.delete(name)
  }

  /** Every schedule, by name. */
  list(): ScheduleRecord[] {
    return [...this.#schedules.values()].sort(byName)
  }

  /** Schedules with a next tick at or before `now`, and those that run after another, by name. */
  due(now: number): ScheduleRecord[] {
    return this.list().filter(
      (s) => (s.nextRunAt !== null && s.nextRunAt <= now) || (s.after ?? null) !== null,
    )
  }

  /**
   * Compare-and-set: when the schedule's `nextRunAt` still equals `expectedNextRunAt`, moves it to
   * `nextRunAt` (and `lastTickAt` to the job's tick) and returns true; otherwise changes nothing.
   */
  advance(params: FireTickParams): boolean {
    const schedule = this.#schedules.get(params.name)
    if (!schedule || schedule.nextRunAt !== params.expectedNextRunAt) return false
    const lastTickAt = params.job ? (params.job.scheduleTick ?? schedule.lastTickAt) : schedule.lastTickAt
    this.#replace(schedule, { nextRunAt: params.nextRunAt, lastTickAt, updatedAt: params.now })
    return true
  }

  /** Records that the job for `tick` succeeded: `lastSuccessAt` only moves forward. */
  recordSuccess(name: string, tick: number): void {
    const schedule = this.#schedules.get(name)
    if (!schedule || (schedule.lastSuccessAt !== null && schedule.lastSuccessAt >= tick)) return
    this.#replace(schedule, { lastSuccessAt: tick })
  }

  /** Forgets every schedule. */
  clear(): void {
    this.#schedules.clear()
  }

  #replace(schedule: ScheduleRecord, changes: Partial<ScheduleRecord>): void {
    this.#schedules.set(schedule.name, Object.freeze({ ...schedule, ...changes }))
  }
}
