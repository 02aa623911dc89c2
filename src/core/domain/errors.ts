/**
 * Every error Conveyor throws on purpose. Each has a stable `code` that callers can switch on, a
 * message that says what was wrong and how to fix it, and keeps the underlying `cause`.
 */
import type { JobState } from './job.js'

/** Base class of all Conveyor errors; `code` is stable across versions. */
export class ConveyorError extends Error {
  /** Stable machine-readable code, e.g. `INVALID_PAYLOAD`. */
  readonly code: string

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** An argument to a public function has the wrong type or value. */
export class InvalidArgumentError extends ConveyorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options)
  }
}

/** A job definition (kind, defaults) is invalid. */
export class InvalidJobDefinitionError extends ConveyorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_JOB_DEFINITION', message, options)
  }
}

/** A payload failed its schema or is not a JSON value. */
export class InvalidPayloadError extends ConveyorError {
  /** The issues reported by the schema, or the path of the offending value. */
  readonly issues: readonly { message: string; path?: readonly PropertyKey[] }[]

  constructor(
    message: string,
    issues: readonly { message: string; path?: readonly PropertyKey[] }[] = [],
    options?: { cause?: unknown },
  ) {
    super('INVALID_PAYLOAD', message, options)
    this.issues = issues
  }
}

/** Enqueue or job options are invalid (negative delay, unknown option, ...). */
export class InvalidOptionsError extends ConveyorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_OPTIONS', message, options)
  }
}

/** A schedule expression could not be parsed; `expression` quotes it. */
export class InvalidScheduleError extends ConveyorError {
  /** The expression as given by the caller. */
  readonly expression: string

  constructor(expression: string, problem: string, options?: { cause?: unknown }) {
    super(
      'INVALID_SCHEDULE',
      `Invalid schedule expression ${JSON.stringify(expression)}: ${problem}`,
      options,
    )
    this.expression = expression
  }
}

/** A job kind has no registered handler where one is required. */
export class UnknownJobKindError extends ConveyorError {
  /** The kind that was not found. */
  readonly kind: string

  constructor(kind: string, hint: string) {
    super('UNKNOWN_JOB_KIND', `No handler is registered for job kind ${JSON.stringify(kind)}. ${hint}`)
    this.kind = kind
  }
}

/** A queue name that is not configured on this queue instance. */
export class UnknownQueueError extends ConveyorError {
  /** The queue name that was not found. */
  readonly queue: string

  constructor(queue: string, known: readonly string[]) {
    super(
      'UNKNOWN_QUEUE',
      `Queue ${JSON.stringify(queue)} is not configured. Configured queues: ${known.map((q) => JSON.stringify(q)).join(', ') || '(none)'}.`,
    )
    this.queue = queue
  }
}

/** A job id that does not exist (or was pruned). */
export class JobNotFoundError extends ConveyorError {
  /** The id that was not found. */
  readonly jobId: string

  constructor(jobId: string) {
    super(
      'JOB_NOT_FOUND',
      `Job ${JSON.stringify(jobId)} does not exist (it may have been deleted or pruned).`,
    )
    this.jobId = jobId
  }
}

/** No job has this name: no job of the kind (any kind when none is given) has or had this unique key. */
export class JobKeyNotFoundError extends ConveyorError {
  /** The unique key that names no job. */
  readonly key: string
  /** The kind the name was scoped to, or null. */
  readonly kind: string | null

  constructor(key: string, kind: string | null) {
    super(
      'JOB_KEY_NOT_FOUND',
      `No job${kind !== null ? ` of kind ${JSON.stringify(kind)}` : ''} has the unique key ${JSON.stringify(key)} (it may never have been enqueued with it, or was deleted or pruned). A job's name is the uniqueKey it was enqueued with.`,
    )
    this.key = key
    this.kind = kind
  }
}

/** A name without a kind that jobs of several kinds hold at once: it could mean any of them. */
export class AmbiguousJobKeyError extends ConveyorError {
  /** The unique key. */
  readonly key: string
  /** The kinds of the jobs holding it. */
  readonly kinds: readonly string[]

  constructor(key: string, kinds: readonly string[]) {
    super(
      'AMBIGUOUS_JOB_KEY',
      `Jobs of ${kinds.length} kinds (${kinds.map((k) => JSON.stringify(k)).join(', ')}) wait or run with the unique key ${JSON.stringify(key)}: say which with its kind, e.g. { key: ${JSON.stringify(key)}, kind: ${JSON.stringify(kinds[0])} }.`,
    )
    this.key = key
    this.kinds = kinds
  }
}

