import type { JobRecord } from '../../core/domain/job.js'
import { type Clock, createSystemClock } from '../../core/ports/clock.js'
import type {
  ClaimParams,
  CompleteJobsResult,
  Completion,
  FireTickParams,
  InsertOutcome,
  JobChanges,
  JobFilter,
  JobStore,
  ListJobsParams,
  NewJob,
  OrphanParams,
  OrphanReport,
  ProcessRecord,
  ProcessWorker,
  QueueStats,
  ScheduleRecord,
  StoreCapabilities,
  TransactionHandle,
  UpdateJobOutcome,
  UpsertScheduleParams,
} from '../../core/ports/store.js'
import { MemoryJobAdmin } from './job-admin.js'
import { completionChanges } from './job-completion.js'
import { parseJobId } from './job-filter.js'
import { JobInserter } from './job-inserter.js'
import { appendRunLog, copyJobRecord } from './job-record.js'
import { JobTable } from './job-table.js'
import { MemoryTransaction } from './memory-transaction.js'
import { ProcessLiveness } from './process-liveness.js'
import { ScheduleTable } from './schedule-table.js'
import { StoreEvents } from './store-events.js'
import type { StoreState } from './store-state.js'

/** `completeJobs`' usual answer: nothing skipped (one shared array, nothing allocated per call). */
const NOTHING_SKIPPED: readonly string[] = Object.freeze([])

/**
 * The storage port in memory, for tests and demos: the same semantics as the Postgres store in one
 * process. Every record it returns is a fresh copy whose JSON values (payload, metadata, ...) are
 * frozen; claimed jobs get mutable payload, workflow state and metadata, as a database would return.
 * Enqueue with a `MemoryTransaction` buffers jobs until it commits; any other `tx` object is
 * ignored and the jobs are inserted at once, because this store cannot see that transaction's commit.
 * Listeners of `onJobsAvailable` hear about queues in which a job became due now (not about jobs
 * scheduled for later), in a microtask after the change. This class keeps the insert, claim,
 * completion and schedule paths; the operator's side is `MemoryJobAdmin`, heartbeats, orphans and
 * rescue are `ProcessLiveness`.
 */
