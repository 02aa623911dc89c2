import { BinaryHeap } from './heap.js'
import type { JobEntry } from './job-record.js'

interface Group {
  running: number
  readonly waiting: Set<JobEntry>
  /** Waiting jobs by id; may hold stale items (not in `waiting`), dropped lazily when they surface. */
  readonly heap: BinaryHeap<JobEntry>
}

const bySeq = (a: JobEntry, b: JobEntry): number => a.seq - b.seq

/**
 * Per group key: how many jobs run and which jobs wait, so that only the smallest-id waiting job of
 * a group with nothing running is claimable (strict FIFO, one at a time per group).
 */
export class GroupIndex {
  readonly #groups = new Map<string, Group>()

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
    this.#forgetIfIdle(key, group)
  }

  /** Adds `delta` (+1 or -1) to the running count of `key`. */
  addRunning(key: string, delta: number): void {
    const group = this.#group(key)
    group.running += delta
    this.#forgetIfIdle(key, group)
  }

  /** The job that may run next in `key`: its smallest-id waiting job, if no job of it is running. */
  claimableHead(key: string): JobEntry | undefined {
    const group = this.#groups.get(key)
    if (!group || group.running > 0) return undefined
    return this.#head(group)
  }

  /** Forgets every group. */
  clear(): void {
    this.#groups.clear()
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
      group = { running: 0, waiting: new Set(), heap: new BinaryHeap(bySeq) }
      this.#groups.set(key, group)
    }
    return group
  }

  #forgetIfIdle(key: string, group: Group): void {
    if (group.running > 0 || group.waiting.size > 0) return
    for (const entry of group.heap.toArray()) entry.inGroupHeap = false
    this.#groups.delete(key)
  }
}
