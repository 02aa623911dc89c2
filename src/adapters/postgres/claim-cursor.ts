/**
 * The keyset claim (docs/storage.md, candidate E): each claim loop remembers, per queue, the key of
 * the last job it took in strategy order (`priority, run_at` or `run_at`), and its next claim starts
 * its index scan there (less `lookbackMs` on `run_at`, 1 ms at least), instead of at the front of the
 * claim index.
 *
 * Why: a claimed or finished job leaves its old row version in the claim index, at the front of the
 * scan order, until VACUUM may remove it. While a long transaction (or a replica's feedback) holds
 * the xmin horizon, it may not, and a claim from the front walks every job handled since the horizon
 * was taken (hundreds of thousands of entries after two minutes at 2,000 jobs/s). From the cursor,
 * it walks only those of the lookback (none by default).
 *
 * Jobs made available behind the cursor with a notification need no full scan: an insert of a
 * higher priority or an earlier run time (a transactional enqueue that committed late too), a
 * release, a retry due now, retryJobs, resumeJobs, a resumed queue, updateJob, a rescue, and the
 * jobs a finished job lets run (dependants.ts: the waiting dependants of a job that succeeded or was
 * deleted, the next job of a group whose job finished, in any process). The notification names each
 * queue's most urgent key (jobs-notification.ts), and the loops claiming from that queue start their
 * next claim there (`notified`).
 *
 * What the cursor can miss without a notification, a claim from the front takes at least once every
 * `fullScanIntervalMs`: a due time behind it (a retry or scheduled job that came due later, a
 * producer's clock), a notification that was lost or sent by an earlier version (a dependant enqueued
 * by a process older than migration 012 too), a dependant whose insert committed while its
 * dependency's completion statement ran (dependants.ts), a group's next job when its running job's
 * `groupLockTimeoutMs` passed, a group job ordered before the group's first waiting job by id (in
 * `release` mode, or by priority; when this store finished the group's job, `finished` moves the
 * cursor back to that job's key at once), and a job skipped while another claim held its lock. No
 * job is lost or taken out of its group's order; such a job waits up to one interval (and the
 * worker's poll) longer. A slow full scan (the
 * walk of a held horizon's dead entries) puts the next one off to 100 times its duration, at most 15 s
 * (`FULL_SCAN_SHARE`), so those jobs may then wait that long.
 *
 * Only claims of a worker's claim loop (`resume: true`) use a cursor; other claims, and those with
 * `maxId` or `dueBy` (drain), scan from the front and leave the cursors alone.
 */
import { InvalidArgumentError } from '../../core/domain/errors.js'
import type { JobRecord } from '../../core/domain/job.js'
import { validateOptionalInt, validateOptionsObject } from '../../core/domain/validation.js'
import type { ClaimParams, PollStrategy } from '../../core/ports/store.js'
import type { NotifiedKey } from './jobs-notification.js'

/** Options of the keyset claim (`claimCursor` of the Postgres store and queue). */
export interface ClaimCursorOptions {
  /**
   * At least this often (ms), a claim loop's claim starts from the front of the claim index, taking
   * the jobs its cursor skipped (default 1000; 0 = every claim from the front, no cursor). When the
   * last full scan took long (a long transaction holding back VACUUM fills the index with dead
   * entries), the next waits at least 100 times its duration, up to 15 s.
   */
  readonly fullScanIntervalMs?: number
  /**
   * How far behind the cursor's `run_at` (ms) each claim starts, at least 1 ms (default 0). Jobs made
   * available behind the cursor are found through their notification (an enqueue that commits late
   * sends its key on commit), so this only matters for jobs written without one (a lost notification,
   * SQL of your own): those within the lookback are taken at once, the others at the next full scan.
   * Each claim walks the index entries of the jobs taken within the lookback, which a long
   * transaction keeps from being removed: at 2,000 jobs/s, a 1 s lookback is 2,000 entries per claim.
   */
  readonly lookbackMs?: number
}

