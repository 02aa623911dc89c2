/**
 * Tracing cases, run on every adapter: producer spans at enqueue, consumer spans per run continuing
 * the stored trace (child or link), retries, errors, batches, and the switches.
 */
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { expect, it } from 'vitest'
import { buildReport, drainAll, type MakeQueue, sendEmail } from './harness.js'
import { type TestTracing, traceparentOf } from './otel.js'

/** Registers the tracing cases; `make` builds queues on the adapter under test. */
export function tracingCases(make: MakeQueue, otel: TestTracing): void {
  const tracer = () => otel.provider.getTracer('test')
  const traced = (runSpan?: 'child' | 'link') => make({ tracing: { tracerProvider: otel.provider, runSpan } })
  const only = (name: string): ReadableSpan => {
    const spans = otel.named(name)
    expect(spans.map((s) => s.name)).toEqual([name])
    return spans[0]!
  }
  /** Enqueues inside an active `request` span, as application code serving a request would. */
  const inRequest = <T>(fn: () => Promise<T>) =>
    tracer().startActiveSpan('request', async (span) => {
      try {
        return await fn()
      } finally {
        span.end()
      }
    })

  it('wraps enqueue in a PRODUCER span with messaging attributes, child of the active span', async () => {
    const queue = traced()
    const result = await inRequest(() => queue.enqueue(sendEmail, { to: 'a@example.com' }))
    const request = only('request')
    const send = only('send emails')
    expect(send.kind).toBe(SpanKind.PRODUCER)
    expect(send.parentSpanContext?.spanId).toBe(request.spanContext().spanId)
    expect(send.spanContext().traceId).toBe(request.spanContext().traceId)
    expect(send.attributes).toEqual({
      'messaging.system': 'conveyor',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': 'emails',
      'messaging.message.id': result.id,
      'conveyor.job.kind': 'send-email',
    })
    expect(send.instrumentationScope.name).toBe('conveyor')
    const job = await queue.getJob(result.id)
    expect(job?.traceContext).toEqual({ traceparent: traceparentOf(send.spanContext()) })
  })

  it('runs each job in a CONSUMER span that is a child of its enqueue span, around the handler', async () => {
    const queue = traced()
    queue.register(sendEmail, async () => {
      tracer().startSpan('smtp').end()
    })
    const { id } = await inRequest(() => queue.enqueue(sendEmail, { to: 'a@example.com' }))
    await drainAll(queue)
    const send = only('send emails')
    const run = only('process emails')
    expect(run.kind).toBe(SpanKind.CONSUMER)
    expect(run.spanContext().traceId).toBe(send.spanContext().traceId)
    expect(run.parentSpanContext?.spanId).toBe(send.spanContext().spanId)
    expect(run.links).toEqual([])
    expect(run.status.code).toBe(SpanStatusCode.UNSET)
    expect(run.attributes).toEqual({
      'messaging.system': 'conveyor',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': 'emails',
      'messaging.message.id': id,
      'conveyor.job.kind': 'send-email',
      'conveyor.job.attempt': 1,
      'conveyor.job.outcome': 'succeeded',
    })
    // Spans the handler starts are children of the run's span.
    expect(only('smtp').parentSpanContext?.spanId).toBe(run.spanContext().spanId)
  })

  it("with runSpan 'link', starts a new trace per run that links to the enqueue span", async () => {
    const queue = traced('link')
    queue.register(sendEmail, async () => {})
    await inRequest(() => queue.enqueue(sendEmail, { to: 'a@example.com' }))
    await drainAll(queue)
    const send = only('send emails')
    const run = only('process emails')
    expect(run.parentSpanContext).toBeUndefined()
    expect(run.spanContext().traceId).not.toBe(send.spanContext().traceId)
    expect(run.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId])
    expect(run.links[0]?.context.traceId).toBe(send.spanContext().traceId)
  })

  it('gives every attempt its own span in the enqueuing trace, errors recorded on the failed ones', async () => {
    const queue = traced()
    let calls = 0
    queue.register(sendEmail, async () => {
      calls++
      if (calls < 3) throw new TypeError(`flaky ${calls}`)
    })
    const { id } = await inRequest(() => queue.enqueue(sendEmail, { to: 'a@example.com' }))
    await drainAll(queue)
    const send = only('send emails')
    const runs = otel.named('process emails')
    expect(runs.map((s) => s.attributes['conveyor.job.attempt'])).toEqual([1, 2, 3])
    expect(runs.map((s) => s.attributes['conveyor.job.outcome'])).toEqual(['retry', 'retry', 'succeeded'])
    for (const run of runs) {
      expect(run.spanContext().traceId).toBe(send.spanContext().traceId)
      expect(run.parentSpanContext?.spanId).toBe(send.spanContext().spanId)
      expect(run.attributes['messaging.message.id']).toBe(id)
    }
    expect(runs.map((s) => s.status)).toEqual([
      { code: SpanStatusCode.ERROR, message: 'flaky 1' },
      { code: SpanStatusCode.ERROR, message: 'flaky 2' },
      { code: SpanStatusCode.UNSET },
    ])
    expect(runs[0]?.attributes['error.type']).toBe('TypeError')
    expect(runs[0]?.events.map((e) => e.name)).toEqual(['exception'])
    expect(runs[0]?.events[0]?.attributes).toMatchObject({
      'exception.type': 'TypeError',
      'exception.message': 'flaky 1',
    })
    expect(String(runs[0]?.events[0]?.attributes?.['exception.stacktrace'])).toContain('flaky 1')
    expect(runs[2]?.events).toEqual([])
  })

  it('records a final failure with status ERROR and an exception event', async () => {
    const queue = traced()
    queue.register(buildReport, async () => {
      throw new Error('boom')
    })
    await queue.enqueue(buildReport, { id: 1 })
    await drainAll(queue)
    const run = only('process reports')
    expect(run.parentSpanContext?.spanId).toBe(only('send reports').spanContext().spanId)
    expect(run.attributes['conveyor.job.outcome']).toBe('failed')
    expect(run.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' })
    expect(run.events[0]?.attributes).toMatchObject({
      'exception.type': 'Error',
      'exception.message': 'boom',
    })
  })

  it('wraps enqueueMany in one span with the count; its jobs run as its children', async () => {
    const queue = traced()
    queue.register(sendEmail, async () => {})
    const results = await inRequest(() =>
      queue.enqueueMany([1, 2, 3].map((n) => ({ job: sendEmail, payload: { to: `${n}@example.com` } }))),
    )
    const send = only('send emails')
    expect(send.attributes['messaging.batch.message_count']).toBe(3)
    expect(send.attributes['messaging.message.id']).toBeUndefined()
    await drainAll(queue)
    const runs = otel.named('process emails')
    expect(runs.map((s) => s.attributes['messaging.message.id']).sort()).toEqual(
      results.map((r) => r.id).sort(),
    )
    for (const run of runs) expect(run.parentSpanContext?.spanId).toBe(send.spanContext().spanId)
  })

  it('names a mixed batch after the operation only', async () => {
    const queue = traced()
    await queue.enqueueMany([
      { job: sendEmail, payload: { to: 'a@example.com' } },
      { job: buildReport, payload: { id: 1 } },
    ])
    const send = only('send')
    expect(send.attributes['messaging.batch.message_count']).toBe(2)
    expect(send.attributes['messaging.destination.name']).toBeUndefined()
    expect(send.attributes['conveyor.job.kind']).toBeUndefined()
  })

  it('records a failed enqueue on its span', async () => {
    const queue = traced()
    await expect(queue.enqueue({ kind: 'not-a-definition' } as never, {})).rejects.toThrow()
    const send = only('send')
    expect(send.status.code).toBe(SpanStatusCode.ERROR)
    expect(send.events.map((e) => e.name)).toEqual(['exception'])
  })

  it('stores what the global propagator writes, so baggage reaches the handler', async () => {
    propagation.setGlobalPropagator(
      new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
    )
    try {
      const queue = traced()
      let seen: string | undefined
      queue.register(sendEmail, async () => {
        seen = propagation.getBaggage(context.active())?.getEntry('tenant')?.value
      })
      const baggage = propagation.createBaggage({ tenant: { value: 'acme' } })
      const { id } = await context.with(propagation.setBaggage(context.active(), baggage), () =>
        queue.enqueue(sendEmail, { to: 'a@example.com' }),
      )
      expect((await queue.getJob(id))?.traceContext).toEqual({
        traceparent: traceparentOf(only('send emails').spanContext()),
        baggage: 'tenant=acme',
      })
      await drainAll(queue)
      expect(seen).toBe('acme')
    } finally {
      propagation.disable()
    }
  })

  it('uses the global tracer provider, also one registered after the queue first traced, when none is given', async () => {
    const queue = make()
    queue.register(sendEmail, async () => {})
    const before = await queue.enqueue(sendEmail, { to: 'a@example.com' })
    expect((await queue.getJob(before.id))?.traceContext).toBeNull()
    trace.setGlobalTracerProvider(otel.provider)
    try {
      const { id } = await queue.enqueue(sendEmail, { to: 'b@example.com' })
      await drainAll(queue)
      const send = only('send emails')
      expect((await queue.getJob(id))?.traceContext?.traceparent).toBe(traceparentOf(send.spanContext()))
      const runs = otel.named('process emails')
      expect(runs).toHaveLength(2)
      expect(runs.filter((r) => r.parentSpanContext?.spanId === send.spanContext().spanId)).toHaveLength(1)
    } finally {
      trace.disable()
    }
  })

  it('records nothing and stores no trace context when disabled', async () => {
    const queue = make({ tracing: { tracerProvider: otel.provider, enabled: false } })
    queue.register(sendEmail, async () => {})
    const { id } = await inRequest(() => queue.enqueue(sendEmail, { to: 'a@example.com' }))
    await drainAll(queue)
    expect(otel.spans().map((s) => s.name)).toEqual(['request'])
    expect((await queue.getJob(id))?.traceContext).toBeNull()
  })

  it('rejects invalid tracing options', () => {
    expect(() => make({ tracing: { runSpan: 'sibling' as never } })).toThrow(/runSpan/)
    expect(() => make({ tracing: { tracerProvider: {} as never } })).toThrow(/TracerProvider/)
    expect(() => make({ tracing: { enable: false } as never })).toThrow(
      'tracing: unknown option "enable" (did you mean "enabled"?). Known options: tracerProvider, runSpan, enabled.',
    )
    expect(() => make({ tracing: { enabled: 'no' as never } })).toThrow(
      'tracing.enabled must be true or false; got "no".',
    )
  })

  it('names tracing among the known options of a misspelt top-level option', () => {
    expect(() => make({ tracng: {} } as never)).toThrow(
      /unknown option "tracng" \(did you mean "tracing"\?\)\. Known options: .*\btracing\b/,
    )
  })
}
