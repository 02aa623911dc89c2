/**
 * Time, behind a port. Nothing in the core reads the wall clock or sleeps on its own: it asks a
 * `Clock`, so tests can use a `ManualClock` and move time forward by hand.
 */

/** A cancellable timer handle returned by `Clock.setTimeout`. */
export interface TimerHandle {
  /** Cancels the timer; calling it after it fired is harmless. */
  cancel(): void
}

/** The time port: read the current time and schedule callbacks. */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number
  /** Calls `callback` once after `ms` milliseconds of this clock's time. */
  setTimeout(callback: () => void, ms: number): TimerHandle
  /**
   * True when this clock stands for real time (the system clock, a clock synced to the database):
   * the core then omits `now` from store calls, so a shared store (PostgreSQL) uses its own clock
   * and every process agrees on one time whatever its host's clock says. Absent or false (a
   * `ManualClock`): the core passes `now` from this clock.
   */
  readonly realTime?: boolean
}

/** The `now` to pass to the store: omitted for a real-time clock (the store's own clock decides), else the clock's time. */
export function storeNow(clock: Clock): number | undefined {
  return clock.realTime === true ? undefined : clock.now()
}

/** Creates the clock backed by `Date.now()` and the host's timers. */
export function createSystemClock(): Clock {
  return {
    realTime: true,
    now: () => Date.now(),
    setTimeout(callback, ms) {
      const timer = setTimeout(callback, Math.max(0, ms))
      timer.unref?.()
      return { cancel: () => clearTimeout(timer) }
    },
  }
}

/**
 * Waits `ms` of real time whatever the queue's clock, on a timer that does not keep the process
 * alive: for pausing before retrying a failed store write, which must go on under a `ManualClock`
 * that nobody advances.
 */
export function sleepRealTime(ms: number): Promise<void> {
  return new Promise<void>((resolve) => setTimeout(resolve, ms).unref?.())
}

interface PendingTimer {
  readonly at: number
  readonly seq: number
  readonly callback: () => void
  cancelled: boolean
}

/** A clock that only moves when told to; timers fire, in order, as time is advanced past them. */
export class ManualClock implements Clock {
  #now: number
  #seq = 0
  #timers: PendingTimer[] = []

  /** Starts at `start` (epoch ms or Date); defaults to 2030-01-01T00:00:00Z so tests are reproducible. */
  constructor(start: number | Date = Date.UTC(2030, 0, 1)) {
    this.#now = typeof start === 'number' ? start : start.getTime()
  }

  /** Current time of this clock in epoch milliseconds. */
  now(): number {
    return this.#now
  }

  /** Schedules a callback at now + ms of this clock. */
  setTimeout(callback: () => void, ms: number): TimerHandle {
    const timer: PendingTimer = {
      at: this.#now + Math.max(0, ms),
      seq: this.#seq++,
      callback,
      cancelled: false,
    }
    this.#timers.push(timer)
    return {
      cancel: () => {
        timer.cancelled = true
        // Dropped at once, so code that arms and cancels a timer per job leaves none behind.
        const at = this.#timers.indexOf(timer)
        if (at >= 0) this.#timers.splice(at, 1)
      },
    }
  }

  /** Moves time forward by `ms`, firing every timer that falls due, each at its own time. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance(ms) needs a finite ms >= 0, got ${ms}`)
    this.set(this.#now + ms)
  }

  /** Moves time to `time` (not backwards), firing due timers in order. */
  set(time: number | Date): void {
    const target = typeof time === 'number' ? time : time.getTime()
    if (!Number.isFinite(target)) throw new RangeError(`set(time) needs a finite time, got ${time}`)
    if (target < this.#now) throw new RangeError('ManualClock cannot go backwards')
    for (;;) {
      const next = this.#nextDue(target)
      if (!next) break
      this.#timers.splice(this.#timers.indexOf(next), 1)
      this.#now = next.at
      next.callback()
    }
    this.#now = target
  }

  /** Number of timers still waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.filter((t) => !t.cancelled).length
  }

  #nextDue(limit: number): PendingTimer | undefined {
    this.#timers = this.#timers.filter((t) => !t.cancelled)
    let best: PendingTimer | undefined
    for (const t of this.#timers) {
      if (t.at <= limit && (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq))) best = t
    }
    return best
  }
}
