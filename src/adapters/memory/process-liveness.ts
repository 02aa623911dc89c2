import { type JobRecord, type JobState, WAITING_STATES } from '../../core/domain/job.js'
import type {
  OrphanedJobs,
  OrphanParams,
  OrphanReport,
  ProcessRecord,
  ProcessWorker,
  ServedPairs,
} from '../../core/ports/store.js'
import { frozenCopy } from './frozen-json.js'
import { completionChanges, orphanedError, rescuedTimeoutError, workerDiedError } from './job-completion.js'
import { appendError, copyJobRecord, type JobEntry } from './job-record.js'
import type { StoreState } from './store-state.js'

const WAITING = new Set<JobState>(WAITING_STATES)

/**
 * The memory store's processes and what follows from their heartbeats: the live processes, the
 * orphans (due jobs of a queue and kind no live process serves: registered the kind and runs a worker
 * for the queue) and the rescue of running jobs whose process went silent or whose timeout passed.
 */
export class ProcessLiveness {
  readonly #state: StoreState
  /** Last heartbeat of each process and the kinds it registered. */
  readonly #heartbeats = new Map<string, { at: number; kinds: readonly string[] }>()
  readonly #processes = new Map<string, { startedAt: number; workers: readonly ProcessWorker[] | null }>()

  constructor(state: StoreState) {
    this.#state = state
  }

  /** Records that a process is alive (see `JobStore.recordHeartbeat`). */
  async recordHeartbeat(params: {
    processId: string
    now?: number
    workers?: readonly ProcessWorker[]
    kinds?: readonly string[]
  }): Promise<void> {
    const now = this.#state.time(params.now)
    this.#state.seen(now)
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
    const now = this.#state.time(params.now)
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

  /** Due waiting jobs and schedules of pairs no live process serves (see `JobStore.findOrphans`). */
  async findOrphans(params: OrphanParams): Promise<OrphanReport> {
    const now = this.#state.time(params.now)
    const served = this.#servedBy(now - params.staleAfterMs, params.registered)
    const groups = new Map<string, { queue: string; kind: string; count: number; oldestRunAt: number }>()
    for (const entry of this.#orphanEntries(now, served)) {
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
    const schedules = this.#state.schedules
      .list()
      .filter((s) => (s.nextRunAt !== null || s.after !== null) && !served(s.jobTemplate.queue, s.kind))
    return { jobs, schedules }
  }

  /** Fails orphans whose pair went unserved for `failAfterMs` (see `JobStore.failOrphans`). */
  async failOrphans(params: OrphanParams & { failAfterMs: number; limit: number }): Promise<JobRecord[]> {
    const now = this.#state.time(params.now)
    this.#state.seen(now)
    const served = this.#servedBy(now - params.staleAfterMs, params.registered)
    const failed: JobRecord[] = []
    const limit = Math.floor(params.limit)
    for (const entry of this.#orphanEntries(now, served)) {
      if (failed.length >= limit) break
      const job = entry.record
      let since = job.runAt
      for (const [id, beat] of this.#heartbeats)
        if (beat.at > since && this.#serves(id, job.queue, job.kind)) since = beat.at
      if (now - since < params.failAfterMs) continue
      const error = orphanedError(job.attempt, now, job.queue, job.kind, params.failAfterMs)
      this.#state.jobs.update(
        entry,
        { state: 'failed', finishedAt: now, errors: appendError(job.errors, error) },
        now,
      )
      failed.push(copyJobRecord(entry.record))
    }
    this.#state.settle(now)
    return failed
  }

  /**
   * Whether `queue` and `kind` are served: by `own`, or by a process heard from at or after
   * `liveSince` (see `OrphanParams`).
   */
  #servedBy(liveSince: number, own: ServedPairs): (queue: string, kind: string) => boolean {
    const live = [...this.#heartbeats].filter(([, beat]) => beat.at >= liveSince).map(([id]) => id)
    const known = new Map<string, boolean>() // by pair: a backlog holds many jobs of few pairs
    return (queue, kind) => {
      const key = JSON.stringify([queue, kind])
      let served = known.get(key)
      if (served === undefined) {
        served =
          (own.queues.includes(queue) && own.kinds.includes(kind)) ||
          live.some((id) => this.#serves(id, queue, kind))
        known.set(key, served)
      }
      return served
    }
  }

  /** Whether process `id` registered `kind` and runs a worker for `queue` (or recorded no workers). */
  #serves(id: string, queue: string, kind: string): boolean {
    if (!this.#heartbeats.get(id)?.kinds.includes(kind)) return false
    const workers = this.#processes.get(id)?.workers ?? null
    return workers === null || workers.some((w) => w.queues.includes(queue))
  }

  /** Waiting jobs due at `now` whose queue and kind are not `served`, in id order. */
  #orphanEntries(now: number, served: (queue: string, kind: string) => boolean): JobEntry[] {
    const found: JobEntry[] = []
    for (const entry of this.#state.jobs.entries()) {
      const { state, runAt, queue, kind } = entry.record
      if (WAITING.has(state) && runAt <= now && !served(queue, kind)) found.push(entry)
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
    const now = this.#state.time(params.now)
    const staleBefore = now - params.staleAfterMs
    const margin = params.timeoutMarginMs
    this.#state.seen(now)
    const rescued: JobRecord[] = []
    const limit = Math.floor(params.limit)
    for (const entry of this.#state.jobs.entries()) {
      if (rescued.length >= limit) break
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
      this.#state.jobs.update(entry, changes, now)
      rescued.push(copyJobRecord(entry.record))
    }
    this.#state.settle(now)
    return rescued
  }
}

/** Orders text by UTF-16 code units (as the Postgres store's `COLLATE "C"`). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