export class MemoryStore implements JobStore {
  /** Single process; transactional enqueue through `MemoryTransaction`; handlers never run in a transaction. */
  readonly capabilities: StoreCapabilities = {
    multiProcess: false,
    transactionalEnqueue: true,
    transactionalExecution: false,
    storageHealth: false,
    announcesFreedJobs: true,
  }
  readonly #jobs = new JobTable()
  readonly #schedules = new ScheduleTable()
  readonly #paused = new Set<string>()
  readonly #events = new StoreEvents()
  /** Latest `now` seen: the time of a transaction's commit, deletes and prunes (which carry none). */
  #lastNow = Number.NEGATIVE_INFINITY
  readonly #clock: Clock
  readonly #inserter = new JobInserter(
    this.#jobs,
    () => this.#lastNow,
    (now) => this.#settle(now),
  )
  /** What the store's parts share. */
  readonly #state: StoreState = {
    jobs: this.#jobs,
    schedules: this.#schedules,
    paused: this.#paused,
    events: this.#events,
    time: (now) => this.#time(now),
    seen: (now) => this.#seen(now),
    lastNow: () => this.#lastNow,
    settle: (now) => this.#settle(now),
  }
  readonly #admin = new MemoryJobAdmin(this.#state)
  readonly #liveness = new ProcessLiveness(this.#state)

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
      // Whole units, as on PostgreSQL: below 1 nothing is claimed, not even an oversized first job.
      capacity: Math.floor(params.capacity),
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

  /** Records that a process is alive (see `ProcessLiveness`). */
  recordHeartbeat(params: {
    processId: string
    now?: number
    workers?: readonly ProcessWorker[]
    kinds?: readonly string[]
  }): Promise<void> {
    return this.#liveness.recordHeartbeat(params)
  }

  /** Live processes with their recorded workers (see `ProcessLiveness`). */
  listProcesses(params: { now?: number; liveWithinMs: number }): Promise<ProcessRecord[]> {
    return this.#liveness.listProcesses(params)
  }

  /** Due waiting jobs and schedules of kinds no live process registered (see `ProcessLiveness`). */
  findOrphans(params: OrphanParams): Promise<OrphanReport> {
    return this.#liveness.findOrphans(params)
  }

  /** Fails orphans whose queue and kind went unserved for `failAfterMs` (see `ProcessLiveness`). */
  failOrphans(params: OrphanParams & { failAfterMs: number; limit: number }): Promise<JobRecord[]> {
    return this.#liveness.failOrphans(params)
  }

  /** Returns running jobs of silent processes (or past their timeout) to the queue (see `ProcessLiveness`). */
  rescueJobs(params: {
    now?: number
    staleAfterMs: number
    timeoutMarginMs?: number
    limit: number
  }): Promise<JobRecord[]> {
    return this.#liveness.rescueJobs(params)
  }

  /** Returns one job with its run logs, or null (see `MemoryJobAdmin`). */
  getJob(params: { id: string }): Promise<JobRecord | null> {
    return this.#admin.getJob(params)
  }

  /** The jobs a unique key names, with their run logs (see `MemoryJobAdmin`). */
  getJobsByKey(params: { uniqueKey: string; kind?: string }): Promise<JobRecord[]> {
    return this.#admin.getJobsByKey(params)
  }

  /** Lists matching jobs, newest first (see `MemoryJobAdmin`). */
  listJobs(params: ListJobsParams): Promise<JobRecord[]> {
    return this.#admin.listJobs(params)
  }

  /** Makes matching jobs that are not running available now (see `MemoryJobAdmin`). */
  retryJobs(params: { filter: JobFilter; now?: number }): Promise<number> {
    return this.#admin.retryJobs(params)
  }

  /** Cancels matching waiting or running jobs (see `MemoryJobAdmin`). */
  cancelJobs(params: { filter: JobFilter; now?: number }): Promise<string[]> {
    return this.#admin.cancelJobs(params)
  }

  /** Pauses matching waiting jobs (see `MemoryJobAdmin`). */
  pauseJobs(params: { filter: JobFilter; now?: number }): Promise<JobRecord[]> {
    return this.#admin.pauseJobs(params)
  }

  /** Resumes matching paused jobs (see `MemoryJobAdmin`). */
  resumeJobs(params: { filter: JobFilter; now?: number }): Promise<JobRecord[]> {
    return this.#admin.resumeJobs(params)
  }

  /** Deletes matching jobs that are not running (see `MemoryJobAdmin`). */
  deleteJobs(params: { filter: JobFilter }): Promise<number> {
    return this.#admin.deleteJobs(params)
  }

  /** Changes one waiting job (see `MemoryJobAdmin`). */
  updateJob(params: { id: string; changes: JobChanges; now?: number }): Promise<UpdateJobOutcome> {
    return this.#admin.updateJob(params)
  }

  /** Deletes up to `limit` jobs that finished before `finishedBefore` (see `MemoryJobAdmin`). */
  pruneJobs(params: { finishedBefore: number; limit: number }): Promise<number> {
    return this.#admin.pruneJobs(params)
  }

  /** Pauses or resumes a queue (see `MemoryJobAdmin`). */
  setQueuePaused(params: { queue: string; paused: boolean; now?: number }): Promise<void> {
    return this.#admin.setQueuePaused(params)
  }

  /** Counts by state for every queue that has jobs or is paused (see `MemoryJobAdmin`). */
  queueStats(): Promise<QueueStats[]> {
    return this.#admin.queueStats()
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
  /** Always ready: there is no schema to check, and no strategy needs anything prepared. */
  async ready(): Promise<void> {}

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
