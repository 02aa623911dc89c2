/**
 * Conveyor's core entry point (`conveyor-jobs`): job definitions, ports, clocks, controls and errors.
 * Adapters live in `conveyor-jobs/memory` and `conveyor-jobs/postgres`; the admin page in `conveyor-jobs/admin`;
 * Prometheus metrics in `conveyor-jobs/metrics`.
 */

export type { QueueOptions, WorkerOptions } from './core/config/queue-options.js'
export type { CoreQueue } from './core/create-queue.js'
export { AUTO_PREFETCH, DEFAULT_CONCURRENCY } from './core/defaults.js'
export type { BackoffFunction } from './core/domain/backoff.js'
export { backoffDelay, DEFAULT_BACKOFF } from './core/domain/backoff.js'
export { CancelJob, FailJob, JobControl, SnoozeJob } from './core/domain/controls.js'
export type { EnqueueOptions } from './core/domain/enqueue-options.js'
export {
  AmbiguousJobKeyError,
  CompletionNotWrittenError,
  ConveyorError,
  IndexBuildPendingError,
  InvalidArgumentError,
  InvalidJobDefinitionError,
  InvalidOptionsError,
  InvalidPayloadError,
  InvalidScheduleError,
  IsolatedRunnerExitError,
  JobCancelledError,
  JobKeyNotFoundError,
  JobNotFoundError,
  JobNotWaitingError,
  JobTimeoutError,
  LifecycleError,
  SchemaNotMigratedError,
  SchemaPrivilegeError,
  SchemaTooNewError,
  ShutdownAbortError,
  StorageConflictError,
  StorageInconsistentError,
  StorageUnavailableError,
  UnknownJobKindError,
  UnknownQueueError,
} from './core/domain/errors.js'
export type { QueueEventListener, QueueEventName, QueueEvents } from './core/domain/events.js'
export type { AttemptError, BackoffSpec, GroupMode, JobRecord, JobState, RunLog } from './core/domain/job.js'
export { FINAL_STATES, GROUP_MODES, JOB_STATES, RUN_LOGS_KEPT, WAITING_STATES } from './core/domain/job.js'
export type { DefineJobInput, JobDefaults, JobDefinition, PayloadOf } from './core/domain/job-definition.js'
export { defineJob } from './core/domain/job-definition.js'
export type { JobKeyRef, JobRef } from './core/domain/job-ref.js'
export type { JsonValue } from './core/domain/json.js'
export type { ParseScheduleOptions, ScheduleExpression } from './core/domain/schedules/expression.js'
export { parseScheduleExpression } from './core/domain/schedules/expression.js'
export type {
  AgedHorizonHolder,
  HorizonHolder,
  HorizonHolderKind,
  StorageHealth,
  StorageHealthOptions,
  StorageHealthReading,
  StorageHealthThresholds,
  StorageWarning,
  TableHealth,
} from './core/domain/storage-health.js'
export { extendQueue } from './core/extend-queue.js'
export type { Clock, TimerHandle } from './core/ports/clock.js'
export { createSystemClock, ManualClock } from './core/ports/clock.js'
export type { LogFields, Logger, LogLevel, LogLine } from './core/ports/logger.js'
export type {
  InsertCall,
  InsertMiddleware,
  Middleware,
  RowEdit,
  RunMiddleware,
  RunReport,
} from './core/ports/middleware.js'
export type {
  AttemptOutcome,
  DrainOptions,
  DrainResult,
  EnqueueManyItem,
  EnqueueManyItems,
  EnqueueResult,
  Enqueuer,
  HandlerModule,
  IsolatedJobContext,
  IsolatedJobHandler,
  JobContext,
  JobHandler,
  JobPatch,
  Queue,
  RegisterOptions,
  ScheduleOptions,
  ScheduleRunInfo,
  Scheduler,
  ShutdownOptions,
  UpdateJobOptions,
} from './core/ports/queue.js'
export type {
  ClaimParams,
  CompleteJobsResult,
  Completion,
  CompletionOutcome,
  FireTickParams,
  InsertOutcome,
  JobChanges,
  JobFilter,
  JobStore,
  ListJobsParams,
  MissedTickPolicy,
  NewJob,
  OrphanedJobs,
  OrphanParams,
  OrphanReport,
  OversizedPolicy,
  PollStrategy,
  ProcessRecord,
  ProcessWorker,
  QueueStats,
  RunAgainAt,
  ScheduleJobTemplate,
  ScheduleRecord,
  ServedPairs,
  StoreCapabilities,
  TransactionHandle,
  UpdateJobOutcome,
  UpsertScheduleParams,
} from './core/ports/store.js'
export type {
  IsolatedModuleSpec,
  IsolationHost,
  IsolationMode,
} from './core/runtime/isolation/isolation-host.js'
export { MAX_RUN_LOG_CHARS, MAX_RUN_LOG_LINES } from './core/runtime/run-logger.js'
export { createQueue } from './create-queue.js'
export type { TracedQueueOptions } from './instrumentation/default-middleware.js'
export type { TraceCarrier, TracingOptions } from './instrumentation/tracing.js'
export {
  extractTraceContext,
  injectTraceContext,
  TRACER_NAME,
  tracingMiddleware,
} from './instrumentation/tracing.js'
