/**
 * Managing stored jobs: look-ups, changing a waiting job (and its schedule's expression), bulk
 * retry/cancel/delete/pause/resume by filter, pausing queues, stats and pruning, each validating its
 * input. Cancelling also aborts the runs of this process.
 */

import { DEFAULTS } from '../defaults.js'
import {
  AmbiguousJobKeyError,
  InvalidArgumentError,
  JobKeyNotFoundError,
  JobNotFoundError,
  JobNotWaitingError,
} from '../domain/errors.js'
import type { EventBus } from '../domain/events.js'
import { validateJobFilter } from '../domain/filter.js'
import { CHANGEABLE_STATES, type JobRecord } from '../domain/job.js'
import type { JobDefinition } from '../domain/job-definition.js'
import { isJobId } from '../domain/job-id.js'
import { resolveJobChanges, validateJobPatch } from '../domain/job-patch.js'
import { type JobKeyRef, type JobRef, validateJobRef } from '../domain/job-ref.js'
import { scheduleWithExpression } from '../domain/schedules/schedule-record.js'
import { describe, validateName, validateOptionalInt, validateOptionsObject } from '../domain/validation.js'
import { pruneFinished } from '../maintenance/pruner.js'
import type { Clock } from '../ports/clock.js'
import type { JobPatch, UpdateJobOptions } from '../ports/queue.js'
import type { JobFilter, JobStore, QueueStats, UpsertScheduleParams } from '../ports/store.js'

/** What the job manager works with. */
export interface JobManagerDeps {
  readonly store: JobStore
  readonly clock: Clock
  readonly events: EventBus
  /** Aborts this process's runs (and buffered copies) of these jobs. */
  readonly abortHere: (ids: readonly string[]) => void
  /** The definition registered for a kind on this queue, if any. */
  readonly definitionOf: (kind: string) => JobDefinition<unknown> | undefined
}

/** The operator's side of a queue. */
export class JobManager {
  readonly #deps: JobManagerDeps
  readonly #store: JobStore
  readonly #clock: Clock
  readonly #events: EventBus

  constructor(deps: JobManagerDeps) {
    this.#deps = deps
    this.#store = deps.store
    this.#clock = deps.clock
    this.#events = deps.events
  }

  async getJob(job: JobRef): Promise<JobRecord | null> {
    const ref = validateJobRef(job, 'getJob(job)')
    return typeof ref === 'string' ? this.#store.getJob({ id: ref }) : this.#named(ref)
  }

