/**
 * Orphan checks: due waiting jobs (and schedules) of a queue and kind that no live process serves
 * (registered the kind and runs a worker for the queue) would wait forever, silently. A check reports them on `orphaned` and `scheduleOrphaned`, and fails those past
 * `orphans.failAfterMs` when that is set (each reported on `discarded`). A check with nobody
 * listening and no failing to do asks the store nothing.
 */
import type { EventBus } from '../domain/events.js'
import type { JobStore, OrphanParams } from '../ports/store.js'

/** The orphan checks' slice of the queue options. */
export interface OrphanSettings {
  /** How often a started queue checks. */
  readonly intervalMs: number
  /** Fail orphans whose queue and kind went unserved this long; null never fails them. */
  readonly failAfterMs: number | null
}

/**
 * Runs one orphan check: fails the orphans past `failAfterMs` in batches of `batchSize` (when set),
 * then reports the rest to the listeners of `orphaned` and `scheduleOrphaned` (when there are any).
 * Returns the number of jobs failed.
 */
export async function checkOrphans(
  store: JobStore,
  events: EventBus,
  params: OrphanParams,
  failAfterMs: number | null,
  batchSize: number,
): Promise<number> {
  let failed = 0
  if (failAfterMs !== null) {
    for (;;) {
      const jobs = await store.failOrphans({ ...params, failAfterMs, limit: batchSize })
      for (const job of jobs) {
        const error = job.errors[job.errors.length - 1]!
        events.emit('discarded', { job, error })
      }
      failed += jobs.length
      if (jobs.length < batchSize) break
    }
  }
  await reportOrphans(store, events, params)
  return failed
}

/** Emits `orphaned` per queue and kind and `scheduleOrphaned` per schedule, if anyone listens. */
export async function reportOrphans(store: JobStore, events: EventBus, params: OrphanParams): Promise<void> {
  if (!events.has('orphaned') && !events.has('scheduleOrphaned')) return
  const report = await store.findOrphans(params)
  for (const group of report.jobs) events.emit('orphaned', group)
  for (const schedule of report.schedules) events.emit('scheduleOrphaned', { schedule })
}
