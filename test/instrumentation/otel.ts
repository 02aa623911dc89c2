/**
 * OpenTelemetry SDK set-up for the instrumentation tests: a tracer provider that keeps finished
 * spans in memory, and AsyncLocalStorage as the context manager for the file (so active spans flow
 * through awaits, as in an application with the Node SDK).
 */
import { context, type SpanContext } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { afterAll, afterEach, beforeAll } from 'vitest'

/** What a test gets: the provider to pass as `tracing.tracerProvider`, and the spans it finished. */
export interface TestTracing {
  readonly provider: BasicTracerProvider
  readonly exporter: InMemorySpanExporter
  /** Finished spans, in the order they ended. */
  spans(): ReadableSpan[]
  /** The finished spans named `name`. */
  named(name: string): ReadableSpan[]
}

/** Installs the context manager for this file and a fresh span exporter, emptied after each test. */
export function useTracing(): TestTracing {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const manager = new AsyncLocalStorageContextManager()
  beforeAll(() => {
    context.setGlobalContextManager(manager.enable())
  })
  afterEach(() => exporter.reset())
  afterAll(async () => {
    context.disable()
    await provider.shutdown()
  })
  return {
    provider,
    exporter,
    spans: () => exporter.getFinishedSpans(),
    named: (name) => exporter.getFinishedSpans().filter((s) => s.name === name),
  }
}

/** The W3C `traceparent` of a span context, as Conveyor stores it. */
export function traceparentOf(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`
}
