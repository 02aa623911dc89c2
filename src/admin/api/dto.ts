/** What the JSON API answers: stored records with times as ISO strings, shaped by `schemas.ts`. */
import type { JobRecord } from '../../core/domain/job.js'
import type { ScheduleRecord } from '../../core/ports/store.js'

/** Epoch ms as an ISO 8601 UTC time. */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString()
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : isoTime(ms)
}

/** A job for the API; `logs` only when the record has them (the job detail). */
export function jobDto(job: JobRecord): Record<string, unknown> {
  return {
    id: job.id,
    kind: job.kind,
    queue: job.queue,
    state: job.state,
    payload: job.payload,
    priority: job.priority,
    runAt: isoTime(job.runAt),
    createdAt: isoTime(job.createdAt),
    attempt: job.attempt,
    runs: job.runs,
    maxAttempts: job.maxAttempts,
    timeoutMs: job.timeoutMs,
    weight: job.weight,
    uniqueKey: job.uniqueKey,
    groupKey: job.groupKey,
    groupMode: job.groupMode,
    groupLockTimeoutMs: job.groupLockTimeoutMs,
    dependsOn: job.dependsOn,
    metadata: job.metadata,
    tags: job.tags,
    workflowState: job.workflowState,
    errors: job.errors.map((e) => ({
      attempt: e.attempt,
      at: isoTime(e.at),
      name: e.name,
      message: e.message,
      ...(e.stack !== undefined ? { stack: e.stack } : {}),
    })),
    attemptedAt: isoOrNull(job.attemptedAt),
    attemptedBy: job.attemptedBy,
    finishedAt: isoOrNull(job.finishedAt),
    scheduleName: job.scheduleName,
    scheduleTick: isoOrNull(job.scheduleTick),
    traceContext: job.traceContext,
    ...(job.logs === undefined
      ? {}
      : {
          logs: job.logs.map((run) => ({
            attempt: run.attempt,
            lines: run.lines.map((line) => ({
              at: isoTime(line.at),
              level: line.level,
              message: line.message,
              ...(line.fields !== undefined ? { fields: line.fields } : {}),
            })),
            ...(run.dropped !== undefined ? { dropped: run.dropped } : {}),
          })),
        }),
  }
}

/** A schedule for the API: the expression, the job it enqueues with its options, and its run times. */
export function scheduleDto(schedule: ScheduleRecord): Record<string, unknown> {
  const t = schedule.jobTemplate
  return {
    name: schedule.name,
    expression: schedule.expression,
    timezone: schedule.timezone,
    kind: schedule.kind,
    payload: schedule.payload,
    options: {
      queue: t.queue,
      priority: t.priority,
      maxAttempts: t.maxAttempts,
      timeoutMs: t.timeoutMs,
      weight: t.weight,
      groupKey: t.groupKey,
      groupMode: t.groupMode,
      groupLockTimeoutMs: t.groupLockTimeoutMs,
      metadata: t.metadata,
      tags: t.tags,
    },
    missed: schedule.missedPolicy,
    startAt: isoOrNull(schedule.startAt),
    after: schedule.after,
    nextRunAt: isoOrNull(schedule.nextRunAt),
    lastTickAt: isoOrNull(schedule.lastTickAt),
    lastSuccessAt: isoOrNull(schedule.lastSuccessAt),
    createdAt: isoTime(schedule.createdAt),
    updatedAt: isoTime(schedule.updatedAt),
  }
}
