/**
 * Which tick of a due schedule to enqueue, and where its next run time moves: catching up on missed
 * ticks under the schedule's `missed` policy, late ticks within the tolerance fired in turn. Pure:
 * time is passed in.
 */
import type { NewJob, ScheduleRecord } from '../../ports/store.js'
import { parseScheduleExpression } from './expression.js'

/** Bound on how many missed ticks are walked through when catching up. */
const MAX_CATCH_UP_STEPS = 100_000

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

/**
 * The tick a schedule that runs `after` another owes, or null: the other schedule's latest
 * successful tick plus this schedule's `@after` delay, when that success is new to this schedule
 * (later than its last tick minus the delay) and not older than this schedule's creation. A failed
 * run of the other schedule moves nothing; a removed one (`previous` undefined) fires nothing.
 */
export function chainedTick(schedule: ScheduleRecord, previous: ScheduleRecord | undefined): number | null {
  const success = previous?.lastSuccessAt ?? null
  if (success === null || success < schedule.createdAt) return null
  const expression = parseScheduleExpression(schedule.expression, {
    timezone: schedule.timezone ?? undefined,
  })
  const tick = expression.nextTick(success, success)
  if (tick === null) return null
  if (schedule.lastTickAt !== null && tick <= schedule.lastTickAt) return null
  return tick
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
