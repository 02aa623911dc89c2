import type { JobRecord } from '../../core/domain/job.js'

/** How many jobs a failure message lists before it summarizes the rest. */
const LISTED = 20
/** Longest payload text shown per job. */
const PAYLOAD_CHARS = 200

/** Renders a value for a failure message: JSON, with Dates as ISO strings and functions by name. */
export function describeValue(value: unknown): string {
  if (typeof value === 'function') return 'a predicate'
  if (value === undefined) return 'undefined'
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v)) ?? String(value)
  } catch {
    return String(value)
  }
}

/** One line per job (`#3 send-email (queue default, available) {"to":"a@b.c"}`), at most 20, then "... and N more". */
export function listJobs(jobs: readonly JobRecord[]): string {
  const lines = jobs.slice(0, LISTED).map((job) => `  ${describeJob(job)}`)
  if (jobs.length > LISTED) lines.push(`  ... and ${jobs.length - LISTED} more`)
  return lines.join('\n')
}

/** Describes one job on one line (with its run-at when it waits for a time). */
export function describeJob(job: JobRecord): string {
  const details = [`queue ${job.queue}`, job.state]
  if (job.priority !== 0) details.push(`priority ${job.priority}`)
  if (job.state === 'scheduled' || job.state === 'retryable')
    details.push(`runAt ${new Date(job.runAt).toISOString()}`)
  if (job.uniqueKey !== null) details.push(`uniqueKey ${JSON.stringify(job.uniqueKey)}`)
  if (job.groupKey !== null) details.push(`groupKey ${JSON.stringify(job.groupKey)}`)
  let payload = JSON.stringify(job.payload)
  if (payload.length > PAYLOAD_CHARS) payload = `${payload.slice(0, PAYLOAD_CHARS)}...`
  return `#${job.id} ${job.kind} (${details.join(', ')}) ${payload}`
}

/** "Queued jobs (2):" followed by the list, or "Queued jobs: none." when `jobs` is empty. */
export function queuedSection(jobs: readonly JobRecord[], title = 'Queued jobs'): string {
  if (jobs.length === 0) return `${title}: none.`
  return `${title} (${jobs.length}):\n${listJobs(jobs)}`
}
