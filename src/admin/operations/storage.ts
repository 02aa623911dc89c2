/** Storage health, for the overview page and the JSON API alike. */
import type { StorageHealth } from '../../core/domain/storage-health.js'
import type { Queue } from '../../core/ports/queue.js'

/**
 * The queue's storage health (the queue caches a reading for a few seconds, so live refreshes and
 * several open pages share it), or null when its store cannot read it (the memory store).
 */
export async function readStorageHealth(queue: Queue): Promise<StorageHealth | null> {
  if (typeof queue.storageHealth !== 'function') return null
  return queue.storageHealth()
}
