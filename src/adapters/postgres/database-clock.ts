/**
 * The clock of a Postgres queue in production: the database's time, read with one `SELECT` and
 * carried forward on this host's monotonic clock, read again every `resyncMs`. In production every
 * process uses the database's clock, never its own: statements use the database's `now()` (the core
 * omits `now` for a real-time clock), and what JavaScript itself needs to know of the time (which
 * schedule tick is due, how far in the future a backoff or snooze lands, lag metrics) comes from this
 * clock, so a host whose clock is a minute off still agrees with the others to within a round trip.
 *
 * Why anchored to the monotonic clock: a wall-clock step on this host (NTP, a VM resume) between
 * syncs cannot move it; only the monotonic clock's rate counts, which drifts by parts per million.
 * A sync keeps the reading with the shortest of a few round trips and takes its midpoint, so its
 * error is at most half that round trip.
 */
import type { Clock, TimerHandle } from '../../core/ports/clock.js'
import { createSystemClock } from '../../core/ports/clock.js'

/** How often the clock re-reads the database's time while the queue runs (one cheap query). */
export const DATABASE_CLOCK_RESYNC_MS = 60_000

/** What the clock reads the database's time through (a `pg` pool or client). */
export interface TimeQueryable {
  query(text: string): Promise<{ rows: { now: number | string }[] }>
}

/** Readings per sync; the one with the shortest round trip wins. */
const SYNC_SAMPLES = 3

/** The statement: the database's wall clock at the moment it runs, in epoch ms. */
const NOW_SQL = `SELECT date_part('epoch', clock_timestamp()) * 1000 AS now`

/** A `Clock` that reads the database's time (see the file comment); timers are the host's. */
export class DatabaseClock implements Clock {
  /** Real time: the core omits `now` for it, and the database's `now()` decides in statements. */
  readonly realTime = true
  readonly #db: TimeQueryable
  readonly #timers = createSystemClock()
  readonly #resyncMs: number
  readonly #onError: ((error: unknown) => void) | undefined
  /** Database time minus monotonic time; until the first sync, the host's wall clock stands in. */
  #base = Date.now() - performance.now()
  #synced = false
  #resync: ReturnType<typeof setInterval> | null = null
  #first: Promise<void> | null = null

  /** A clock reading `db`'s time; `onError` hears about failed resyncs (the last offset stays). */
  constructor(db: TimeQueryable, options: { resyncMs?: number; onError?: (error: unknown) => void } = {}) {
    this.#db = db
    this.#resyncMs = options.resyncMs ?? DATABASE_CLOCK_RESYNC_MS
    this.#onError = options.onError
  }

  /** The database's current time in epoch ms (the host's before the first sync). */
  now(): number {
    return Math.round(this.#base + performance.now())
  }

  /** Whether the clock has read the database's time at least once. */
  get synced(): boolean {
    return this.#synced
  }

  /** Calls `callback` after `ms` of real time (the host's timers; durations need no sync). */
  setTimeout(callback: () => void, ms: number): TimerHandle {
    return this.#timers.setTimeout(callback, ms)
  }

  /**
   * Reads the database's time now (through `via`, else the pool); rejects when a query fails (the
   * previous offset stays). It takes `SYNC_SAMPLES` readings and keeps the one with the shortest
   * round trip, as NTP does: a reading whose query waited before it ran (a pool opening its
   * connection, a busy event loop) would put the clock ahead by half that wait, and a job enqueued
   * "now" would then not be due for the claim its own notification wakes.
   */
  async sync(via: TimeQueryable = this.#db): Promise<void> {
    let best: { base: number; roundTrip: number } | null = null
    for (let i = 0; i < SYNC_SAMPLES; i++) {
      const sent = performance.now()
      const { rows } = await via.query(NOW_SQL)
      const received = performance.now()
      const dbNow = Number(rows[0]?.now)
      if (!Number.isFinite(dbNow)) throw new Error(`The database returned no time for ${NOW_SQL}`)
      const roundTrip = received - sent
      if (best === null || roundTrip < best.roundTrip)
        best = { base: dbNow - (sent + received) / 2, roundTrip }
    }
    this.#base = best!.base
    this.#synced = true
  }

  /**
   * Resolves once the clock has read the database's time (the first call starts the read, through
   * `via` when given, e.g. the caller's transaction, which may hold the pool's last connection; a
   * failed read is reported, and the next call tries again). Never rejects: the operation that
   * waited for it meets the database's error itself.
   */
  ready(via?: TimeQueryable): Promise<void> {
    if (this.#synced) return Promise.resolve()
    this.#first ??= this.sync(via).catch((error) => {
      this.#first = null
      this.#onError?.(error)
    })
    return this.#first
  }

  /** Syncs now and then every `resyncMs` until `stop()`; a failed sync is reported, never thrown. */
  async start(): Promise<void> {
    if (this.#resync) return
    this.#resync = setInterval(() => {
      this.sync().catch((error) => this.#onError?.(error))
    }, this.#resyncMs)
    this.#resync.unref?.()
    await this.ready()
  }

  /** Stops resyncing (the clock keeps its last offset). */
  stop(): void {
    if (this.#resync) clearInterval(this.#resync)
    this.#resync = null
  }
}
