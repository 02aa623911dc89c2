/**
 * The logger of one job run: keeps a bounded copy of its lines to store with the run and forwards
 * every line to the queue's logger.
 */
import type { LogFields, Logger, LogLevel, LogLine } from '../ports/logger.js'

/** Most lines a run keeps; later lines are counted as dropped (and still forwarded). */
export const MAX_RUN_LOG_LINES = 200

/** Most characters of messages and fields a run keeps, so a job's stored logs stay small. */
export const MAX_RUN_LOG_CHARS = 64_000

const MAX_MESSAGE_CHARS = 4000
const MAX_FIELDS_CHARS = 4000

/** A run's logger and what it kept. */
export interface RunLogger {
  readonly logger: Logger
  /** Lines kept, oldest first. */
  readonly lines: LogLine[]
  /** How many lines were not kept (over the line or size limit). */
  dropped(): number
}

/**
 * Creates the per-run logger: keeps up to `maxLines` lines (JSON copies of their fields, within
 * `MAX_RUN_LOG_CHARS` in all) and forwards every line to `forward` with the `bound` job fields.
 */
export function createRunLogger(
  now: () => number,
  forward: Logger,
  bound: LogFields,
  maxLines = MAX_RUN_LOG_LINES,
): RunLogger {
  const lines: LogLine[] = []
  let budget = MAX_RUN_LOG_CHARS
  let dropped = 0
  const write = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (lines.length < maxLines && budget > 0) {
      const text = String(message).slice(0, MAX_MESSAGE_CHARS)
      const json = fields === undefined ? undefined : jsonFields(fields)
      budget -= text.length + (json?.size ?? 0)
      lines.push(
        json ? { at: now(), level, message: text, fields: json.value } : { at: now(), level, message: text },
      )
    } else {
      dropped++
    }
    forward[level](message, { ...bound, ...fields })
  }
  return {
    logger: { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') },
    lines,
    dropped: () => dropped,
  }
}

/** A JSON copy of log fields and its size in characters; undefined when there is nothing to keep. */
function jsonFields(fields: unknown): { value: LogFields; size: number } | undefined {
  let text: string | undefined
  try {
    text = JSON.stringify(typeof fields === 'object' && fields !== null ? fields : { value: fields }, toJson)
  } catch (error) {
    text = JSON.stringify({ unserializable: String(error) })
  }
  if (text === undefined || text === '{}') return undefined
  if (text.length > MAX_FIELDS_CHARS) {
    const cut = text.slice(0, MAX_FIELDS_CHARS)
    return { value: { truncated: cut }, size: cut.length }
  }
  const value: unknown = JSON.parse(text)
  const isRecord = typeof value === 'object' && value !== null && !Array.isArray(value)
  return { value: isRecord ? (value as LogFields) : { value }, size: text.length }
}

/** JSON replacer for log fields: errors keep name, message and stack; bigints become strings. */
function toJson(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack }
  return value
}
