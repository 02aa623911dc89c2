/**
 * Rescue: jobs left `running` by a process that stopped heartbeating go back to the queue (or fail
 * when out of attempts), in bounded batches; each rescued job is reported on the `rescued` event.
 */
import type { EventBus } from '../domain/events.js'
import type { JobStore } from '../ports/store.js'

/**
 * Rescues the jobs of processes silent for more than `staleAfterMs`, `batchSize` at a time, until a
 * batch comes back short; returns the count. `now` undefined: the store's own time judges staleness
 * (a heartbeat written on that same time), so hosts whose clocks differ never rescue each other's
 * live jobs.
 */
export async function rescueStaleJobs(
  store: JobStore,
  events: EventBus,
  staleAfterMs: number,
  now: number | undefined,
  batchSize: number,
): Promise<number> {
  let rescued = 0
  for (;;) {
    const jobs = await store.rescueJobs({ now, staleAfterMs, limit: batchSize })
    for (const job of jobs) events.emit('rescued', { jobId: job.id, job })
    rescued += jobs.length
    if (jobs.length < batchSize) return rescued
  }
}