  /** The job a name means, or null; throws `AmbiguousJobKeyError` when several kinds hold the key. */
  async #named(ref: JobKeyRef): Promise<JobRecord | null> {
    const jobs = await this.#store.getJobsByKey({
      uniqueKey: ref.key,
      ...(ref.kind !== undefined ? { kind: ref.kind } : {}),
    })
    if (jobs.length > 1) throw new AmbiguousJobKeyError(ref.key, [...new Set(jobs.map((j) => j.kind))])
    return jobs[0] ?? null
  }

  /**
   * The filter a store runs: a `key` becomes the ids of the jobs it names (within `kind`, and the
   * filter's `ids` when given); null when it names none, so nothing can match.
   */
  async #storeFilter(filter: JobFilter): Promise<JobFilter | null> {
    if (filter.key === undefined) return filter
    const { key, ...rest } = filter
    const named = await this.#store.getJobsByKey({
      uniqueKey: key,
      ...(rest.kind !== undefined ? { kind: rest.kind } : {}),
    })
    const ids = named.map((j) => j.id).filter((id) => rest.ids === undefined || rest.ids.includes(id))
    return ids.length === 0 ? null : { ...rest, ids }
  }

  async listJobs(
    filter: JobFilter = {},
    page: { limit?: number; beforeId?: string } = {},
  ): Promise<JobRecord[]> {
    validateOptionsObject(page, 'listJobs page', ['limit', 'beforeId'])
    const limit = validateOptionalInt(page.limit, 'limit', 1, 10_000) ?? DEFAULTS.listJobsLimit
    if (page.beforeId !== undefined && !isJobId(page.beforeId)) {
      throw new InvalidArgumentError(
        `beforeId must be a job id string (the last id of the previous page); got ${describe(page.beforeId)}.`,
      )
    }
    const valid = await this.#storeFilter(validateJobFilter(filter))
    if (valid === null) return []
    return this.#store.listJobs({ filter: valid, limit, beforeId: page.beforeId })
  }

  async updateJob(job: JobRef, patch: JobPatch, options?: UpdateJobOptions): Promise<JobRecord> {
    const valid = validateJobPatch(job, patch, options)
    let current: JobRecord | null = null
    if (typeof valid.ref !== 'string') {
      // A name is resolved once; the update then goes by id, atomic against claims as ever.
      current = await this.#named(valid.ref)
      if (!current) throw new JobKeyNotFoundError(valid.ref.key, valid.ref.kind ?? null)
    }
    const jobId = current?.id ?? (valid.ref as string)
    let kind: string | undefined
    let schedule: UpsertScheduleParams['schedule'] | undefined
    if (valid.patch.payload !== undefined || valid.patch.expression !== undefined) {
      // The kind decides the schema, the schedule name the schedule: read the job first (and fail
      // early if it cannot be changed).
      current ??= await this.#store.getJob({ id: jobId })
      if (!current) throw new JobNotFoundError(jobId)
      if (!CHANGEABLE_STATES.includes(current.state)) throw new JobNotWaitingError(jobId, current.state)
      kind = current.kind
      if (valid.patch.expression !== undefined) {
        schedule = await this.#scheduleWithExpression(current, valid.patch.expression)
      }
    }
    const changes = await resolveJobChanges(valid, jobId, kind, this.#deps.definitionOf)
    const now = this.#clock.now()
    const outcome = await this.#store.updateJob({ id: jobId, changes, now })
    switch (outcome.status) {
      case 'updated':
        if (schedule) await this.#store.upsertSchedule({ schedule, now })
        return outcome.job
      case 'notFound':
        throw new JobNotFoundError(jobId)
      case 'notWaiting':
        throw new JobNotWaitingError(jobId, outcome.state)
    }
  }

  /** The schedule that enqueued `job`, with `expression` (checked as `schedule()` checks it). */
  async #scheduleWithExpression(
    job: JobRecord,
    expression: string,
  ): Promise<UpsertScheduleParams['schedule']> {
    const name = job.scheduleName
    if (name === null) {
      throw new InvalidArgumentError(
        `updateJob: job ${JSON.stringify(job.id)} was not enqueued by a schedule, so it has no expression to change. Set its run time with { runAt }, or register a schedule with queue.schedule(expression, job, payload).`,
      )
    }
    const existing = (await this.#store.listSchedules()).find((s) => s.name === name)
    if (!existing) {
      throw new InvalidArgumentError(
        `updateJob: job ${JSON.stringify(job.id)} was enqueued by schedule ${JSON.stringify(name)}, which no longer exists (it was unscheduled); register it again with queue.schedule(expression, job, payload, { name: ${JSON.stringify(name)} }).`,
      )
    }
    return scheduleWithExpression(existing, expression, this.#clock.now())
  }

  async pauseJobs(filter: JobFilter): Promise<number> {
    const valid = await this.#storeFilter(validateJobFilter(filter, true))
    if (valid === null) return 0
    const jobs = await this.#store.pauseJobs({ filter: valid, now: this.#clock.now() })
    for (const job of jobs) this.#events.emit('paused', { job })
    return jobs.length
  }

  async resumeJobs(filter: JobFilter): Promise<number> {
    const valid = await this.#storeFilter(validateJobFilter(filter, true))
    if (valid === null) return 0
    const jobs = await this.#store.resumeJobs({ filter: valid, now: this.#clock.now() })
    for (const job of jobs) this.#events.emit('resumed', { job })
    return jobs.length
  }

  async retryJobs(filter: JobFilter): Promise<number> {
    const valid = await this.#storeFilter(validateJobFilter(filter, true))
    return valid === null ? 0 : this.#store.retryJobs({ filter: valid, now: this.#clock.now() })
  }

  async cancelJobs(filter: JobFilter): Promise<number> {
    const valid = await this.#storeFilter(validateJobFilter(filter, true))
    if (valid === null) return 0
    const ids = await this.#store.cancelJobs({ filter: valid, now: this.#clock.now() })
    this.#deps.abortHere(ids)
    // One `cancelled` event per job the store cancelled, running here or not: the attempt of a job
    // running here then ends with a completion the store skips (the job no longer runs), which
    // emits no outcome event of its own.
    if (ids.length > 0 && this.#events.has('cancelled')) {
      for (let i = 0; i < ids.length; i += 1000) {
        const jobs = await this.#store.listJobs({
          filter: { ids: ids.slice(i, i + 1000) },
          limit: 1000,
        })
        for (const job of jobs.reverse())
          this.#events.emit('cancelled', { job, reason: 'cancelled by an operator' })
      }
    }
    return ids.length
  }

  async deleteJobs(filter: JobFilter): Promise<number> {
    const valid = await this.#storeFilter(validateJobFilter(filter, true))
    return valid === null ? 0 : this.#store.deleteJobs({ filter: valid })
  }

  async setPaused(queue: string, paused: boolean): Promise<void> {
    return this.#store.setQueuePaused({ queue: validateName(queue, 'queue'), paused, now: this.#clock.now() })
  }

  async stats(): Promise<QueueStats[]> {
    return this.#store.queueStats()
  }

  async prune(options: { olderThanMs?: number; batchSize?: number } = {}): Promise<number> {
    validateOptionsObject(options, 'prune options', ['olderThanMs', 'batchSize'])
    const olderThan =
      validateOptionalInt(options.olderThanMs, 'olderThanMs', 0, 31_557_600_000_000) ?? // at most 1000 years
      DEFAULTS.maintenance.retentionMs
    const batch =
      validateOptionalInt(options.batchSize, 'batchSize', 1, 100_000) ?? DEFAULTS.maintenance.batchSize
    return pruneFinished(this.#store, this.#events, this.#clock.now() - olderThan, batch)
  }
}
