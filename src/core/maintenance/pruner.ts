/**
 * Pruning: deleting finished jobs past their retention, in bounded batches so no statement holds
 * many rows at once.
 */
import type { EventBus } from '../domain/events.js'
import type { JobStore } from '../ports/store.js'

/**
 * Deletes jobs finished before `finishedBefore` in batches of `batchSize` until a batch comes back
 * short (or `stop()` says so); returns the count, and reports it on one `pruned` event when any were
 * deleted. Shared by `prune()` and the maintenance loop.
 */
export async function pruneFinished(
  store: JobStore,
  events: EventBus,
  finishedBefore: number,
  batchSize: number,
  stop: () => boolean = () => false,
): Promise<number> {
  let total = 0
  try {
    for (;;) {
      const n = await store.pruneJobs({ finishedBefore, limit: batchSize })
      total += n
      if (n < batchSize || stop()) return total
    }
  } finally {
    // Also after a failed batch: the earlier batches' deletions stand.
    if (total > 0) events.emit('pruned', { count: total, finishedBefore })
  }
}
