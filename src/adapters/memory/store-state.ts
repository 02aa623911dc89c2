import type { JobTable } from './job-table.js'
import type { ScheduleTable } from './schedule-table.js'
import type { StoreEvents } from './store-events.js'

/**
 * The memory store's state, shared by its parts (the store itself, its job admin and its process
 * liveness): the tables, the paused queues, the feeds, and the store's time.
 */
export interface StoreState {
  readonly jobs: JobTable
  readonly schedules: ScheduleTable
  /** Names of paused queues. */
  readonly paused: Set<string>
  readonly events: StoreEvents
  /** The given `now`, else the store's clock (a real-time queue omits `now`). */
  time(now: number | undefined): number
  /** Notes `now` as seen: the latest is the time of deletes and prunes (which carry none). */
  seen(now: number): void
  /** The latest `now` seen. */
  lastNow(): number
  /** Wakes listeners of the queues in which jobs became due by `now`. */
  settle(now: number): void
}
