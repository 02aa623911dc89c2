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
  readonly fields?: LogFields | undefined
}

/** A logger that drops everything (the default when none is given). */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
})

/** Creates the per-run logger: keeps up to `maxLines` lines and forwards each to `forward` with job fields. */
export function createRunLogger(
  now: () => number,
  forward: Logger,
  bound: LogFields,
  maxLines = 200,
): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = []
  let dropped = 0
  const write = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (lines.length < maxLines)
      lines.push({ at: now(), level, message: String(message).slice(0, 4000), fields })
    else if (dropped++ === 0)
      lines.push({
        at: now(),
        level: 'warn',
        message: `log limit of ${maxLines} lines reached; further lines dropped`,
      })
    forward[level](message, { ...bound, ...fields })
  }
  return {
    logger: { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') },
    lines,
  }
}
