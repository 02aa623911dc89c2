/** Queue-wide reads and actions, for the HTML pages and the JSON API alike. */
import type { Queue } from '../../core/ports/queue.js'
import type { OrphanReport } from '../../core/ports/store.js'
import { type QueueOverview, queueOverviews } from '../metrics.js'

/** Counts by state, paused flag, throughput and lag of every queue, sorted by name. */
export function listQueues(queue: Queue, now: number, sampleSize: number): Promise<QueueOverview[]> {
  return queueOverviews(queue, now, sampleSize)
}

/** Pauses (workers stop claiming in every process) or resumes a queue. */
export function setQueuePaused(queue: Queue, name: string, paused: boolean): Promise<void> {
  return paused ? queue.pauseQueue(name) : queue.resumeQueue(name)
}

/**
 * Orphans: due waiting jobs by queue and kind, and schedules, whose queue and kind no live process serves
 * (none when the queue object has no `findOrphans`).
 */
export function listOrphans(queue: Queue): Promise<OrphanReport> {
  if (typeof queue.findOrphans !== 'function') return Promise.resolve({ jobs: [], schedules: [] })
  return queue.findOrphans()
}
