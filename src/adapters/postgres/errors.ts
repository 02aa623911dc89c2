/**
 * Translation of `pg` and socket errors into Conveyor errors at the adapter boundary, so the core
 * never sees a driver error. Errors that are not understood are passed on unchanged.
 */
import {
  ConveyorError,
  InvalidArgumentError,
  InvalidPayloadError,
  SchemaNotMigratedError,
  StorageConflictError,
  StorageInconsistentError,
  StorageUnavailableError,
} from '../../core/domain/errors.js'
import { regclassLiteral, sqlNames } from './sql-names.js'

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53000', // insufficient_resources
  '53100', // disk_full
  '53200', // out_of_memory
  '53300', // too_many_connections
  '53400', // configuration_limit_exceeded
  '58000', // system_error
  '58030', // io_error
  '3D000', // database does not exist
  '28000', // invalid_authorization_specification
  '28P01', // invalid_password
])

/** Writes lost to concurrency: the same statement may succeed when run again. */
const CONFLICT_CODES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
])

const NOT_MIGRATED_CODES = new Set([
  '42P01', // undefined_table
  '3F000', // invalid_schema_name
  '42883', // undefined_function
  '42703', // undefined_column
])

const UNAVAILABLE_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Cannot use a pool after calling end',
  'Client was closed and is not queryable',
  'connect ECONNREFUSED',
]

/** The SQLSTATE or socket code of an error, if it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/** True when `error` means the database could not be reached or the connection broke. */
export function isUnavailable(error: unknown): boolean {
  const code = errorCode(error)
  if (code !== undefined && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true
  const message = error instanceof Error ? error.message : ''
  if (UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) return true
  return error instanceof AggregateError && error.errors.some(isUnavailable)
}

/** What to do about a connection that failed with `code` and message `detail`. */
function advice(code: string | undefined, detail: string): string {
  if (code === '3D000') {
    const name = /database "([^"]+)"/.exec(detail)?.[1] ?? '<name>'
    return `Create it (CREATE DATABASE ${name}; in psql, or createdb ${name}) or point the connection at an existing database.`
  }
  if (code === '28000' || code === '28P01' || detail.startsWith('SASL')) {
    return "Check the user name and password of the connection, that the role exists and may log in, and the server's pg_hba.conf for this host."
  }
  return 'Check that the database is running and reachable.'
}

/** Converts an error thrown while `doing` something into the matching Conveyor error. */
export function translateError(error: unknown, schema: string, doing: string): unknown {
  if (error instanceof ConveyorError) return error
  const code = errorCode(error)
  const detail = error instanceof Error ? error.message : String(error)
  if (code !== undefined && NOT_MIGRATED_CODES.has(code)) {
    return new SchemaNotMigratedError(
      `Conveyor's tables in schema "${schema}" are missing or older than this version expects (${detail}): run queue.migrate() or \`conveyor migrate\`.`,
      { cause: error },
    )
  }
  if (isUnavailable(error)) {
    return new StorageUnavailableError(
      `PostgreSQL is unavailable while ${doing}: ${detail || code}. ${advice(code, detail)}`,
      {
        cause: error,
      },
    )
  }
  if (code !== undefined && CONFLICT_CODES.has(code)) {
    return new StorageConflictError(
      `PostgreSQL refused a write while ${doing} (${detail}); it may succeed if tried again.`,
      {
        cause: error,
      },
    )
  }
  const where = error as { constraint?: unknown; schema?: unknown }
  if (code === '23505' && where.constraint === 'jobs_pkey' && where.schema === schema) {
    return jobIdSequenceBehind(schema, 'nothing', { cause: error })
  }
  if (code === '54000' || code === '22P05') {
    return new InvalidPayloadError(
      `PostgreSQL cannot store a value while ${doing}: ${detail}. Keep payloads and workflow state well under 256 MB and free of \\u0000 characters.`,
      [{ message: detail }],
      { cause: error },
    )
  }
  if (code === '22021' || code === '22003' || code === '22P02') {
    return new InvalidArgumentError(`PostgreSQL rejected a value while ${doing}: ${detail}.`, {
      cause: error,
    })
  }
  return error
}

/**
 * The error for a jobs id sequence behind ids already in the table: new jobs take their ids from it,
 * so inserts collide until it is moved past the largest id (typically after restoring the jobs
 * table without its sequence). `inserted`: whether other jobs of the same call may have gone in
 * (a statement that skips conflicts inserts the rest of its batch).
 */
export function jobIdSequenceBehind(
  schema: string,
  inserted: 'nothing' | 'some',
  options?: { cause?: unknown },
): StorageInconsistentError {
  const names = sqlNames(schema)
  const outcome =
    inserted === 'nothing'
      ? 'nothing was enqueued'
      : 'the colliding jobs were not enqueued (other jobs of the same call may have been)'
  return new StorageInconsistentError(
    `The jobs id sequence of schema "${schema}" is behind ids already in its jobs table (were jobs restored without their sequence?), so new jobs collide with existing ids; ${outcome}. ` +
      `Move the sequence past them once, then retry: SELECT setval(${regclassLiteral(names.jobIdSequence)}, greatest((SELECT max(id) FROM ${names.jobs}), (SELECT max(id) FROM ${names.history})));`,
    options,
  )
}
