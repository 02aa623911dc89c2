/**
 * The messages between the queue and an isolated runner (a worker thread or a child process), and
 * how values cross: results and thrown values are encoded on one side and rebuilt on the other, so
 * errors keep their name, message, stack and code, and controls (snooze, fail, cancel) stay controls.
 */
import { CancelJob, FailJob, JobControl, SnoozeJob } from '../core/domain/controls.js'
import type { JobRecord } from '../core/domain/job.js'
import type { JsonValue } from '../core/domain/json.js'
import type { LogFields, LogLevel } from '../core/ports/logger.js'
import type { ScheduleRunInfo } from '../core/ports/queue.js'

/** Queue to runner: run one attempt of a job with the module's handler. */
export interface RunMessage {
  readonly type: 'run'
  /** The handler module's `file:` URL. */
  readonly module: string
  readonly payload: unknown
  readonly job: JobRecord
  readonly state: JsonValue | null
  readonly schedule: ScheduleRunInfo | null
  /** W3C trace context of the run's span (`traceparent`, `tracestate`), possibly empty. */
  readonly trace: Record<string, string>
}

/**
 * Queue to runner: the attempt running there was aborted (timeout, cancellation, shutdown); its
 * `ctx.signal` aborts with `reason` (an error with the original name and message). The runner is
 * terminated once the attempt ends or its grace runs out, whichever is first.
 */
export interface AbortMessage {
  readonly type: 'abort'
  readonly reason: WireValue
}

/** Every message from the queue to a runner. */
export type QueueMessage = RunMessage | AbortMessage

/** A value as it crosses: a plain value, an error, or a control. */
export type WireValue =
  | { readonly t: 'plain'; readonly v: unknown }
  | {
      readonly t: 'error'
      readonly name: string
      readonly message: string
      readonly stack?: string
      readonly code?: string
    }
  | {
      readonly t: 'control'
      readonly control: 'snooze' | 'fail' | 'cancel'
      readonly delayMs?: number
      readonly reason?: string
      readonly state?: JsonValue
    }

/** Runner to queue: a log line, a state change, or the end of the attempt. */
export type RunnerMessage =
  | { readonly type: 'log'; readonly level: LogLevel; readonly message: string; readonly fields?: LogFields }
  | { readonly type: 'state'; readonly state: JsonValue }
  | { readonly type: 'done'; readonly kind: 'value' | 'thrown'; readonly value: WireValue }
  /** A child process's uncaught exception, sent just before it exits (a thread reports its own). */
  | { readonly type: 'fatal'; readonly detail: string }

/** Encodes what a handler returned or threw for the trip back. */
export function encodeValue(value: unknown): WireValue {
  if (value instanceof JobControl) {
    if (value instanceof SnoozeJob)
      return { t: 'control', control: 'snooze', delayMs: value.delayMs, state: value.state }
    if (value instanceof FailJob)
      return { t: 'control', control: 'fail', reason: value.reason, state: value.state }
    if (value instanceof CancelJob)
      return { t: 'control', control: 'cancel', reason: value.reason, state: value.state }
  }
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code
    return {
      t: 'error',
      name: value.name || 'Error',
      message: value.message,
      stack: value.stack,
      code: typeof code === 'string' ? code : undefined,
    }
  }
  return { t: 'plain', v: value }
}

/** Rebuilds an encoded value: an `Error` with the original name, stack and code, or a control. */
export function decodeValue(wire: WireValue): unknown {
  switch (wire.t) {
    case 'plain':
      return wire.v
    case 'error': {
      const error = new Error(wire.message)
      error.name = wire.name
      if (wire.stack !== undefined) error.stack = wire.stack
      if (wire.code !== undefined) Object.assign(error, { code: wire.code })
      return error
    }
    case 'control':
      if (wire.control === 'snooze') return new SnoozeJob(wire.delayMs ?? 0, wire.state)
      if (wire.control === 'fail') return new FailJob(wire.reason ?? '', wire.state)
      return new CancelJob(wire.reason ?? '', wire.state)
  }
}

/** A JSON copy of log fields (errors become `{ name, message, stack }`), safe to post anywhere. */
export function cloneableFields(fields: LogFields | undefined): LogFields | undefined {
  if (fields === undefined) return undefined
  try {
    return JSON.parse(
      JSON.stringify(fields, (_key, v: unknown) =>
        v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v,
      ),
    ) as LogFields
  } catch (error) {
    return { unserializable: String(error) }
  }
}
