/** Queue names for the job list's filter, from `stats()` at most every few seconds (it counts every job). */
import type { Queue } from '../core/ports/queue.js'

const TTL_MS = 15_000

/** Returns a function that lists queue names, refreshing them from `stats()` when they are stale. */
export function cachedQueueNames(queue: Queue): {
  get(): Promise<string[]>
  remember(names: readonly string[]): void
} {
  let names: string[] = []
  let fetchedAt = Number.NEGATIVE_INFINITY
  return {
    async get() {
      if (performance.now() - fetchedAt > TTL_MS) {
        names = (await queue.stats()).map((s) => s.queue)
        fetchedAt = performance.now()
      }
      return names
    },
    remember(fresh) {
      names = [...fresh]
      fetchedAt = performance.now()
    },
  }
}