/** The defaults of `ClaimCursorOptions`. */
export const DEFAULT_CLAIM_CURSOR: Required<ClaimCursorOptions> = {
  fullScanIntervalMs: 1000,
  lookbackMs: 0,
}

const MAX_MS = 3_600_000

/** Validates `claimCursor` and fills in the defaults. */
export function resolveClaimCursorOptions(value: unknown): Required<ClaimCursorOptions> {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new InvalidArgumentError(
      `claimCursor must be an object such as { fullScanIntervalMs: 1000, lookbackMs: 0 }; got ${String(value)}.`,
    )
  }
  const o = validateOptionsObject(value, 'claimCursor', ['fullScanIntervalMs', 'lookbackMs'])
  return {
    fullScanIntervalMs:
      validateOptionalInt(o.fullScanIntervalMs, 'claimCursor.fullScanIntervalMs', 0, MAX_MS) ??
      DEFAULT_CLAIM_CURSOR.fullScanIntervalMs,
    lookbackMs:
      validateOptionalInt(o.lookbackMs, 'claimCursor.lookbackMs', 0, MAX_MS) ??
      DEFAULT_CLAIM_CURSOR.lookbackMs,
  }
}

/** Where a claim's scan starts in one queue: strategy order from (`priority`, `runAt`) on. */
export interface ScanStart {
  readonly priority: number
  readonly runAt: number
}

/** From the front: below every key. */
export const FRONT: ScanStart = { priority: -32768, runAt: Number.NEGATIVE_INFINITY }

/** One claim's plan: where each queue's scan starts, and what to do with the jobs it takes. */
export interface CursorPlan {
  /** Per queue (in the claim's queue order). */
  readonly starts: readonly ScanStart[]
  /** Call with the claimed jobs (any order). */
  readonly taken: (jobs: readonly JobRecord[]) => void
  /** Call when the claim failed: the notified starts it used are kept for the next, and a full scan is due again. */
  readonly failed: () => void
}

interface Loop {
  lastFullScan: number
  /** How long the last two full scans took (ms): the next waits at least `FULL_SCAN_SHARE` times the shorter. */
  fullScanCosts: [number, number]
  /**
   * Counts the plans that may move the cursor back (full scans, starts at a notified key). A claim
   * planned before one of them and returning after it never moves the cursor forward: it would pass
   * over what that claim's LIMIT left behind.
   */
  epoch: number
  readonly strategy: PollStrategy
  readonly keys: Map<string, ScanStart>
  /** The queues this loop claims from (notifications of other queues are not kept). */
  readonly queues: Set<string>
  /** Per queue, the earliest start notified since the loop's last plan (see `notified`). */
  readonly rewinds: Map<string, ScanStart>
}

/**
 * A full scan walks every dead entry a held xmin horizon keeps in the claim index (hundreds of
 * thousands after a few minutes), its loop's other claims waiting behind it. So the next full scan
 * comes at least this many times the shorter of the last two full scans' durations after it began:
 * full scans take at most about 1% of a loop's time (and delay about 1% of its pickups); one slow
 * scan alone (a pause of the event loop, a wait for a connection) changes nothing; and on a healthy
 * table, where a full scan takes a millisecond or two, the interval stays `fullScanIntervalMs`.
 */
export const FULL_SCAN_SHARE = 100

/** The longest slow full scans put the next one off (ms). */
export const MAX_FULL_SCAN_DELAY_MS = 15_000

/** True when `a` comes after `b` in the strategy's order (or there is no `b`). */
function after(strategy: PollStrategy, a: ScanStart, b: ScanStart | undefined): boolean {
  if (!b) return true
  return strategy === 'priority'
    ? a.priority > b.priority || (a.priority === b.priority && a.runAt > b.runAt)
    : a.runAt > b.runAt
}

/** Where a scan starts to take the jobs from `key` on, `lookback` ms before its run time. */
function startAt(strategy: PollStrategy, key: ScanStart, lookback: number): ScanStart {
  return strategy === 'priority'
    ? { priority: key.priority, runAt: key.runAt - lookback }
    : { priority: FRONT.priority, runAt: key.runAt - lookback }
}

