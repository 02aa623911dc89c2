import {
  CHANGEABLE_STATES,
  FINAL_STATES,
  type JobRecord,
  type JobState,
  UNIQUE_STATES,
  WAITING_STATES,
} from '../../core/domain/job.js'
import {
  type JobChanges,
  type JobFilter,
  type ListJobsParams,
  type QueueStats,
  refuseKeyInStoreFilter,
  type UpdateJobOutcome,
} from '../../core/ports/store.js'
import { frozenCopy } from './frozen-json.js'
import { matchesJobFilter, parseJobId } from './job-filter.js'
import { copyJobRecord, type JobEntry, jobWithLogs, type StoredJob } from './job-record.js'
import type { StoreState } from './store-state.js'

const FINAL = new Set<JobState>(FINAL_STATES)
const WAITING = new Set<JobState>(WAITING_STATES)
const UNIQUE = new Set<JobState>(UNIQUE_STATES)
const CHANGEABLE = new Set<JobState>(CHANGEABLE_STATES)

/**
 * The memory store's operator side: reading jobs (by id, by unique key, by filter), the bulk
 * actions on filtered jobs (retry, cancel, pause, resume, delete), changing one waiting job,
 * pruning, pausing queues and the per-queue counts.
 */
export class MemoryJobAdmin {
  readonly #state: StoreState

  constructor(state: StoreState) {
    this.#state = state
  }

  /** Returns one job with its run logs, or null. */
  async getJob(params: { id: string }): Promise<JobRecord | null> {
    const entry = this.#state.jobs.get(params.id)
    return entry ? jobWithLogs(entry) : null
  }

  /** The jobs a unique key names (see `JobStore.getJobsByKey`), with their run logs. */
  async getJobsByKey(params: { uniqueKey: string; kind?: string }): Promise<JobRecord[]> {
    const holders: JobEntry[] = []
    let newest: JobEntry | undefined
    for (const entry of this.#state.jobs.withKey(params.uniqueKey)) {
      if (params.kind !== undefined && entry.record.kind !== params.kind) continue
      if (UNIQUE.has(entry.record.state)) holders.push(entry)
      else if (newest === undefined || entry.seq > newest.seq) newest = entry
    }
    const named = holders.length > 0 ? holders.sort((a, b) => b.seq - a.seq) : newest ? [newest] : []
    return named.map(jobWithLogs)
  }

  /** Lists matching jobs, newest first, before `beforeId`, at most `limit`. */
  async listJobs(params: ListJobsParams): Promise<JobRecord[]> {
    const before =
      params.beforeId === undefined ? Number.POSITIVE_INFINITY : parseJobId(params.beforeId, 'beforeId')
    const found: JobRecord[] = []
    const limit = Math.floor(params.limit)
    const candidates = this.#candidates(params.filter)
    for (let i = candidates.length - 1; i >= 0 && found.length < limit; i--) {
      const entry = candidates[i] as JobEntry
      if (entry.seq >= before || !matchesJobFilter(entry.record, params.filter)) continue
      found.push(copyJobRecord(entry.record))
    }
    return found
  }

  /** Makes matching jobs that are not running available now; returns the count. */
  async retryJobs(params: { filter: JobFilter; now?: number }): Promise<number> {
    const { jobs } = this.#state
    const now = this.#state.time(params.now)
    this.#state.seen(now)
    let count = 0
    for (const entry of this.#matching(params.filter)) {
      const job = entry.record
      if (job.state === 'running') continue
      // A finished job cannot come back while another waiting or running job holds its unique key.
      const holder = job.uniqueKey === null ? undefined : jobs.uniqueHolder(job.kind, job.uniqueKey)
      if (holder && holder !== entry) continue
      const maxAttempts = job.attempt >= job.maxAttempts ? job.attempt + 1 : job.maxAttempts
      jobs.update(entry, { state: 'available', runAt: now, finishedAt: null, maxAttempts }, now)
      count++
    }
    this.#state.settle(now)
    return count
  }

  /** Cancels matching waiting or running jobs (and their waiting dependants); returns the matching ids. */
  async cancelJobs(params: { filter: JobFilter; now?: number }): Promise<string[]> {
    const now = this.#state.time(params.now)
    this.#state.seen(now)
    const ids: string[] = []
    for (const entry of this.#matching(params.filter)) {
      if (FINAL.has(entry.record.state)) continue
      this.#state.jobs.update(entry, { state: 'cancelled', finishedAt: now }, now)
      ids.push(entry.record.id)
    }
    this.#state.settle(now)
    this.#state.events.emitCancelled(ids)
    return ids
  }

  /** Pauses matching waiting jobs (see `JobStore.pauseJobs`); returns them in id order. */
  async pauseJobs(params: { filter: JobFilter; now?: number }): Promise<JobRecord[]> {
    const now = this.#state.time(params.now)
    this.#state.seen(now)
    const paused: JobRecord[] = []
    for (const entry of this.#matching(params.filter)) {
      if (!WAITING.has(entry.record.state)) continue
      this.#state.jobs.update(entry, { state: 'paused' }, now)
      paused.push(copyJobRecord(entry.record))
    }
    this.#state.settle(now)
    return paused
  }

