/**
 * Fires due schedule ticks. Any number of processes may run it at once: each tick is fired by a
 * compare-and-set on the schedule's next run time plus a unique (schedule, tick) key on jobs, so a
 * tick is enqueued exactly once, and a restart neither loses nor doubles one.
 */

import type { EventBus } from '../domain/events.js'
import { parseScheduleExpression } from '../domain/schedules/expression.js'
import type { Clock, TimerHandle } from '../ports/clock.js'
import type { JobStore, NewJob, ScheduleRecord } from '../ports/store.js'

/** Bound on how many missed ticks are walked through when catching up. */
const MAX_CATCH_UP_STEPS = 100_000

/** Bound on the late (within tolerance) ticks of one schedule fired in one pass; the rest wait a pass. */
const MAX_TICKS_PER_PASS = 1000

/** The decision for one due schedule. */
export interface TickPlan {
  /** The tick to enqueue, or null to skip. */
  readonly tick: number | null
  /** Where the schedule's next run time moves. */
  readonly nextRunAt: number | null
}

/** Decides which tick of a due schedule to enqueue and where its next run time goes. */
export function planTick(schedule: ScheduleRecord, now: number, missedToleranceMs: number): TickPlan {
  const due = schedule.nextRunAt
  if (due === null || due > now) return { tick: null, nextRunAt: due }
  const expression = parseScheduleExpression(schedule.expression, {
    timezone: schedule.timezone ?? undefined,
  })
  // One-off expressions fire once; recurring ones step from the tick just fired (for `@every`, the
  // tick itself is the anchor, so intervals stay aligned across restarts).
  const step = (from: number) => (expression.recurring ? expression.nextTick(from, from) : null)
  // A tick late by no more than the tolerance is on time, not missed: fire it even when later ticks
  // are due too (the pass came late: a busy process, or passes drifting against a short interval);
  // the caller fires those in turn. Only ticks older than the tolerance are missed ticks.
  if (now - due <= missedToleranceMs) return { tick: due, nextRunAt: step(due) }
  let latest = due
  let next = step(due)
  for (let i = 0; next !== null && next <= now && i < MAX_CATCH_UP_STEPS; i++) {
    latest = next
    next = step(next)
  }
  if (next !== null && next <= now) next = expression.nextTick(now, latest)
  const missed = now - latest > missedToleranceMs
  const tick = schedule.missedPolicy === 'skip' && missed ? null : latest
  return { tick, nextRunAt: next }
}

/** Builds the job of one tick from the schedule's template. */
export function tickJob(schedule: ScheduleRecord, tick: number): NewJob {
  return {
    ...schedule.jobTemplate,
    kind: schedule.kind,
    payload: schedule.payload,
    runAt: tick,
    scheduleName: schedule.name,
    scheduleTick: tick,
  }
}

/** Fires every due schedule once at `now`; returns the number of jobs enqueued. */
export async function fireDueSchedules(
  store: JobStore,
  events: EventBus,
  now: number,
  missedToleranceMs: number,
): Promise<number> {
  let fired = 0
  for (const due of await store.dueSchedules({ now })) {
    let schedule = due
    for (let i = 0; i < MAX_TICKS_PER_PASS && schedule.nextRunAt !== null; i++) {
      const plan = planTick(schedule, now, missedToleranceMs)
      const job = await store.fireScheduleTick({
        name: schedule.name,
        expectedNextRunAt: schedule.nextRunAt,
        nextRunAt: plan.nextRunAt,
        job: plan.tick === null ? null : tickJob(schedule, plan.tick),
        now,
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

  constructor(deps: {
    store: JobStore
    clock: Clock
    events: EventBus
    intervalMs: number
    missedToleranceMs: number
  }) {
    this.#store = deps.store
    this.#clock = deps.clock
    this.#events = deps.events
    this.#intervalMs = deps.intervalMs
    this.#toleranceMs = deps.missedToleranceMs
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
        await fireDueSchedules(this.#store, this.#events, this.#clock.now(), this.#toleranceMs)
      } catch (error) {
        this.#events.emit('error', { error, during: 'schedule' })
      }
    })().finally(() => {
      this.#running = null
      if (!this.#stopped) this.#timer = this.#clock.setTimeout(() => this.#pass(), this.#intervalMs)
    })
  }
}
