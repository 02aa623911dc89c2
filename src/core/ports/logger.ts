/** Structured fields attached to a log line. */
export type LogFields = Record<string, unknown>

/** A leveled, structured logger (the shape of pino, console-like loggers adapt in one line). */
export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

/** Log level names, least to most severe. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

/** One line kept with a job run. */
export interface LogLine {
  readonly at: number
  readonly level: LogLevel
  readonly message: string
  /** A JSON copy of the line's fields, made when it was logged (errors become `{ name, message, stack }`). */
  readonly fields?: LogFields | undefined
}

/** A logger that drops everything (the default when none is given). */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
})
