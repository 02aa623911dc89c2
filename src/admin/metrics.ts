/**
 * Per-queue numbers for the overview, computed from the public `Queue` API alone: counts and paused
 * flags from `stats()`, and jobs per minute and lag estimated from the newest jobs of each queue
 * (`listJobs`, bounded by `sampleSize`), marked as lower bounds when the sample may have missed some.
 */
import { FINAL_STATES, type JobState, WAITING_STATES } from '../core/domain/job.js'
import type { Queue } from '../core/ports/queue.js'

/** A number that is exact, or only a lower bound (`atLeast`). */
export interface Estimate {
  readonly value: number
  readonly atLeast: boolean
}

/** What the overview shows for one queue. */
export interface QueueOverview {
  readonly queue: string
  readonly paused: boolean
  readonly counts: Readonly<Record<JobState, number>>
  readonly total: number
  /** Jobs that finished in the last minute (null when sampling is off). */
  readonly finishedPerMinute: Estimate | null
  /** Of those, the ones that failed. */
  readonly failedPerMinute: Estimate | null
  /** How long the oldest due waiting job has waited, ms (null: none waiting, or sampling is off). */
  readonly lagMs: Estimate | null
}

const MINUTE_MS = 60_000

/** Reads stats and samples each queue, a few queues at a time. */
export async function queueOverviews(
  queue: Queue,
  now: number,
  sampleSize: number,
): Promise<QueueOverview[]> {
  const stats = (await queue.stats()).slice().sort((a, b) => a.queue.localeCompare(b.queue))
  return mapLimit(stats, 4, async (s) => {
    const total = Object.values(s.counts).reduce((sum, n) => sum + n, 0)
    const base = { queue: s.queue, paused: s.paused, counts: s.counts, total }
    if (sampleSize === 0) return { ...base, finishedPerMinute: null, failedPerMinute: null, lagMs: null }
    const waiting = WAITING_STATES.reduce((sum, state) => sum + (s.counts[state] ?? 0), 0)
    const finished = FINAL_STATES.reduce((sum, state) => sum + (s.counts[state] ?? 0), 0)
    const [throughput, lagMs] = await Promise.all([
      finished > 0 ? throughputOf(queue, s.queue, now, sampleSize) : { all: exact(0), failed: exact(0) },
      waiting > 0 ? lagOf(queue, s.queue, now, sampleSize, waiting) : null,
    ])
    return { ...base, finishedPerMinute: throughput.all, failedPerMinute: throughput.failed, lagMs }
  })
}

/** Counts the newest finished jobs whose `finishedAt` is within the last minute. */
async function throughputOf(
  queue: Queue,
  name: string,
  now: number,
  sampleSize: number,
): Promise<{ all: Estimate; failed: Estimate }> {
  const jobs = await queue.listJobs({ queue: name, states: FINAL_STATES }, { limit: sampleSize })
  const recent = jobs.filter((j) => j.finishedAt !== null && j.finishedAt >= now - MINUTE_MS)
  // A full sample whose oldest job still finished within the minute may have missed older ones.
  const last = jobs[jobs.length - 1]
  const atLeast = jobs.length === sampleSize && last?.finishedAt != null && last.finishedAt >= now - MINUTE_MS
  return {
    all: { value: recent.length, atLeast },
    failed: { value: recent.filter((j) => j.state === 'failed').length, atLeast },
  }
}

/** How long the oldest due job among the newest waiting ones has waited. */
async function lagOf(
  queue: Queue,
  name: string,
  now: number,
  sampleSize: number,
  waiting: number,
): Promise<Estimate | null> {
  const jobs = await queue.listJobs({ queue: name, states: WAITING_STATES }, { limit: sampleSize })
  let oldestDue: number | null = null
  for (const job of jobs)
    if (job.runAt <= now && (oldestDue === null || job.runAt < oldestDue)) oldestDue = job.runAt
  const sawAll = jobs.length < sampleSize || waiting <= jobs.length
  if (oldestDue === null) return sawAll ? null : { value: 0, atLeast: true }
  return { value: now - oldestDue, atLeast: !sawAll }
}

function exact(value: number): Estimate {
  return { value, atLeast: false }
}

/** Maps with at most `limit` calls in flight (the queue's pool is the application's). */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await fn(items[index] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}
