/**
 * The conformance harness: every adapter provides a factory that builds a fresh, isolated queue on a
 * `ManualClock`; the same cases run against each. Capability flags switch single cases off.
 */

import type { QueueOptions } from '../../src/core/config/queue-options.js'
import type { CoreQueue } from '../../src/core/create-queue.js'
import type { ManualClock } from '../../src/core/ports/clock.js'
import type { StoreCapabilities } from '../../src/core/ports/store.js'

/** What a conformance case gets: a fresh queue on a manual clock. */
export interface Harness {
  readonly queue: CoreQueue
  readonly clock: ManualClock
  readonly capabilities: StoreCapabilities
  /** Shuts the queue down and drops its data. */
  close(): Promise<void>
}

/** Builds a harness; `options` are passed to the queue (the clock is always the harness's). */
export type HarnessFactory = (options?: Omit<QueueOptions, 'clock'>) => Promise<Harness>

/** The start time of every harness clock: 2030-01-01T00:00:00Z. */
export const T0 = Date.UTC(2030, 0, 1)
