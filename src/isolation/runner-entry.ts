/**
 * The entry module of an isolated runner (a worker thread, or a child process started with `fork`):
 * waits for `run` messages, imports the handler module once, runs the handler with a context whose
 * log lines, state changes and result travel back as messages. One attempt at a time. The handler
 * runs inside the run span's trace context (extracted from the message's W3C carrier), so spans the
 * module makes with an SDK it registered (a provider and a context manager, as the Node SDK does)
 * are children of the run span; an `abort` message aborts the attempt's `ctx.signal`.
 */
import { parentPort } from 'node:worker_threads'
import { context } from '@opentelemetry/api'
import { CancelJob, FailJob, SnoozeJob } from '../core/domain/controls.js'
import type { JobRecord } from '../core/domain/job.js'
import type { JsonValue } from '../core/domain/json.js'
import type { LogFields, Logger, LogLevel } from '../core/ports/logger.js'
import type { IsolatedJobContext, ScheduleRunInfo } from '../core/ports/queue.js'
import { extractTraceContext } from '../instrumentation/tracing.js'
import {
  cloneableFields,
  decodeValue,
  encodeValue,
  type QueueMessage,
  type RunMessage,
  type RunnerMessage,
} from './protocol.js'

/** Sends a message to the queue, over the thread's port or the process's IPC channel. */
function send(message: RunnerMessage): void {
  if (parentPort) parentPort.postMessage(message)
  else process.send?.(message)
}

/** The `ctx` an isolated handler receives: the in-process context minus `tx`, plus the trace carrier. */
class IsolatedContext implements IsolatedJobContext {
  readonly job: JobRecord
  readonly attempt: number
  readonly run: number
  readonly schedule: ScheduleRunInfo | null
  readonly tx = null
  /** W3C trace context of the run's span: `propagation.extract(context.active(), ctx.traceCarrier)`. */
  readonly traceCarrier: Readonly<Record<string, string>>
  /** Aborted when the queue aborts the attempt (timeout, cancellation, shutdown), with its reason. */
  readonly signal: AbortSignal
  readonly log: Logger
  state: JsonValue | null

  constructor(message: RunMessage, signal: AbortSignal) {
    this.signal = signal
    this.job = message.job
    this.attempt = message.job.attempt
    this.run = message.job.runs
    this.schedule = message.schedule
    this.state = message.state
    this.traceCarrier = Object.freeze({ ...message.trace })
    const line = (level: LogLevel) => (text: string, fields?: LogFields) =>
      send({ type: 'log', level, message: String(text), fields: cloneableFields(fields) })
    this.log = { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') }
  }

  setState(next: JsonValue): void {
    this.state = next
    send({ type: 'state', state: next })
  }

  snooze(delayMs: number, options?: { state?: JsonValue }): SnoozeJob {
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0)
      throw new RangeError(`snooze(delayMs) needs a finite number >= 0; got ${String(delayMs)}.`)
    return new SnoozeJob(delayMs, options?.state)
  }

  fail(reason: string): FailJob {
    return new FailJob(String(reason))
  }

  cancel(reason: string): CancelJob {
    return new CancelJob(String(reason))
  }
}

type Handler = (payload: unknown, ctx: IsolatedContext) => unknown

/**
 * The handlers this runner loaded, by module URL: importing again on every attempt would go through
 * the module loader (and tsx's hooks) each time. The runner is its own thread or process, so this
 * map is its whole state, not a global of the queue's process.
 */
const handlers = new Map<string, Promise<Handler>>()

/** The handler of a module, loaded once (a failed load is tried again by the next attempt). */
function handlerOf(module: string): Promise<Handler> {
  let handler = handlers.get(module)
  if (!handler) {
    handler = loadHandler(module)
    handler.catch(() => handlers.delete(module))
    handlers.set(module, handler)
  }
  return handler
}

/** The handler of a module: its default export, or its export `handler`. */
async function loadHandler(module: string): Promise<Handler> {
  const exports = (await import(module)) as { default?: unknown; handler?: unknown }
  const candidate = typeof exports.default === 'function' ? exports.default : exports.handler
  if (typeof candidate !== 'function') {
    throw new TypeError(
      `The handler module ${module} exports no handler: export default async function (payload, ctx) { ... } (or export const handler).`,
    )
  }
  return candidate as Handler
}

/**
 * The abort of the attempt running now (one at a time per runner). Like `handlers`, this runner's
 * own state: the runner is its own thread or process.
 */
let running: AbortController | null = null

async function run(message: RunMessage): Promise<void> {
  let kind: 'value' | 'thrown' = 'value'
  let value: unknown
  const abort = new AbortController()
  running = abort
  try {
    const handler = await handlerOf(message.module)
    const ctx = new IsolatedContext(message, abort.signal)
    // Loaded first: the module may register its tracing SDK when it is imported.
    value = await context.with(extractTraceContext(message.trace), () => handler(message.payload, ctx))
  } catch (thrown) {
    kind = 'thrown'
    value = thrown
  } finally {
    if (running === abort) running = null
  }
  try {
    send({ type: 'done', kind, value: encodeValue(value) })
  } catch (error) {
    // The result cannot be cloned (a function, a socket...): the attempt fails, saying why.
    send({ type: 'done', kind: 'thrown', value: encodeValue(error) })
  }
}

const onMessage = (message: QueueMessage) => {
  if (message?.type === 'run') void run(message)
  else if (message?.type === 'abort') running?.abort(decodeValue(message.reason))
}
if (parentPort) parentPort.on('message', onMessage)
else {
  process.on('message', onMessage)
  // A thread's uncaught exception reaches the queue through the Worker's 'error' event; a child
  // process's would only reach stderr, so it is sent first, then the process exits as Node would.
  process.on('uncaughtException', (error) => {
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
    try {
      process.send?.({ type: 'fatal', detail } satisfies RunnerMessage, () => process.exit(1))
    } catch {
      process.exit(1)
    }
  })
}
