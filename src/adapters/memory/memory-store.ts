import {
  CHANGEABLE_STATES,
  FINAL_STATES,
  type JobRecord,
  type JobState,
  UNIQUE_STATES,
  WAITING_STATES,
} from '../../core/domain/job.js'
import { type Clock, createSystemClock } from '../../core/ports/clock.js'
import {
  type ClaimParams,
  type CompleteJobsResult,
  type Completion,
  type FireTickParams,
  type InsertOutcome,
  type JobChanges,
  type JobFilter,
  type JobStore,
  type ListJobsParams,
  type NewJob,
  type OrphanedJobs,
  type OrphanParams,
  type OrphanReport,
  type ProcessRecord,
  type ProcessWorker,
  type QueueStats,
  refuseKeyInStoreFilter,
  type ScheduleRecord,
  type StoreCapabilities,
  type TransactionHandle,
  type UpdateJobOutcome,
  type UpsertScheduleParams,
} from '../../core/ports/store.js'
import { frozenCopy } from './frozen-json.js'
import { completionChanges, orphanedError, rescuedTimeoutError, workerDiedError } from './job-completion.js'
import { matchesJobFilter, parseJobId } from './job-filter.js'
import { JobInserter } from './job-inserter.js'
import {
  appendError,
  appendRunLog,
  copyJobRecord,
  type JobEntry,
  jobWithLogs,
  type StoredJob,
} from './job-record.js'
import { JobTable } from './job-table.js'
import { MemoryTransaction } from './memory-transaction.js'
import { ScheduleTable } from './schedule-table.js'
import { StoreEvents } from './store-events.js'

const FINAL = new Set<JobState>(FINAL_STATES)
const WAITING = new Set<JobState>(WAITING_STATES)
const UNIQUE = new Set<JobState>(UNIQUE_STATES)
const CHANGEABLE = new Set<JobState>(CHANGEABLE_STATES)
/** `completeJobs`' usual answer: nothing skipped (one shared array, nothing allocated per call). */
const NOTHING_SKIPPED: readonly string[] = Object.freeze([])

/**
 * The storage port in memory, for tests and demos: the same semantics as the Postgres store in one
 * process. Every record it returns is a fresh copy whose JSON values (payload, metadata, ...) are
 * frozen; claimed jobs get mutable payload, workflow state and metadata, as a database would return.
 * Enqueue with a `MemoryTransaction` buffers jobs until it commits; any other `tx` object is
 * ignored and the jobs are inserted at once, because this store cannot see that transaction's commit.
 * Listeners of `onJobsAvailable` hear about queues in which a job became due now (not about jobs
 * scheduled for later), in a microtask after the change.
 */
