/**
 * `createQueue` of the main entry point: the core's, with the default middleware (tracing) the
 * adapters' factories install too, so `tracing` options work the same on every way to a queue.
 */
import { resolveConfig } from './core/config/resolve-config.js'
import { type CoreQueue, createConfiguredQueue } from './core/create-queue.js'
import type { JobStore } from './core/ports/store.js'
import {
  DEFAULT_MIDDLEWARE_KEYS,
  type TracedQueueOptions,
  withDefaultMiddleware,
} from './instrumentation/default-middleware.js'

/** Creates a queue on a store, tracing on by default (`options.tracing`), then `options.middleware`. */
export function createQueue(store: JobStore, options: TracedQueueOptions = {}): CoreQueue {
  return createConfiguredQueue(
    store,
    resolveConfig(withDefaultMiddleware(options), { extraKeys: DEFAULT_MIDDLEWARE_KEYS }),
  )
}
