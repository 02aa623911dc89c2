/**
 * OpenTelemetry tracing as middleware (`tracingMiddleware`), through `@opentelemetry/api` only (the
 * application owns the SDK): a PRODUCER span around each enqueue call, whose W3C trace context is
 * stored with its jobs, and a CONSUMER span around each run that continues that trace, as a child
 * (default) or through a link. The adapters' factories install it by default.
 * Attributes follow the messaging semantic conventions. Without an SDK the API is a no-op: a span
 * that records nothing and carries no trace is not even made current, so the cost is a few small
 * allocations per call.
 */
import {
  type Attributes,
  type Context,
  context,
  createTraceState,
  isSpanContextValid,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api'
import { InvalidArgumentError } from '../core/domain/errors.js'
import type { JobRecord } from '../core/domain/job.js'
import { validateOptionalBoolean, validateOptionsObject } from '../core/domain/validation.js'
import type { InsertCall, Middleware, RowEdit, RunReport } from '../core/ports/middleware.js'
import type { InsertOutcome, NewJob } from '../core/ports/store.js'

/** Tracing settings of a queue (`QueueOptions.tracing`). */
export interface TracingOptions {
  /** Where spans go (default: the global provider of `@opentelemetry/api`, looked up at each use). */
  readonly tracerProvider?: TracerProvider
  /**
   * How a run's span joins the trace of the code that enqueued the job: `child` (default) makes it a
   * child of the enqueue span, in the same trace; `link` starts a new trace that links to it.
   */
  readonly runSpan?: 'child' | 'link'
  /** False turns tracing off: no spans, and no trace context stored with jobs (default true). */
  readonly enabled?: boolean
}

/** The fields of `TracingOptions`; any other key is refused (a typo would otherwise be ignored). */
const TRACING_KEYS = ['tracerProvider', 'runSpan', 'enabled']

/** A job's stored W3C trace context: `traceparent`, and `tracestate` or baggage when present. */
export type TraceCarrier = Record<string, string>

/** The instrumentation scope of Conveyor's spans. */
export const TRACER_NAME = 'conveyor'

/**
 * The API's no-op provider: what the global proxy delegates to until an SDK is registered (taken
 * from a fresh proxy, since the API does not export it).
 */
const NOOP_TRACER_PROVIDER: TracerProvider = new ProxyTracerProvider().getDelegate()

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/**
 * Middleware that traces enqueue calls and runs with OpenTelemetry (see the module comment). The
 * options are validated here; with `enabled: false` it has no hooks, so it costs nothing.
 */
export function tracingMiddleware(options?: TracingOptions): Middleware {
  const tracing = new Tracing(options)
  if (!tracing.enabled) return { name: 'tracing' }
  return {
    name: 'tracing',
    insert: (call, next) => tracing.send(call, next),
    run: (job, next) => tracing.process(job, next),
  }
}

/** Starts and ends Conveyor's spans for one queue. */
class Tracing {
  /** False when tracing is off: every method then just runs its function. */
  readonly enabled: boolean
  readonly #provider: TracerProvider | undefined
  readonly #link: boolean

  /** Validates the options (undefined means on, with the global provider). */
  constructor(options: TracingOptions | undefined) {
    if (options !== undefined && (typeof options !== 'object' || options === null))
      throw new InvalidArgumentError('tracing must be an object: { tracerProvider?, runSpan?, enabled? }.')
    validateOptionsObject(options, 'tracing', TRACING_KEYS)
    validateOptionalBoolean(options?.enabled, 'tracing.enabled')
    const runSpan = options?.runSpan ?? 'child'
    if (runSpan !== 'child' && runSpan !== 'link')
      throw new InvalidArgumentError(`tracing.runSpan must be 'child' or 'link'; got ${String(runSpan)}.`)
    const provider = options?.tracerProvider
    if (provider !== undefined && typeof provider?.getTracer !== 'function')
      throw new InvalidArgumentError('tracing.tracerProvider must be an OpenTelemetry TracerProvider.')
    this.enabled = options?.enabled !== false
    this.#provider = provider
    this.#link = runSpan === 'link'
  }

  #cachedTracer: Tracer | null = null

  /**
   * The tracer, got once: from the global API before any SDK is registered it is a proxy that
   * forwards to a provider registered later, so caching it loses nothing and saves an object per job.
   */
  #tracer(): Tracer {
    this.#cachedTracer ??= (this.#provider ?? trace).getTracer(TRACER_NAME)
    return this.#cachedTracer
  }

  /**
   * True while spans would go nowhere: no SDK registered behind the global API (checked at each
   * call, so one registered later is used at once), or a no-op provider given. A root span of such a
   * provider records nothing and carries nothing, so the call skips making it (and its attributes).
   */
  #noop(): boolean {
    const provider = this.#provider ?? trace.getTracerProvider()
    const effective = provider instanceof ProxyTracerProvider ? provider.getDelegate() : provider
    return effective === NOOP_TRACER_PROVIDER
  }

  /**
   * Runs `next` (an enqueue call) inside a PRODUCER span, asking it to store the span's trace
   * context with each job; a single enqueue's span gets the job's id.
   */
  async send(
    target: InsertCall,
    next: (edit?: RowEdit) => Promise<readonly InsertOutcome[]>,
  ): Promise<readonly InsertOutcome[]> {
    const parent = context.active()
    if (parent === ROOT_CONTEXT && this.#noop()) return next()
    const attributes: Attributes = {
      'messaging.system': 'conveyor',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
    }
    if (target.queue !== undefined) attributes['messaging.destination.name'] = target.queue
    if (target.kind !== undefined) attributes['conveyor.job.kind'] = target.kind
    if (target.operation === 'enqueueMany') attributes['messaging.batch.message_count'] = target.count
    const name = target.queue === undefined ? 'send' : `send ${target.queue}`
    const span = this.#tracer().startSpan(name, { kind: SpanKind.PRODUCER, attributes }, parent)
    if (parent === ROOT_CONTEXT && isNoop(span)) {
      span.end()
      return next()
    }
    const active = trace.setSpan(parent, span)
    const carrier = injectTraceContext(active)
    const edit = carrier === null ? undefined : (row: NewJob): NewJob => ({ ...row, traceContext: carrier })
    try {
      const outcomes = await context.with(active, next, undefined, edit)
      const [first] = outcomes
      if (target.operation === 'enqueue' && first) {
        span.setAttribute('messaging.message.id', first.job.id)
        if (first.duplicate) span.setAttribute('conveyor.job.duplicate', true)
      }
      return outcomes
    } catch (error) {
      recordError(span, error)
      throw error
    } finally {
      span.end()
    }
  }

  /**
   * Runs `fn` (one run of `job`) inside a CONSUMER span that continues the job's stored trace, as
   * its child or linked to it; a failed attempt (retried or not) sets status ERROR.
   */
  process<T extends RunReport>(job: JobRecord, fn: () => Promise<T>): Promise<T> {
    // Without a stored trace to continue (or when runs only link to it), a no-op provider's span is
    // a root that records nothing: skip it, and the async layer that ends it.
    if ((job.traceContext === null || this.#link) && this.#noop()) return fn()
    return this.#processInSpan(job, fn)
  }

  async #processInSpan<T extends RunReport>(job: JobRecord, fn: () => Promise<T>): Promise<T> {
    const stored = job.traceContext ? extractTraceContext(job.traceContext) : null
    const storedSpan = stored ? trace.getSpanContext(stored) : undefined
    // A run starts from the root, not from whatever context started the worker loop.
    const parent = stored && storedSpan && !this.#link ? stored : ROOT_CONTEXT
    const span = this.#tracer().startSpan(
      `process ${job.queue}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'conveyor',
          'messaging.operation.type': 'process',
          'messaging.operation.name': 'process',
          'messaging.destination.name': job.queue,
          'messaging.message.id': job.id,
          'conveyor.job.kind': job.kind,
          'conveyor.job.attempt': job.attempt,
        },
        links: storedSpan && this.#link ? [{ context: storedSpan }] : undefined,
      },
      parent,
    )
    if (parent === ROOT_CONTEXT && isNoop(span)) {
      span.end()
      return fn()
    }
    try {
      const result = await context.with(trace.setSpan(parent, span), fn)
      const { outcome } = result.completion
      span.setAttribute('conveyor.job.outcome', outcome)
      const error = outcome === 'retry' || outcome === 'failed' ? result.completion.error : undefined
      if (error) {
        span.setAttribute('error.type', error.name)
        span.recordException({ name: error.name, message: error.message, stack: error.stack })
        span.setStatus({ code: SpanStatusCode.ERROR, message: error.message })
      }
      return result
    } catch (error) {
      recordError(span, error)
      throw error
    } finally {
      span.end()
    }
  }
}

/**
 * True for the span of a tracer without SDK: it records nothing and carries no trace, so a root
 * context with it holds nothing to store or to pass on (the fast path: no context switch at all).
 */
function isNoop(span: Span): boolean {
  return !span.isRecording() && !isSpanContextValid(span.spanContext())
}

/** Records a thrown value on a span: an exception event, `error.type` and status ERROR. */
function recordError(span: Span, error: unknown): void {
  const e = error instanceof Error ? error : new Error(String(error))
  span.setAttribute('error.type', e.name)
  span.recordException(e)
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.message })
}

/**
 * The trace context of `ctx` to store with a job: whatever the global propagator writes (W3C by
 * default in the Node SDK, plus baggage), and at least a W3C `traceparent` when the context has a
 * valid span (an SDK without a registered propagator). Null when there is nothing to store.
 */
export function injectTraceContext(ctx: Context): TraceCarrier | null {
  const carrier: TraceCarrier = {}
  propagation.inject(ctx, carrier)
  if (carrier.traceparent === undefined) {
    const sc = trace.getSpanContext(ctx)
    if (sc && isSpanContextValid(sc)) {
      carrier.traceparent = `00-${sc.traceId}-${sc.spanId}-0${(sc.traceFlags & 1).toString(16)}`
      const state = sc.traceState?.serialize()
      if (state) carrier.tracestate = state
    }
  }
  for (const _ in carrier) return carrier
  return null
}

/** The context a stored trace context stands for (read by the global propagator, or as W3C). */
export function extractTraceContext(carrier: Readonly<TraceCarrier>): Context {
  const ctx = propagation.extract(ROOT_CONTEXT, carrier)
  if (trace.getSpanContext(ctx)) return ctx
  const sc = parseTraceparent(carrier.traceparent, carrier.tracestate)
  return sc ? trace.setSpanContext(ctx, sc) : ctx
}

/** Parses a W3C `traceparent` header (version 00 layout); undefined when it is not a valid one. */
function parseTraceparent(header: unknown, state: unknown): SpanContext | undefined {
  if (typeof header !== 'string') return undefined
  const m = TRACEPARENT.exec(header.trim())
  if (!m || m[1] === 'ff') return undefined
  const sc: SpanContext = {
    traceId: m[2]!,
    spanId: m[3]!,
    traceFlags: Number.parseInt(m[4]!, 16) & 1,
    isRemote: true,
    traceState: typeof state === 'string' && state.length > 0 ? createTraceState(state) : undefined,
  }
  return isSpanContextValid(sc) ? sc : undefined
}
