/**
 * Tracing from the request that enqueues a job to each of its runs, with the OpenTelemetry SDK.
 *
 *   npx tsx examples/tracing.ts                          # in memory
 *   DATABASE_URL=postgres://... npx tsx examples/tracing.ts   # on PostgreSQL (schema conveyor_example)
 *
 * Conveyor only uses `@opentelemetry/api`; the application installs the SDK (here by hand, as
 * `@opentelemetry/sdk-node` would): a tracer provider with an exporter, the AsyncLocalStorage
 * context manager (so the active span follows `await`) and the W3C propagator. The job fails once
 * and is retried: the printed tree shows the enqueue span with both runs below it, in one trace.
 */
import { context, propagation, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { type CoreQueue, createSystemClock, defineJob } from 'conveyor-jobs'
import { createMemoryQueue } from 'conveyor-jobs/memory'
import { createPostgresQueue } from 'conveyor-jobs/postgres'

// 1. The application's OpenTelemetry set-up (use an OTLP exporter in production).
const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
trace.setGlobalTracerProvider(provider)
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
propagation.setGlobalPropagator(new W3CTraceContextPropagator())
const tracer = trace.getTracer('example-app')

// 2. A queue: Conveyor traces through the global provider by default (or pass `tracing: { tracerProvider }`).
const url = process.env.DATABASE_URL
let queue: CoreQueue
if (url) {
  const pg = createPostgresQueue({ connectionString: url, schema: 'conveyor_example' })
  await pg.migrate()
  queue = pg
} else {
  queue = createMemoryQueue({ clock: createSystemClock() })
}

const sendWelcome = defineJob<{ userId: number }>({ kind: 'send-welcome', queue: 'emails', maxAttempts: 3 })

let attempts = 0
queue.register(sendWelcome, async ({ userId }, ctx) => {
  // Spans started in a handler are children of the run's span.
  await tracer.startActiveSpan('render template', async (span) => {
    span.setAttribute('user.id', userId)
    span.end()
  })
  ctx.log.info('sending', { userId })
  if (++attempts === 1) throw new Error('SMTP timeout')
})

// 3. A request handler enqueues inside its own span; the job stores that trace context.
const { id } = await tracer.startActiveSpan('POST /signup', async (span) => {
  try {
    return await queue.enqueue(sendWelcome, { userId: 42 }, { backoff: { baseMs: 200, jitter: 0 } })
  } finally {
    span.end()
  }
})

// 4. A worker runs it (in production, another process reading the same database).
await queue.start()
let job = await queue.getJob(id)
while (job?.state !== 'succeeded') {
  // Polling also keeps this script alive: Conveyor's timers never hold a process open on their own.
  await new Promise((resolve) => setTimeout(resolve, 50))
  job = await queue.getJob(id)
}
await queue.shutdown()
await provider.forceFlush()

// 5. The trace tree.
const spans = exporter.getFinishedSpans()
const children = new Map<string | undefined, ReadableSpan[]>()
const ids = new Set(spans.map((s) => s.spanContext().spanId))
for (const span of spans) {
  const parent = span.parentSpanContext?.spanId
  const key = parent && ids.has(parent) ? parent : undefined
  children.set(key, [...(children.get(key) ?? []), span])
}
const KINDS = ['internal', 'server', 'client', 'producer', 'consumer']
const print = (span: ReadableSpan, depth: number) => {
  const a = span.attributes
  const [s, ns] = span.duration
  const ms = (s * 1000 + ns / 1e6).toFixed(1)
  const details = [
    KINDS[span.kind],
    a['messaging.message.id'] === undefined ? null : `job ${a['messaging.message.id']}`,
    a['conveyor.job.attempt'] === undefined ? null : `attempt ${a['conveyor.job.attempt']}`,
    a['conveyor.job.outcome'] === undefined ? null : String(a['conveyor.job.outcome']),
    span.status.code === 2 ? `ERROR: ${span.status.message}` : null,
    `${ms} ms`,
  ].filter(Boolean)
  console.log(`${'  '.repeat(depth)}${depth === 0 ? '' : '└─ '}${span.name}  (${details.join(', ')})`)
  for (const child of children.get(span.spanContext().spanId) ?? []) print(child, depth + 1)
}
console.log(`Adapter: ${url ? 'PostgreSQL' : 'memory'}; trace ${spans[0]?.spanContext().traceId}`)
for (const root of children.get(undefined) ?? []) print(root, 0)
console.log(`Stored trace context: ${JSON.stringify(job?.traceContext)}`)
console.log(`Run logs: ${JSON.stringify(job?.logs?.map((r) => [r.attempt, r.lines.map((l) => l.message)]))}`)
