/**
 * Fires due schedule ticks. Any number of processes may run it at once: each tick is fired by a
 * compare-and-set on the schedule's next run time plus a unique (schedule, tick) key on jobs, so a
 * tick is enqueued exactly once, and a restart neither loses nor doubles one.
 */

import type { EventBus } from '../domain/events.js'
import { chainedTick, planTick, tickJob } from '../domain/schedules/tick-plan.js'
import { type Clock, storeNow, type TimerHandle } from '../ports/clock.js'
import type { JobStore, ScheduleRecord } from '../ports/store.js'

/** Bound on the late (within tolerance) ticks of one schedule fired in one pass; the rest wait a pass. */
const MAX_TICKS_PER_PASS = 1000

/**
 * Fires every due schedule once at `now`; returns the number of jobs enqueued. `storeTime` is the
 * `now` given to the store (undefined: the store's own clock decides which schedules are due).
 */
export async function fireDueSchedules(
  store: JobStore,
  events: EventBus,
  now: number,
  missedToleranceMs: number,
  storeTime: number | undefined = now,
): Promise<number> {
  let fired = 0
  const dueOrChained = await store.dueSchedules({ now: storeTime })
  const chained = dueOrChained.filter((s) => s.after !== null)
  if (chained.length > 0) fired += await fireChainedSchedules(store, events, chained, storeTime)
  for (const due of dueOrChained) {
    if (due.after !== null) continue
    let schedule = due
    for (let i = 0; i < MAX_TICKS_PER_PASS && schedule.nextRunAt !== null; i++) {
      const plan = planTick(schedule, now, missedToleranceMs)
      const job = await store.fireScheduleTick({
        name: schedule.name,
        expectedNextRunAt: schedule.nextRunAt,
        nextRunAt: plan.nextRunAt,
        job: plan.tick === null ? null : tickJob(schedule, plan.tick),
        now: storeTime,
      })
      if (!job) break // another process fired it (or the tick was skipped)
      fired++
      events.emit('scheduled', { schedule, job, tick: plan.tick! })
      // The next tick is due too (this pass came late): fire it now, once, by the same compare-and-set.
      if (plan.nextRunAt === null || plan.nextRunAt > now) break
      schedule = { ...schedule, nextRunAt: plan.nextRunAt }
    }
  }
  return fired
}

/**
 * Fires the schedules that run after another: one job per success of the other schedule, at that
 * run's tick plus the delay (see `chainedTick`). The compare-and-set on the unchanged next run time
 * and the unique (schedule, tick) key on jobs make it exactly once across processes.
 */
async function fireChainedSchedules(
  store: JobStore,
  events: EventBus,
  chained: readonly ScheduleRecord[],
  now: number | undefined,
): Promise<number> {
  const byName = new Map((await store.listSchedules()).map((s) => [s.name, s]))
  let fired = 0
  for (const schedule of chained) {
    const tick = chainedTick(schedule, byName.get(schedule.after ?? ''))
    if (tick === null) continue
    const job = await store.fireScheduleTick({
      name: schedule.name,
      expectedNextRunAt: schedule.nextRunAt,
      nextRunAt: schedule.nextRunAt,
      job: tickJob(schedule, tick),
      now,
    })
    if (!job) continue
    fired++
    events.emit('scheduled', { schedule, job, tick })
  }
  return fired
}

/** The schedule service's slice of the queue options. */
export interface ScheduleServiceSettings {
  /** How often due ticks are fired. */
  readonly intervalMs: number
  /** A tick due at most this long ago is late, not missed (see `QueueOptions.scheduler`). */
  readonly missedToleranceMs: number
}

/** Runs `fireDueSchedules` every `intervalMs` of the clock until stopped. */
export class ScheduleService {
  readonly #store: JobStore
  readonly #clock: Clock
  readonly #events: EventBus
  readonly #intervalMs: number
  readonly #toleranceMs: number
  #timer: TimerHandle | null = null
  #running: Promise<void> | null = null
  #stopped = true

  constructor(deps: { store: JobStore; clock: Clock; events: EventBus; settings: ScheduleServiceSettings }) {
    this.#store = deps.store
    this.#clock = deps.clock
    this.#events = deps.events
    this.#intervalMs = deps.settings.intervalMs
    this.#toleranceMs = deps.settings.missedToleranceMs
  }

  /** Starts firing ticks (the first pass runs at once). */
  start(): void {
    if (!this.#stopped) return
    this.#stopped = false
    this.#pass()
  }

  /** Stops; waits for a pass in progress. */
  async stop(): Promise<void> {
    this.#stopped = true
    this.#timer?.cancel()
    this.#timer = null
    await this.#running
  }

  #pass(): void {
    if (this.#stopped || this.#running) return
    this.#running = (async () => {
      await null
      try {
        await fireDueSchedules(
          this.#store,
          this.#events,
          this.#clock.now(),
          this.#toleranceMs,
          storeNow(this.#clock),
        )
      } catch (error) {
        this.#events.emit('error', { error, during: 'schedule' })
      }
    })().finally(() => {
      this.#running = null
      if (!this.#stopped) this.#timer = this.#clock.setTimeout(() => this.#pass(), this.#intervalMs)
    })
  }
}
