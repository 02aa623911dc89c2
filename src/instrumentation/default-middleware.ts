/**
 * The middleware the factories install by default: tracing in front of the user's own, configured
 * by the `tracing` option (kept on the factories' options, so tracing stays on by default).
 */
import { type QueueOptions, validateMiddleware } from '../core/config/queue-options.js'
import { type TracingOptions, tracingMiddleware } from './tracing.js'

/** Queue options plus `tracing`, the settings of the default tracing middleware. */
export interface TracedQueueOptions extends QueueOptions {
  /**
   * OpenTelemetry spans for enqueues and runs (default: on, through the global tracer provider of
   * `@opentelemetry/api`, which records nothing unless the application installed an SDK). It runs
   * as the outermost middleware; `enabled: false` leaves it out.
   */
  readonly tracing?: TracingOptions
}

/**
 * The option keys `withDefaultMiddleware` takes out of the options, for the factories to pass to
 * `resolveConfig` as extra keys (so a misspelt option's error lists them among the known ones).
 */
export const DEFAULT_MIDDLEWARE_KEYS: readonly string[] = ['tracing']

/**
 * `options` without `tracing`, with the tracing middleware (validated from `tracing`) in front of
 * `options.middleware`; anything that is not an options object is returned for the core to reject.
 */
export function withDefaultMiddleware<O extends TracedQueueOptions>(options: O): Omit<O, 'tracing'> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return options
  const { tracing, ...rest } = options
  const traced = tracingMiddleware(tracing)
  if (traced.insert === undefined && traced.run === undefined) return rest
  const own = rest.middleware
  // Checked before tracing goes in front, so errors name the user's own indexes.
  validateMiddleware(own)
  return { ...rest, middleware: own === undefined ? [traced] : [traced, ...own] }
}
