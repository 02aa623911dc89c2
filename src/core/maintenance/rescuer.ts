/**
 * Rescue: jobs left `running` by a process that stopped heartbeating go back to the queue (or fail
 * when out of attempts), in bounded batches; each rescued job is reported on the `rescued` event.
 */
import type { EventBus } from '../domain/events.js'
import type { JobStore } from '../ports/store.js'

/**
 * Rescues the jobs of processes silent for more than `staleAfterMs`, and the jobs still running
 * `timeoutMarginMs` past their own timeout (null: none by timeout; see `JobStore.rescueJobs`),
 * `batchSize` at a time, until a batch comes back short; returns the count. `now` undefined: the
 * store's own time judges staleness (a heartbeat written on that same time), so hosts whose clocks
 * differ never rescue each other's live jobs.
 */
export async function rescueStaleJobs(
  store: JobStore,
  events: EventBus,
  staleAfterMs: number,
  now: number | undefined,
  batchSize: number,
  timeoutMarginMs: number | null = null,
): Promise<number> {
  let rescued = 0
  const margin = timeoutMarginMs === null ? {} : { timeoutMarginMs }
  for (;;) {
    const jobs = await store.rescueJobs({ now, staleAfterMs, limit: batchSize, ...margin })
    for (const job of jobs) events.emit('rescued', { jobId: job.id, job })
    rescued += jobs.length
    if (jobs.length < batchSize) return rescued
  }
}