  /** Resumes matching paused jobs by their run time (see `JobStore.resumeJobs`); returns them in id order. */
  async resumeJobs(params: { filter: JobFilter; now?: number }): Promise<JobRecord[]> {
    const now = this.#state.time(params.now)
    this.#state.seen(now)
    const resumed: JobRecord[] = []
    for (const entry of this.#matching(params.filter)) {
      if (entry.record.state !== 'paused') continue
      this.#state.jobs.update(entry, { state: entry.record.runAt > now ? 'scheduled' : 'available' }, now)
      resumed.push(copyJobRecord(entry.record))
    }
    this.#state.settle(now)
    return resumed
  }

  /** Deletes matching jobs that are not running; returns the count. */
  async deleteJobs(params: { filter: JobFilter }): Promise<number> {
    const lastNow = this.#state.lastNow()
    let count = 0
    for (const entry of this.#matching(params.filter)) {
      if (entry.record.state === 'running') continue
      this.#state.jobs.remove(entry, lastNow)
      count++
    }
    this.#state.settle(lastNow)
    return count
  }

  /** Changes one waiting job (see `JobStore.updateJob`); due jobs wake their queue's workers. */
  async updateJob(params: { id: string; changes: JobChanges; now?: number }): Promise<UpdateJobOutcome> {
    const { changes } = params
    const now = this.#state.time(params.now)
    this.#state.seen(now)
    const entry = this.#state.jobs.get(params.id)
    if (!entry) return { status: 'notFound' }
    const job = entry.record
    if (!CHANGEABLE.has(job.state)) return { status: 'notWaiting', state: job.state }
    const update: Partial<StoredJob> = {}
    if (changes.payload !== undefined) update.payload = frozenCopy(changes.payload)
    if (changes.priority !== undefined) update.priority = changes.priority
    if (changes.workflowState !== undefined) update.workflowState = frozenCopy(changes.workflowState)
    if (changes.runAt !== undefined) {
      update.runAt = changes.runAt
      if (job.state !== 'retryable' && job.state !== 'paused')
        update.state = changes.runAt > now ? 'scheduled' : 'available'
    }
    // The table pushes the job to the claim index again (older copies go stale) and notes due queues.
    this.#state.jobs.update(entry, update, now)
    this.#state.settle(now)
    return { status: 'updated', job: copyJobRecord(entry.record) }
  }

  /** Deletes up to `limit` jobs that finished before `finishedBefore`, oldest first; returns the count. */
  async pruneJobs(params: { finishedBefore: number; limit: number }): Promise<number> {
    const lastNow = this.#state.lastNow()
    const old: JobEntry[] = []
    for (const entry of this.#state.jobs.entries()) {
      const { state, finishedAt } = entry.record
      if (FINAL.has(state) && finishedAt !== null && finishedAt < params.finishedBefore) old.push(entry)
    }
    old.sort((a, b) => (a.record.finishedAt as number) - (b.record.finishedAt as number) || a.seq - b.seq)
    const doomed = old.slice(0, Math.max(0, params.limit))
    for (const entry of doomed) this.#state.jobs.remove(entry, lastNow)
    this.#state.settle(lastNow)
    return doomed.length
  }

  /** Pauses or resumes a queue; resuming wakes its workers. */
  async setQueuePaused(params: { queue: string; paused: boolean; now?: number }): Promise<void> {
    this.#state.seen(this.#state.time(params.now))
    if (params.paused) {
      this.#state.paused.add(params.queue)
    } else if (this.#state.paused.delete(params.queue)) {
      this.#state.events.emitAvailable([params.queue])
    }
  }

  /** Counts by state for every queue that has jobs or is paused, by queue name. */
  async queueStats(): Promise<QueueStats[]> {
    const { paused } = this.#state
    const counts = this.#state.jobs.counts()
    const queues = [...new Set([...counts.keys(), ...paused])].sort()
    const zero = {
      scheduled: 0,
      available: 0,
      running: 0,
      retryable: 0,
      paused: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
    }
    return queues.map((queue) => ({
      queue,
      paused: paused.has(queue),
      counts: { ...zero, ...counts.get(queue) },
    }))
  }

  /** Jobs that may match `filter`, in id order: looked up by id when `ids` is given, else every job. */
  #candidates(filter: JobFilter): JobEntry[] {
    refuseKeyInStoreFilter(filter)
    if (filter.ids === undefined) return [...this.#state.jobs.entries()]
    const found = new Set<JobEntry>()
    for (const id of filter.ids) {
      const entry = this.#state.jobs.get(id)
      if (entry) found.add(entry)
    }
    return [...found].sort((a, b) => a.seq - b.seq)
  }

  #matching(filter: JobFilter): JobEntry[] {
    return this.#candidates(filter).filter((entry) => matchesJobFilter(entry.record, filter))
  }
}