export class MemoryStore implements JobStore {
  /** Single process; transactional enqueue through `MemoryTransaction`; handlers never run in a transaction. */
  readonly capabilities: StoreCapabilities = {
    multiProcess: false,
    transactionalEnqueue: true,
    transactionalExecution: false,
    storageHealth: false,
  }
  readonly #jobs = new JobTable()
  readonly #schedules = new ScheduleTable()
  readonly #paused = new Set<string>()
  /** Last heartbeat of each process and the kinds it registered. */
  readonly #heartbeats = new Map<string, { at: number; kinds: readonly string[] }>()
  readonly #processes = new Map<string, { startedAt: number; workers: readonly ProcessWorker[] | null }>()
  readonly #events = new StoreEvents()
  /** Latest `now` seen: the time of a transaction's commit, deletes and prunes (which carry none). */
  #lastNow = Number.NEGATIVE_INFINITY
  readonly #clock: Clock
  readonly #inserter = new JobInserter(
    this.#jobs,
    () => this.#lastNow,
    (now) => this.#settle(now),
  )

  /** A store whose time, when a call omits `now`, is `clock`'s (default: the host's clock). */
  constructor(options: { readonly clock?: Clock } = {}) {
    this.#clock = options.clock ?? createSystemClock()
  }

  /** Inserts jobs (see `JobStore.insertJobs`); with a `MemoryTransaction`, only once it commits. */
  async insertJobs(params: {
    jobs: readonly NewJob[]
    now?: number
    tx?: TransactionHandle
  }): Promise<InsertOutcome[]> {
    const { jobs, tx } = params
    const now = this.#time(params.now)
    this.#seen(now)
    if (tx instanceof MemoryTransaction) return this.#inserter.buffer(tx, jobs, now)
    const outcomes = this.#inserter.insert(jobs, now)
    this.#settle(now)
    return outcomes
  }

  /** Claims due jobs (see `JobStore.claimJobs`). */
  async claimJobs(params: ClaimParams): Promise<JobRecord[]> {
    const now = this.#time(params.now)
    this.#seen(now)
    const maxSeq = params.maxId === undefined ? Number.POSITIVE_INFINITY : parseJobId(params.maxId, 'maxId')
    const claim = {
      queues: params.queues.filter((q) => !this.#paused.has(q)),
      kinds: params.kinds,
      strategy: params.strategy,
      dueBy: params.dueBy ?? now,
      maxSeq,
      capacity: params.capacity,
      oversizedFirst: params.oversizedFirst,
      ...(params.maxWeight === undefined ? {} : { maxWeight: params.maxWeight }),
    }
    const jobs = this.#jobs.claim(claim, now, params.workerId)
    this.#settle(now)
    return jobs
  }

  /** Writes back attempt outcomes of running jobs (see `JobStore.completeJobs`). */
  async completeJobs(params: {
    completions: readonly Completion[]
    now?: number
  }): Promise<CompleteJobsResult> {
    const now = this.#time(params.now)
    this.#seen(now)
    let skipped: string[] | undefined
    for (const c of params.completions) {
      const entry = this.#jobs.get(c.id)
      if (
        entry?.record.state !== 'running' ||
        (c.attempt !== undefined && entry.record.attempt !== c.attempt)
      ) {
        skipped ??= []
        skipped.push(c.id)
        continue
      }
      const job = entry.record
      if (c.logs) entry.logs = appendRunLog(entry.logs, c.logs)
      this.#jobs.update(entry, completionChanges(job, c, now), now)
      if (c.outcome === 'succeeded' && job.scheduleName !== null && job.scheduleTick !== null) {
        this.#schedules.recordSuccess(job.scheduleName, job.scheduleTick)
      }
    }
    this.#settle(now)
    return { skipped: skipped ?? NOTHING_SKIPPED }
  }

  /** Records that a process is alive (see `JobStore.recordHeartbeat`). */
  async recordHeartbeat(params: {
    processId: string
    now?: number
    workers?: readonly ProcessWorker[]
    kinds?: readonly string[]
  }): Promise<void> {
    const now = this.#time(params.now)
    this.#seen(now)
    const kinds = params.kinds ?? this.#heartbeats.get(params.processId)?.kinds ?? []
    this.#heartbeats.set(params.processId, { at: now, kinds: [...kinds] })
    const known = this.#processes.get(params.processId)
    this.#processes.set(params.processId, {
      startedAt: known?.startedAt ?? now,
      workers: params.workers
        ? frozenCopy(params.workers.map((w) => ({ ...w, queues: [...w.queues] })))
        : (known?.workers ?? null),
    })
  }

  /** Live processes with their recorded workers (see `JobStore.listProcesses`). */
  async listProcesses(params: { now?: number; liveWithinMs: number }): Promise<ProcessRecord[]> {
    const now = this.#time(params.now)
    const live: ProcessRecord[] = []
    for (const [id, { at: lastHeartbeatAt }] of this.#heartbeats) {
      if (lastHeartbeatAt < now - params.liveWithinMs) continue
      const known = this.#processes.get(id)
      live.push({
        id,
        lastHeartbeatAt,
        startedAt: known?.startedAt ?? lastHeartbeatAt,
        workers: known?.workers ?? null,
      })
    }
    return live.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  /** Due waiting jobs and schedules of kinds no live process registered (see `JobStore.findOrphans`). */
  async findOrphans(params: OrphanParams): Promise<OrphanReport> {
    const now = this.#time(params.now)
    const registered = this.#registeredKinds(now - params.staleAfterMs, params.registered)
    const groups = new Map<string, { queue: string; kind: string; count: number; oldestRunAt: number }>()
    for (const entry of this.#orphanEntries(now, registered)) {
      const { queue, kind, runAt } = entry.record
      const key = JSON.stringify([queue, kind])
      const group = groups.get(key)
      if (group) {
        group.count++
        group.oldestRunAt = Math.min(group.oldestRunAt, runAt)
      } else groups.set(key, { queue, kind, count: 1, oldestRunAt: runAt })
    }
    const jobs: OrphanedJobs[] = [...groups.values()].sort(
      (a, b) => compareText(a.queue, b.queue) || compareText(a.kind, b.kind),
    )
    const schedules = this.#schedules
      .list()
      .filter((s) => (s.nextRunAt !== null || s.after !== null) && !registered.has(s.kind))
    return { jobs, schedules }
  }

  /** Fails orphans whose kind went unregistered for `failAfterMs` (see `JobStore.failOrphans`). */
  async failOrphans(params: OrphanParams & { failAfterMs: number; limit: number }): Promise<JobRecord[]> {
    const now = this.#time(params.now)
    this.#seen(now)
    const registered = this.#registeredKinds(now - params.staleAfterMs, params.registered)
    const failed: JobRecord[] = []
    for (const entry of this.#orphanEntries(now, registered)) {
      if (failed.length >= params.limit) break
      const job = entry.record
      let since = job.runAt
      for (const beat of this.#heartbeats.values())
        if (beat.kinds.includes(job.kind) && beat.at > since) since = beat.at
      if (now - since < params.failAfterMs) continue
      const error = orphanedError(job.attempt, now, job.kind, params.failAfterMs)
      this.#jobs.update(
        entry,
        { state: 'failed', finishedAt: now, errors: appendError(job.errors, error) },
        now,
      )
      failed.push(copyJobRecord(entry.record))
    }
    this.#settle(now)
    return failed
  }

  /** The kinds of processes heard from at or after `liveSince`, and `own`. */
  #registeredKinds(liveSince: number, own: readonly string[]): Set<string> {
    const kinds = new Set(own)
    for (const beat of this.#heartbeats.values())
      if (beat.at >= liveSince) for (const kind of beat.kinds) kinds.add(kind)
    return kinds
  }

  /** Waiting jobs due at `now` whose kind is not in `registered`, in id order. */
  #orphanEntries(now: number, registered: ReadonlySet<string>): JobEntry[] {
    const found: JobEntry[] = []
    for (const entry of this.#jobs.entries()) {
      const { state, runAt, kind } = entry.record
      if (WAITING.has(state) && runAt <= now && !registered.has(kind)) found.push(entry)
    }
    return found
  }

  /** Returns running jobs of processes silent for more than `staleAfterMs` to the queue (see `JobStore.rescueJobs`). */
  async rescueJobs(params: {
    now?: number
    staleAfterMs: number
    timeoutMarginMs?: number
    limit: number
  }): Promise<JobRecord[]> {
    const now = this.#time(params.now)
    const staleBefore = now - params.staleAfterMs
    const margin = params.timeoutMarginMs
    this.#seen(now)
    const rescued: JobRecord[] = []
    for (const entry of this.#jobs.entries()) {
      if (rescued.length >= params.limit) break
      const job = entry.record
      if (job.state !== 'running') continue
      const processId = (job.attemptedBy ?? '').split(':', 1)[0] ?? ''
      const timedOut =
        margin !== undefined && job.timeoutMs > 0 && (job.attemptedAt ?? now) + job.timeoutMs + margin <= now
      const seen = this.#heartbeats.get(processId)?.at
      if (!timedOut && seen !== undefined && seen >= staleBefore) continue
      const error = timedOut
        ? rescuedTimeoutError(job.attempt, now, job.timeoutMs, margin ?? 0, job.attemptedBy ?? '')
        : workerDiedError(job.attempt, now, processId)
      const changes =
        job.attempt >= job.maxAttempts
          ? completionChanges(job, { id: job.id, outcome: 'failed', error }, now)
          : completionChanges(job, { id: job.id, outcome: 'retry', runAt: now, error }, now)
      this.#jobs.update(entry, changes, now)
      rescued.push(copyJobRecord(entry.record))
    }
    this.#settle(now)
    return rescued
  }

  /** Returns one job with its run logs, or null. */
  async getJob(params: { id: string }): Promise<JobRecord | null> {
    const entry = this.#jobs.get(params.id)
    return entry ? jobWithLogs(entry) : null
  }

  /** The jobs a unique key names (see `JobStore.getJobsByKey`), with their run logs. */
  async getJobsByKey(params: { uniqueKey: string; kind?: string }): Promise<JobRecord[]> {
    const holders: JobEntry[] = []
    let newest: JobEntry | undefined
    for (const entry of this.#jobs.withKey(params.uniqueKey)) {
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
    const candidates = this.#candidates(params.filter)
    for (let i = candidates.length - 1; i >= 0 && found.length < params.limit; i--) {
      const entry = candidates[i] as JobEntry
      if (entry.seq >= before || !matchesJobFilter(entry.record, params.filter)) continue
      found.push(copyJobRecord(entry.record))
    }
    return found
  }

  /** Makes matching jobs that are not running available now; returns the count. */
  async retryJobs(params: { filter: JobFilter; now?: number }): Promise<number> {
    const now = this.#time(params.now)
    this.#seen(now)
    let count = 0
    for (const entry of this.#matching(params.filter)) {
      const job = entry.record
      if (job.state === 'running') continue
      // A finished job cannot come back while another waiting or running job holds its unique key.
      const holder = job.uniqueKey === null ? undefined : this.#jobs.uniqueHolder(job.kind, job.uniqueKey)
      if (holder && holder !== entry) continue
      const maxAttempts = job.attempt >= job.maxAttempts ? job.attempt + 1 : job.maxAttempts
      this.#jobs.update(entry, { state: 'available', runAt: now, finishedAt: null, maxAttempts }, now)
      count++
    }
    this.#settle(now)
    return count
  }

  /** Cancels matching waiting or running jobs (and their waiting dependants); returns the matching ids. */
  async cancelJobs(params: { filter: JobFilter; now?: number }): Promise<string[]> {
    const now = this.#time(params.now)
    this.#seen(now)
    const ids: string[] = []
    for (const entry of this.#matching(params.filter)) {
      if (FINAL.has(entry.record.state)) continue
      this.#jobs.update(entry, { state: 'cancelled', finishedAt: now }, now)
      ids.push(entry.record.id)
    }
    this.#settle(now)
    this.#events.emitCancelled(ids)
    return ids
  }

  /** Pauses matching waiting jobs (see `JobStore.pauseJobs`); returns them in id order. */
  async pauseJobs(params: { filter: JobFilter; now?: number }): Promise<JobRecord[]> {
    const now = this.#time(params.now)
    this.#seen(now)
    const paused: JobRecord[] = []
    for (const entry of this.#matching(params.filter)) {
      if (!WAITING.has(entry.record.state)) continue
      this.#jobs.update(entry, { state: 'paused' }, now)
      paused.push(copyJobRecord(entry.record))
    }
    this.#settle(now)
    return paused
  }

  /** Resumes matching paused jobs by their run time (see `JobStore.resumeJobs`); returns them in id order. */
  async resumeJobs(params: { filter: JobFilter; now?: number }): Promise<JobRecord[]> {
    const now = this.#time(params.now)
    this.#seen(now)
    const resumed: JobRecord[] = []
    for (const entry of this.#matching(params.filter)) {
      if (entry.record.state !== 'paused') continue
      this.#jobs.update(entry, { state: entry.record.runAt > now ? 'scheduled' : 'available' }, now)
      resumed.push(copyJobRecord(entry.record))
    }
    this.#settle(now)
    return resumed
  }

  /** Deletes matching jobs that are not running; returns the count. */
  async deleteJobs(params: { filter: JobFilter }): Promise<number> {
    let count = 0
    for (const entry of this.#matching(params.filter)) {
      if (entry.record.state === 'running') continue
      this.#jobs.remove(entry, this.#lastNow)
      count++
    }
    this.#settle(this.#lastNow)
    return count
  }

  /** Changes one waiting job (see `JobStore.updateJob`); due jobs wake their queue's workers. */
  async updateJob(params: { id: string; changes: JobChanges; now?: number }): Promise<UpdateJobOutcome> {
    const { changes } = params
    const now = this.#time(params.now)
    this.#seen(now)
    const entry = this.#jobs.get(params.id)
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
    this.#jobs.update(entry, update, now)
    this.#settle(now)
    return { status: 'updated', job: copyJobRecord(entry.record) }
  }

  /** Deletes up to `limit` jobs that finished before `finishedBefore`, oldest first; returns the count. */
  async pruneJobs(params: { finishedBefore: number; limit: number }): Promise<number> {
    const old: JobEntry[] = []
    for (const entry of this.#jobs.entries()) {
      const { state, finishedAt } = entry.record
      if (FINAL.has(state) && finishedAt !== null && finishedAt < params.finishedBefore) old.push(entry)
    }
    old.sort((a, b) => (a.record.finishedAt as number) - (b.record.finishedAt as number) || a.seq - b.seq)
    const doomed = old.slice(0, Math.max(0, params.limit))
    for (const entry of doomed) this.#jobs.remove(entry, this.#lastNow)
    this.#settle(this.#lastNow)
    return doomed.length
  }

  /** Pauses or resumes a queue; resuming wakes its workers. */
  async setQueuePaused(params: { queue: string; paused: boolean; now?: number }): Promise<void> {
    this.#seen(this.#time(params.now))
    if (params.paused) {
      this.#paused.add(params.queue)
    } else if (this.#paused.delete(params.queue)) {
      this.#events.emitAvailable([params.queue])
    }
  }

  /** Counts by state for every queue that has jobs or is paused, by queue name. */
  async queueStats(): Promise<QueueStats[]> {
    const counts = this.#jobs.counts()
    const queues = [...new Set([...counts.keys(), ...this.#paused])].sort()
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
      paused: this.#paused.has(queue),
      counts: { ...zero, ...counts.get(queue) },
    }))
  }

  /** Creates or replaces a schedule (keeps its tick history). */
  async upsertSchedule(params: UpsertScheduleParams): Promise<ScheduleRecord> {
    const now = this.#time(params.now)
    this.#seen(now)
    return this.#schedules.upsert({ ...params, now })
  }

  /** Deletes a schedule; returns whether it existed. */
  async deleteSchedule(params: { name: string }): Promise<boolean> {
    return this.#schedules.delete(params.name)
  }

  /** Every schedule, by name. */
  async listSchedules(): Promise<ScheduleRecord[]> {
    return this.#schedules.list()
  }

  /** Schedules whose next tick is due, by name. */
  async dueSchedules(params: { now?: number }): Promise<ScheduleRecord[]> {
    return this.#schedules.due(this.#time(params.now))
  }

  /** Fires one tick exactly once (compare-and-set on `nextRunAt`); returns the inserted job or null. */
  async fireScheduleTick(params: FireTickParams): Promise<JobRecord | null> {
    const { job } = params
    const now = this.#time(params.now)
    this.#seen(now)
    if (job) this.#inserter.checkDependencies([job])
    if (!this.#schedules.advance(params)) return null
    if (!job || (job.scheduleTick !== null && this.#jobs.hasTick(params.name, job.scheduleTick))) return null
    const [outcome] = this.#inserter.insert([job], now) as [InsertOutcome]
    this.#settle(now)
    return outcome.duplicate ? null : outcome.job
  }

  /** Calls `listener` (in a microtask) with queues in which jobs became due; returns an unsubscribe function. */
  onJobsAvailable(listener: (queues: readonly string[]) => void): () => void {
    return this.#events.onAvailable(listener)
  }

  /** Calls `listener` (in a microtask) with the ids `cancelJobs` cancelled; returns an unsubscribe function. */
  onJobsCancelled(listener: (ids: readonly string[]) => void): () => void {
    return this.#events.onCancelled(listener)
  }

  /** Nothing to release: the store holds no connections or timers. */
  async close(): Promise<void> {}

  /** Every job in id order, synchronously (for the test helpers). */
  allJobs(): readonly JobRecord[] {
    return Array.from(this.#jobs.entries(), (entry) => copyJobRecord(entry.record))
  }

  /** Drops every job, schedule and paused flag; ids start again at "1". Subscriptions stay. */
  reset(): void {
    this.#jobs.clear()
    this.#schedules.clear()
    this.#paused.clear()
    this.#inserter.reset()
  }

  /** Jobs that may match `filter`, in id order: looked up by id when `ids` is given, else every job. */
  #candidates(filter: JobFilter): JobEntry[] {
    refuseKeyInStoreFilter(filter)
    if (filter.ids === undefined) return [...this.#jobs.entries()]
    const found = new Set<JobEntry>()
    for (const id of filter.ids) {
      const entry = this.#jobs.get(id)
      if (entry) found.add(entry)
    }
    return [...found].sort((a, b) => a.seq - b.seq)
  }

  #matching(filter: JobFilter): JobEntry[] {
    return this.#candidates(filter).filter((entry) => matchesJobFilter(entry.record, filter))
  }

  #settle(now: number): void {
    this.#events.emitAvailable(this.#jobs.settle(now))
  }

  #seen(now: number): void {
    if (now > this.#lastNow) this.#lastNow = now
  }

  /** The given `now`, else this store's clock (a real-time queue omits `now`). */
  #time(now: number | undefined): number {
    return now ?? this.#clock.now()
  }
}

/** Orders text by UTF-16 code units (as the Postgres store's `COLLATE "C"`). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
