/**
 * Which waiting jobs no live worker will take: in a queue whose live workers all refuse oversized
 * jobs (`oversized: 'refuse'`), a job heavier than the largest of their capacities never runs.
 */
import { WAITING_STATES } from '../core/domain/job.js'
import type { Queue } from '../core/ports/queue.js'
import type { ProcessRecord } from '../core/ports/store.js'

/** Waiting jobs of one queue heavier than every live worker of the queue takes. */
export interface OversizedJobs {
  readonly queue: string
  /** The largest capacity among the queue's live workers (all refusing heavier jobs). */
  readonly largestCapacity: number
  /** How many waiting jobs are heavier (counted up to `COUNT_LIMIT`). */
  readonly count: number
  /** True when there are more than `count`. */
  readonly more: boolean
}

/** Jobs counted per queue at most (the overview says "N+" beyond). */
const COUNT_LIMIT = 1000

/**
 * Per queue, the largest capacity of its live workers when every one of them refuses oversized
 * jobs. Queues with a worker that runs any weight (`'alone'`, or a process that recorded no workers,
 * from an older version) are absent, as are queues no live worker serves.
 */
export function refusingCapacities(processes: readonly ProcessRecord[]): Map<string, number> {
  if (processes.some((p) => p.workers === null)) return new Map()
  const largest = new Map<string, number>()
  const anyWeight = new Set<string>()
  for (const p of processes)
    for (const w of p.workers ?? [])
      for (const queue of w.queues) {
        if (w.oversized === 'alone') anyWeight.add(queue)
        else largest.set(queue, Math.max(largest.get(queue) ?? 0, w.capacity))
      }
  for (const queue of anyWeight) largest.delete(queue)
  return largest
}

/** Counts, per queue, the waiting jobs no live worker will take (empty when there are none). */
export async function findOversizedJobs(queue: Queue): Promise<OversizedJobs[]> {
  const capacities = refusingCapacities(await queue.listProcesses())
  const found: OversizedJobs[] = []
  for (const [name, largestCapacity] of [...capacities].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const jobs = await queue.listJobs(
      { queue: name, states: [...WAITING_STATES], minWeight: largestCapacity + 1 },
      { limit: COUNT_LIMIT + 1 },
    )
    if (jobs.length === 0) continue
    found.push({
      queue: name,
      largestCapacity,
      count: Math.min(jobs.length, COUNT_LIMIT),
      more: jobs.length > COUNT_LIMIT,
    })
  }
  return found
}
