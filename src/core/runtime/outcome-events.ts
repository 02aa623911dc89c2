/**
 * The events of an attempt's outcome (`succeeded`, `failed`, `retried`, `discarded`, `cancelled`,
 * `snoozed`, `groupReleased`), emitted once its completion is written: by the job runner after a
 * write of its own (drain, a transactional run), by the completer's `onApplied` after a batch
 * (workers). A completion the store skipped (its job was rescued or cancelled meanwhile) or that
 * could not be written emits none, so a listener never hears of an outcome the store does not hold.
 */

import type { EventBus } from '../domain/events.js'
import type { JobRecord } from '../domain/job.js'
import type { Clock } from '../ports/clock.js'
import type { Completion, RunAgainAt } from '../ports/store.js'

/** Emits the events of `job`'s written completion `c` (nothing for `released`). */
export function emitOutcome(
  events: EventBus,
  clock: Clock,
  job: JobRecord,
  c: Completion,
  durationMs: number,
): void {
  switch (c.outcome) {
    case 'succeeded':
      if (events.has('succeeded')) events.emit('succeeded', { job, durationMs })
      break
    case 'retry':
      events.emit('failed', { job, error: c.error, willRetry: true, durationMs })
      events.emit('retried', { job, runAt: runAtOf(clock, c) })
      break
    case 'failed':
      events.emit('failed', { job, error: c.error, willRetry: false, durationMs })
      events.emit('discarded', { job, error: c.error })
      break
    case 'cancelled':
      events.emit('cancelled', { job, reason: c.error?.message ?? 'cancelled' })
      break
    case 'snoozed':
      events.emit('snoozed', { job, runAt: runAtOf(clock, c) })
      break
    case 'released':
      return
  }
  if (job.groupKey !== null && events.has('groupReleased')) {
    const final = c.outcome === 'succeeded' || c.outcome === 'failed' || c.outcome === 'cancelled'
    if (final || job.groupMode === 'release')
      events.emit('groupReleased', { job, groupKey: job.groupKey, outcome: c.outcome })
  }
}

/** The run time a retry or snooze lands on: its `runAt`, or its delay after now on the queue's clock (an estimate of the store's). */
function runAtOf(clock: Clock, c: RunAgainAt): number {
  return c.runAt ?? clock.now() + c.delayMs
}
