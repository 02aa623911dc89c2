/**
 * The store-level conformance suite's contract (River's `riverdrivertest.Exercise`): each adapter
 * gives a factory of fresh, empty stores and the capabilities the suite switches cases on.
 */
import type { JobStore, StoreCapabilities } from '../../src/core/ports/store.js'

/** What the suite runs against: a name for the report, fresh stores, and the flags to switch cases on. */
export interface StoreFactory {
  readonly name: string
  /** A store with no jobs, schedules, paused queues or heartbeats, whose job ids start at "1". */
  createStore(): Promise<JobStore>
  readonly capabilities: StoreCapabilities
  /**
   * Cases this store is known to fail (a divergence from the port, to fix), by case name, with the
   * reason: they run as expected failures, so a fix turns them red until the entry is removed.
   */
  readonly knownGaps?: Readonly<Record<string, string>>
}