/** A job exists but is neither waiting nor paused (it runs or has finished), so it cannot be changed. */
export class JobNotWaitingError extends ConveyorError {
  /** The id of the job. */
  readonly jobId: string
  /** The state the job is in. */
  readonly state: JobState

  constructor(jobId: string, state: JobState) {
    super(
      'JOB_NOT_WAITING',
      `Job ${JSON.stringify(jobId)} is ${state}; only a waiting or paused job (scheduled, available, retryable or paused) can be changed. ${
        state === 'running'
          ? 'Wait for this attempt to end, or cancel the job and enqueue a new one.'
          : 'Retry it first with retryJobs({ ids: [id] }) to make it waiting again, or enqueue a new job.'
      }`,
    )
    this.jobId = jobId
    this.state = state
  }
}

/** An operation is not valid in the current lifecycle state (e.g. register after start). */
export class LifecycleError extends ConveyorError {
  constructor(message: string) {
    super('LIFECYCLE', message)
  }
}

/** The storage backend is unreachable or failed; retrying later may succeed. */
export class StorageUnavailableError extends ConveyorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORAGE_UNAVAILABLE', message, options)
  }
}

/**
 * A write lost to concurrency in the store (a serialization failure, a deadlock, a lock not
 * available): nothing was written, and the same write may succeed when tried again.
 */
export class StorageConflictError extends ConveyorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORAGE_CONFLICT', message, options)
  }
}

/**
 * The completer gave up writing attempt outcomes (an error that retrying cannot fix, or a store
 * unreachable past the retry bound): the jobs stay `running` until the rescue returns them.
 */
export class CompletionNotWrittenError extends ConveyorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('COMPLETION_NOT_WRITTEN', message, options)
  }
}

/**
 * The stored data contradicts itself in a way Conveyor cannot repair on its own (e.g. the jobs id
 * sequence is behind ids already in the table); the message says how to fix it and what, if
 * anything, was written.
 */
export class StorageInconsistentError extends ConveyorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORAGE_INCONSISTENT', message, options)
  }
}

/** The database schema is missing or older than this version of Conveyor expects. */
export class SchemaNotMigratedError extends ConveyorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SCHEMA_NOT_MIGRATED', message, options)
  }
}

/**
 * The database's schema has migrations this code does not know: it was migrated by a newer
 * version of Conveyor. Older code refuses to run on it rather than misread its tables.
 */
export class SchemaTooNewError extends ConveyorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SCHEMA_TOO_NEW', message, options)
  }
}

/**
 * The database role lacks a privilege a feature needs on Conveyor's schema (e.g. creating the `time`
 * strategy's index on a table it does not own); the message gives the statement for the owner to run.
 */
export class SchemaPrivilegeError extends ConveyorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SCHEMA_PRIVILEGE', message, options)
  }
}

/**
 * An index a feature needs is still being built (e.g. the `time` strategy's, by
 * `CREATE INDEX CONCURRENTLY`, which waits for the transactions open when it began); reported as a
 * background error while the feature goes on without it, more slowly.
 */
export class IndexBuildPendingError extends ConveyorError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INDEX_BUILD_PENDING', message, options)
  }
}

/** A job ran longer than its timeout; used as the abort reason and the recorded attempt error. */
export class JobTimeoutError extends ConveyorError {
  constructor(timeoutMs: number) {
    super('JOB_TIMEOUT', `Job exceeded its timeout of ${timeoutMs} ms and was aborted.`)
  }
}

/** Abort reason given to running handlers when the queue shuts down past its grace period. */
export class ShutdownAbortError extends ConveyorError {
  constructor() {
    super('SHUTDOWN', 'The queue is shutting down; the job was aborted and returned to the queue.')
  }
}

/** Abort reason given to a running handler whose job was cancelled by an operator. */
export class JobCancelledError extends ConveyorError {
  constructor(reason?: string) {
    super('JOB_CANCELLED', `The job was cancelled${reason ? `: ${reason}` : '.'}`)
  }
}

/**
 * The thread or process running an isolated handler ended before the attempt did (a crash,
 * `process.exit(n)`, an out-of-memory kill); only that attempt fails, and the pool replaces the runner.
 */
export class IsolatedRunnerExitError extends ConveyorError {
  /** The runner's exit code, or null when a signal ended it. */
  readonly exitCode: number | null
  /** The signal that ended a child process, or null. */
  readonly signal: string | null

  constructor(mode: string, exitCode: number | null, signal: string | null, detail?: string) {
    const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`
    super(
      'ISOLATED_RUNNER_EXITED',
      `The isolated handler's ${mode} ${how} before the attempt finished${detail ? `: ${detail}` : '.'}`,
    )
    this.exitCode = exitCode
    this.signal = signal
  }
}
