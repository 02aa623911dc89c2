/**
 * `Queue.storageHealth()`: reads the store's storage health, keeps the reading for `cacheMs` (the
 * admin page refreshes every few seconds, and several pages and a metrics scrape may ask at once:
 * they share one reading and one statement in flight), and assesses it with the queue's thresholds.
 */
import {
  assessStorageHealth,
  type HorizonHolder,
  type StorageHealth,
  type StorageHealthOptions,
  type StorageHealthReading,
  type StorageHealthThresholds,
} from '../domain/storage-health.js'
import { validateOptionalInt, validateOptionsObject } from '../domain/validation.js'
import type { Clock } from '../ports/clock.js'
import { type JobStore, storageHealthOf } from '../ports/store.js'

/** The monitor's settings, resolved from `QueueOptions.storageHealth`. */
export interface StorageHealthSettings extends StorageHealthThresholds {
  /** A reading younger than this is reused, ms. */
  readonly cacheMs: number
}

/** Holders whose start time is unknown are remembered this long after they were last seen. */
const FORGET_AFTER_MS = 3_600_000

/** Reads, caches and assesses storage health for one queue. */
export class StorageHealthMonitor {
  readonly #read: (() => Promise<StorageHealthReading>) | null
  readonly #clock: Clock
  readonly #settings: StorageHealthSettings
  #cached: { readonly at: number; readonly health: StorageHealth } | null = null
  #inFlight: Promise<StorageHealth> | null = null
  /** First and last time (store time) each holder without a start time was seen at its xmin. */
  readonly #seen = new Map<string, { first: number; last: number }>()

  constructor(deps: { store: JobStore; clock: Clock; settings: StorageHealthSettings }) {
    this.#read = storageHealthOf(deps.store)
    this.#clock = deps.clock
    this.#settings = deps.settings
  }

  /** The assessed health, or null when the store cannot read it (the memory store). */
  async storageHealth(options: StorageHealthOptions = {}): Promise<StorageHealth | null> {
    const o = validateOptionsObject(options, 'storageHealth options', ['maxAgeMs'])
    const maxAgeMs =
      validateOptionalInt(o.maxAgeMs, 'storageHealth({ maxAgeMs })', 0, 3_600_000) ?? this.#settings.cacheMs
    const read = this.#read
    if (read === null) return null
    const cached = this.#cached
    if (cached !== null && this.#clock.now() - cached.at < maxAgeMs) return cached.health
    // Callers that accept a reading of any age share the one in flight.
    if (this.#inFlight !== null && maxAgeMs > 0) return this.#inFlight
    const pending = (async () => {
      const health = this.#assess(await read())
      this.#cached = { at: this.#clock.now(), health }
      return health
    })()
    this.#inFlight = pending
    try {
      return await pending
    } finally {
      if (this.#inFlight === pending) this.#inFlight = null
    }
  }

  #assess(reading: StorageHealthReading): StorageHealth {
    const now = reading.checkedAt
    for (const [key, seen] of this.#seen) if (now - seen.last > FORGET_AFTER_MS) this.#seen.delete(key)
    const firstSeenAt = (holder: HorizonHolder) => {
      const key = `${holder.kind}\u0000${holder.name}\u0000${holder.database}\u0000${holder.xmin}`
      const seen = this.#seen.get(key)
      if (seen === undefined) {
        this.#seen.set(key, { first: now, last: now })
        return now
      }
      seen.last = now
      return seen.first
    }
    return assessStorageHealth(reading, this.#settings, firstSeenAt)
  }
}
