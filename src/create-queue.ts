/**
 * `createQueue` of the main entry point: the core's, with the default middleware (tracing) the
 * adapters' factories install too, so `tracing` options work the same on every way to a queue.
 */
import { type CoreQueue, createQueue as createCoreQueue } from './core/create-queue.js'
import type { JobStore } from './core/ports/store.js'
import { type TracedQueueOptions, withDefaultMiddleware } from './instrumentation/default-middleware.js'

/** Creates a queue on a store, tracing on by default (`options.tracing`), then `options.middleware`. */
export function createQueue(store: JobStore, options: TracedQueueOptions = {}): CoreQueue {
  return createCoreQueue(store, withDefaultMiddleware(options))
}