/** Group jobs remembered until they finish (the oldest are forgotten past this; they wait for a full scan). */
const MAX_GROUP_JOBS = 10_000

/** The cursors of one store, per claim loop (worker id, strategy, kinds). */
export class ClaimCursors {
  readonly #settings: Required<ClaimCursorOptions>
  readonly #elapsed: () => number
  readonly #loops = new Map<string, Loop>()
  /** Loop ids by kinds array, strategy and worker id. */
  readonly #loopIds = new WeakMap<readonly string[], Record<PollStrategy, Map<string, string>>>()
  /** Running group jobs this store's loops claimed: where their loop's cursor goes back when they finish. */
  readonly #groupJobs = new Map<
    string,
    { readonly loop: Loop; readonly queue: string; readonly key: ScanStart }
  >()

  /** `elapsed` reads a monotonic clock in ms (the full-scan cadence is the process's, not the data's). */
  constructor(settings: Required<ClaimCursorOptions>, elapsed: () => number = () => performance.now()) {
    this.#settings = settings
    this.#elapsed = elapsed
  }

  /** Where this claim's scans start; from the front when a full scan is due or the cursor is off. */
  plan(params: ClaimParams, queues: readonly string[]): CursorPlan {
    const off =
      params.resume !== true ||
      this.#settings.fullScanIntervalMs === 0 ||
      params.maxId !== undefined ||
      params.dueBy !== undefined
    if (off) return { starts: queues.map(() => FRONT), taken: () => {}, failed: () => {} }
    const id = this.#loopId(params)
    let loop = this.#loops.get(id)
    const now = this.#elapsed()
    const full =
      loop === undefined ||
      now - loop.lastFullScan >=
        Math.max(
          this.#settings.fullScanIntervalMs,
          Math.min(
            MAX_FULL_SCAN_DELAY_MS,
            FULL_SCAN_SHARE * Math.min(loop.fullScanCosts[0], loop.fullScanCosts[1]),
          ),
        )
    const previousFullScan = loop?.lastFullScan ?? Number.NEGATIVE_INFINITY
    if (!loop) {
      loop = {
        lastFullScan: now,
        fullScanCosts: [0, 0],
        epoch: 0,
        strategy: params.strategy,
        keys: new Map(),
        queues: new Set(),
        rewinds: new Map(),
      }
      this.#loops.set(id, loop)
    } else if (full) {
      loop.lastFullScan = now
    }
    const { keys, rewinds } = loop
    for (const q of queues) loop.queues.add(q)
    /** Queues whose scan starts at a notified key, before the cursor: their cursor may move back. */
    const rewound = new Set<string>()
    // At least 1 ms: a key is a run_at rounded to whole ms while run_at keeps microseconds (a retry's
    // database now() plus its delay), so a key rounded up would skip the jobs of its own millisecond
    // that the previous claim's LIMIT left behind.
    const lookback = Math.max(1, this.#settings.lookbackMs)
    /** The notified starts this plan took from `rewinds`, given back if the claim fails. */
    const used: [string, ScanStart][] = []
    const starts = queues.map((q) => {
      const key = full ? undefined : keys.get(q)
      const start = key ? startAt(params.strategy, key, lookback) : FRONT
      const rewind = rewinds.get(q)
      if (rewind === undefined) return start
      rewinds.delete(q)
      used.push([q, rewind])
      if (!after(params.strategy, start, rewind)) return start
      rewound.add(q)
      return rewind
    })
    if (full || rewound.size > 0) loop.epoch++
    const epoch = loop.epoch
    const ahead = (job: ScanStart, key: ScanStart | undefined) => after(params.strategy, job, key)
    const owner = loop
    return {
      starts,
      failed: () => {
        for (const [q, rewind] of used) this.#rewind(owner, q, rewind)
        if (full && owner.lastFullScan === now) owner.lastFullScan = previousFullScan
      },
      taken: (jobs) => {
        if (full) owner.fullScanCosts = [owner.fullScanCosts[1], this.#elapsed() - now]
        // Planned before a claim that may have moved the cursor back: never moves it forward.
        const stale = epoch < owner.epoch
        // The last job taken per queue, in strategy order.
        const last = new Map<string, ScanStart>()
        for (const job of jobs) {
          if (ahead(job, last.get(job.queue)))
            last.set(job.queue, { priority: job.priority, runAt: job.runAt })
          if (job.groupKey !== null) this.#rememberGroupJob(job, owner)
        }
        for (const [queue, key] of last) {
          // A full scan took every claimable job up to its last one: the cursor may move back to it.
          // So did a claim from a notified key (every claimable job from that key to its last one).
          const current = keys.get(queue)
          if (!current || (ahead(key, current) ? !stale : full || rewound.has(queue))) keys.set(queue, key)
        }
      },
    }
  }

  /**
   * A notification: jobs became available in these queues, none before its key in strategy order
   * (null: anywhere). Each loop claiming from such a queue starts its next claim there when its
   * cursor is past it; that claim may then move the cursor back to the last job it takes. Kept until
   * the loop's next plan, so that a claim already in flight cannot move the cursor past the key
   * before a claim that sees the notified jobs starts (a notification arrives after its commit).
   */
  notified(keys: ReadonlyMap<string, NotifiedKey>): void {
    for (const loop of this.#loops.values()) {
      for (const [queue, key] of keys) {
        if (!loop.queues.has(queue)) continue
        // 1 ms behind: the key is a run_at rounded to whole ms.
        this.#rewind(loop, queue, key === null ? FRONT : startAt(loop.strategy, key, 1))
      }
    }
  }

  /** Notifications may have been lost (the listener reconnected): every loop's next claim is a full scan. */
  rescanAll(): void {
    for (const loop of this.#loops.values()) {
      loop.lastFullScan = Number.NEGATIVE_INFINITY
      loop.fullScanCosts = [0, 0]
    }
  }

  /** Makes `start` where the loop's next claim in `queue` starts, unless an earlier one is pending. */
  #rewind(loop: Loop, queue: string, start: ScanStart): void {
    const pending = loop.rewinds.get(queue)
    if (pending === undefined || after(loop.strategy, pending, start)) loop.rewinds.set(queue, start)
  }

  /**
   * Jobs finished (any outcome): a finished group job lets its group's next job run, which usually
   * sits right after it in strategy order, behind the cursor that moved on meanwhile. The next claim
   * of the loop that claimed it starts at its key (as at a notified key: a claim in flight cannot
   * move the cursor past it), so it takes the group's next job at once instead of at the next full
   * scan (a next job ordered before it still waits for that).
   */
  finished(completions: readonly { readonly id: string }[]): void {
    if (this.#groupJobs.size === 0) return
    for (const { id } of completions) {
      const entry = this.#groupJobs.get(id)
      if (!entry) continue
      this.#groupJobs.delete(id)
      this.#rewind(entry.loop, entry.queue, startAt(entry.loop.strategy, entry.key, 1))
    }
  }

  /**
   * The id of a claim's loop (strategy, worker id, kinds), built once per kinds array and worker: a
   * worker passes the registry's array on every claim (a registration replaces it, never changes it).
   */
  #loopId(params: ClaimParams): string {
    let byStrategy = this.#loopIds.get(params.kinds)
    if (!byStrategy) {
      byStrategy = { priority: new Map(), time: new Map() }
      this.#loopIds.set(params.kinds, byStrategy)
    }
    const ids = byStrategy[params.strategy]
    let id = ids.get(params.workerId)
    if (id === undefined) {
      id = `${params.strategy}\n${params.workerId}\n${params.kinds.join('\n')}`
      ids.set(params.workerId, id)
    }
    return id
  }

  #rememberGroupJob(job: JobRecord, loop: Loop): void {
    this.#groupJobs.set(job.id, { loop, queue: job.queue, key: { priority: job.priority, runAt: job.runAt } })
    if (this.#groupJobs.size > MAX_GROUP_JOBS) {
      const oldest = this.#groupJobs.keys().next().value
      if (oldest !== undefined) this.#groupJobs.delete(oldest)
    }
  }
}
