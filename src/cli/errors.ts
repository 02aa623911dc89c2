/**
 * The command line's errors and how any error becomes one message for a person: what went wrong,
 * where, and the command or setting that fixes it.
 */
import { ConveyorError, SchemaNotMigratedError, StorageUnavailableError } from '../core/domain/errors.js'
import { explainConnectionFailure } from './connection-errors.js'

/** A mistake in the command line itself (unknown flag, missing or bad value); exit code 2. */
export class UsageError extends Error {
  /** The command whose `--help` explains the right usage, if any. */
  readonly command: string | undefined

  constructor(message: string, command?: string) {
    super(message)
    this.name = 'UsageError'
    this.command = command
  }
}

/** A problem the command explains itself (its message is the whole story); exit code 1. */
export class CliError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CliError'
  }
}

/** What a failing command prints and the exit code it ends with. */
export interface Explanation {
  readonly message: string
  readonly exitCode: number
}

/** Where the command tried to reach the database, for messages: `127.0.0.1:5432` or a folder. */
export interface DatabaseTarget {
  /** `host:port` of a server, or `embedded PostgreSQL in <dir>`. */
  readonly where: string
  /** The schema of Conveyor's tables. */
  readonly schema: string
  /** Flags that select the same database again, for the commands a message suggests. */
  readonly flags: string
  /** The database's name on a server, when the URL gives it. */
  readonly database?: string
  /** The user name on a server, when the URL gives it. */
  readonly user?: string
}

/** Turns any error thrown by a command into a message for a person and an exit code. */
export function explainError(error: unknown, target?: DatabaseTarget): Explanation {
  if (error instanceof UsageError) {
    const help = error.command ? `conveyor ${error.command} --help` : 'conveyor --help'
    return { message: `conveyor: ${error.message}\nRun \`${help}\` for usage.`, exitCode: 2 }
  }
  if (error instanceof CliError) return { message: `conveyor: ${error.message}`, exitCode: 1 }
  if (error instanceof StorageUnavailableError) {
    return { message: explainConnectionFailure(error, target), exitCode: 1 }
  }
  if (error instanceof SchemaNotMigratedError) {
    const schema = target?.schema ?? 'conveyor'
    const flags = target?.flags ? ` ${target.flags}` : ''
    const pending = /\(pending: ([^)]*)\)/.exec(error.message)?.[1]
    const why = pending ? ` (pending: ${pending})` : ` (${error.message})`
    return {
      message: `conveyor: schema "${schema}" is not migrated${why}: run \`conveyor migrate${flags}\` first.`,
      exitCode: 1,
    }
  }
  if (error instanceof ConveyorError) {
    // The library refused a value from the command line (a queue or kind name, ...): a usage mistake.
    const input = ['INVALID_ARGUMENT', 'INVALID_OPTIONS', 'INVALID_PAYLOAD', 'INVALID_SCHEDULE']
    if (input.includes(error.code)) {
      return { message: `conveyor: ${error.message}\nRun \`conveyor --help\` for usage.`, exitCode: 2 }
    }
    return { message: `conveyor: ${error.message}`, exitCode: 1 }
  }
  // A system call that failed (a file, a socket): its message names the call and the path.
  const system = error as { code?: unknown; syscall?: unknown } | null
  if (error instanceof Error && typeof system?.code === 'string' && typeof system.syscall === 'string') {
    return { message: `conveyor: ${error.message.split('\n')[0]}`, exitCode: 1 }
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error)
  return { message: `conveyor: unexpected error: ${detail}`, exitCode: 1 }
}
