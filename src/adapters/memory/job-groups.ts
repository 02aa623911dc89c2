import { BinaryHeap } from './heap.js'
import type { JobEntry } from './job-record.js'

interface Group {
  /** Its running jobs (held or not: one past its lock timeout no longer holds the group). */
  readonly running: Set<JobEntry>
  readonly waiting: Set<JobEntry>
  /** Waiting jobs by id; may hold stale items (not in `waiting`), dropped lazily when they surface. */
  readonly heap: BinaryHeap<JobEntry>
  /** `release` jobs a claim met while the group was held; pushed again once it is free. */
  readonly parked: Set<JobEntry>
}

const bySeq = (a: JobEntry, b: JobEntry): number => a.seq - b.seq

/** True while a running job still holds its group at `now` (its lock timeout, if any, not yet passed). */
function holds(entry: JobEntry, now: number): boolean {
  const { groupLockTimeoutMs, attemptedAt } = entry.record
  return groupLockTimeoutMs === null || (attemptedAt ?? now) + groupLockTimeoutMs > now
}

/**
 * Per group key: which jobs run and which wait. A group is held while one of its running jobs holds
 * it (until that job's `groupLockTimeoutMs`, if any, has passed); a `fifo` job may run only as its
 * group's smallest-id waiting job of a group not held, a `release` job whenever its group is not held.
 */
export class GroupIndex {
  readonly #groups = new Map<string, Group>()
  /** Running jobs with a group lock timeout, by entry: their group, until their lock expires. */
  readonly #locks = new Map<JobEntry, string>()

  /** Records that a job of `key` entered a waiting state. */
  addWaiting(key: string, entry: JobEntry): void {
    const group = this.#group(key)
    group.waiting.add(entry)
    if (!entry.inGroupHeap) {
      entry.inGroupHeap = true
      group.heap.push(entry)
    }
  }

  /** Records that a job of `key` left the waiting states. */
  removeWaiting(key: string, entry: JobEntry): void {
    const group = this.#groups.get(key)
    if (!group) return
    group.waiting.delete(entry)
    group.parked.delete(entry)
    this.#forgetIfIdle(key, group)
  }

  /** Records that a job of `key` started (`running` true) or stopped running. */
  setRunning(key: string, entry: JobEntry, running: boolean): void {
    const group = this.#group(key)
    if (running) {
      group.running.add(entry)
      if (entry.record.groupLockTimeoutMs !== null) this.#locks.set(entry, key)
    } else {
      group.running.delete(entry)
      this.#locks.delete(entry)
    }
    this.#forgetIfIdle(key, group)
  }

  /** True when a running job of `key` holds the group at `now`. */
  isHeld(key: string, now: number): boolean {
    const group = this.#groups.get(key)
    if (!group) return false
    for (const entry of group.running) if (holds(entry, now)) return true
    return false
  }

  /** The smallest-id waiting job of `key`, held or not. */
  head(key: string): JobEntry | undefined {
    const group = this.#groups.get(key)
    return group ? this.#head(group) : undefined
  }

  /** Keeps a `release` job met while its group was held, to push again once it is free. */
  park(key: string, entry: JobEntry): void {
    this.#groups.get(key)?.parked.add(entry)
  }

  /** Takes the parked jobs of `key` (to push them again). */
  takeParked(key: string): JobEntry[] {
    const group = this.#groups.get(key)
    if (!group || group.parked.size === 0) return []
    const parked = [...group.parked]
    group.parked.clear()
    return parked
  }

  /** Groups in which a running job's lock timeout passed by `now` (each reported once per attempt). */
  expiredLocks(now: number): string[] {
    if (this.#locks.size === 0) return []
    const keys: string[] = []
    for (const [entry, key] of this.#locks) {
      if (holds(entry, now)) continue
      this.#locks.delete(entry)
      keys.push(key)
    }
    return keys
  }

  /** Forgets every group. */
  clear(): void {
    this.#groups.clear()
    this.#locks.clear()
  }

  #head(group: Group): JobEntry | undefined {
    for (;;) {
      const top = group.heap.peek()
      if (top === undefined || group.waiting.has(top)) return top
      group.heap.pop()
      top.inGroupHeap = false
    }
  }

  #group(key: string): Group {
    let group = this.#groups.get(key)
    if (!group) {
      group = { running: new Set(), waiting: new Set(), heap: new BinaryHeap(bySeq), parked: new Set() }
      this.#groups.set(key, group)
    }
    return group
  }

  #forgetIfIdle(key: string, group: Group): void {
    if (group.running.size > 0 || group.waiting.size > 0) return
    for (const entry of group.heap.toArray()) entry.inGroupHeap = false
    this.#groups.delete(key)
  }
}
