/** Settings of a worker under test (`Worker` of src/core/runtime/worker.ts). */
import type { WorkerSettings } from '../../src/core/runtime/worker.js'

/**
 * One queue (`default`), capacity 1, no buffer, a 1 s poll and a 5 s buffer wait, oversized jobs
 * alone, priority order; `overrides` win.
 */
export function workerSettings(overrides: Partial<WorkerSettings> = {}): WorkerSettings {
  return {
    id: 'w',
    queues: ['default'],
    capacity: 1,
    oversized: 'alone',
    strategy: 'priority',
    pollIntervalMs: 1000,
    prefetch: 0,
    prefetchMax: 0,
    maxBufferWaitMs: 5000,
    ...overrides,
  }
}
