/**
 * `conveyor-jobs/metrics`: Prometheus metrics of a queue with `prom-client`, on the application's own
 * registry, and the handler that renders them for a `/metrics` route.
 */
export type { MetricsOptions, MetricsResponse, QueueMetrics } from './metrics.js'
export { createMetrics, metricsHandler } from './metrics.js'
