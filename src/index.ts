/**
 * Conveyor's core entry point (`conveyor-jobs`): job definitions, ports, clocks, controls and errors.
 * Adapters live in `conveyor-jobs/memory` and `conveyor-jobs/postgres`; the admin page in `conveyor-jobs/admin`;
 * Prometheus metrics in `conveyor-jobs/metrics`.
 */
export type { BackoffFunction } from './core/backoff.js'
export { backoffDelay, DEFAULT_BACKOFF } from './core/backoff.js'
export type { Clock, TimerHandle } from './core/clock.js'
export { createSystemClock, ManualClock } from './core/clock.js'
export { CancelJob, FailJob, JobControl, SnoozeJob } from './core/controls.js'
export type { EnqueueOptions } from './core/enqueue-options.js'
export {
  ConveyorError,
  InvalidArgumentError,
  InvalidJobDefinitionError,
  InvalidOptionsError,
  InvalidPayloadError,
  InvalidScheduleError,
  JobCancelledError,
  JobNotFoundError,
  JobTimeoutError,
  LifecycleError,
  SchemaNotMigratedError,
  SchemaTooNewError,
  ShutdownAbortError,
  StorageInconsistentError,
  StorageUnavailableError,
  UnknownJobKindError,
  UnknownQueueError,
} from './core/errors.js'
export type { QueueEventListener, QueueEventName, QueueEvents } from './core/events.js'
export type { AttemptError, BackoffSpec, JobRecord, JobState, RunLog } from './core/job.js'
export { FINAL_STATES, JOB_STATES, RUN_LOGS_KEPT, WAITING_STATES } from './core/job.js'
export type { DefineJobInput, JobDefaults, JobDefinition, PayloadOf } from './core/job-definition.js'
export { defineJob } from './core/job-definition.js'
export type { JsonValue } from './core/json.js'
export type { LogFields, Logger, LogLevel, LogLine } from './core/logger.js'
export { MAX_RUN_LOG_CHARS, MAX_RUN_LOG_LINES } from './core/logger.js'
export type {
  AttemptOutcome,
  DrainOptions,
  DrainResult,
  EnqueueManyItem,
  EnqueueManyItems,
  EnqueueResult,
  Enqueuer,
  JobContext,
  JobHandler,
  Queue,
  RegisterOptions,
  ScheduleOptions,
  ScheduleRunInfo,
  Scheduler,
  ShutdownOptions,
} from './core/ports.js'
export type { CoreQueue } from './core/queue.js'
export { createQueue, extendQueue } from './core/queue.js'
export type { QueueOptions, WorkerOptions } from './core/queue-options.js'
export { AUTO_PREFETCH, DEFAULT_CONCURRENCY } from './core/runtime-settings.js'
export type { ScheduleExpression } from './core/schedule-expression.js'
export { parseScheduleExpression } from './core/schedule-expression.js'
export type {
  ClaimParams,
  Completion,
  InsertOutcome,
  JobFilter,
  JobStore,
  ListJobsParams,
  MissedTickPolicy,
  NewJob,
  PollStrategy,
  QueueStats,
  ScheduleRecord,
  StoreCapabilities,
  TransactionHandle,
} from './core/store.js'
export type { TraceCarrier, TracingOptions } from './core/tracing.js'
export { extractTraceContext, injectTraceContext, TRACER_NAME } from './core/tracing.js'
