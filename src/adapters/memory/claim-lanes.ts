import type { PollStrategy } from '../../core/ports/store.js'
import { BinaryHeap } from './heap.js'
import type { JobEntry } from './job-record.js'

/** One push of a job into a heap; stale once the job's `version` moved on (lazy deletion). */
interface LaneItem {
  readonly entry: JobEntry
  readonly version: number
  readonly priority: number
  readonly runAt: number
  readonly seq: number
}

/** The waiting jobs of one (queue, kind): not yet due by run-at, and due by each strategy in use. */
interface Lane {
  readonly future: BinaryHeap<LaneItem>
  readonly due: Map<PollStrategy, BinaryHeap<LaneItem>>
}

/** What one claim may take, already resolved by the store. */
export interface LaneClaim {
  /** Unpaused queues to claim from. */
  readonly queues: readonly string[]
  readonly kinds: readonly string[]
  readonly strategy: PollStrategy
  readonly dueBy: number
  /** Largest id that may be claimed. */
  readonly maxSeq: number
  readonly capacity: number
  /** Take the first job even when it alone exceeds `capacity`. */
  readonly oversizedFirst?: boolean
  /** Skip (leave waiting) jobs heavier than this. */
  readonly maxWeight?: number
}

const byTime = (a: LaneItem, b: LaneItem): number => a.runAt - b.runAt || a.seq - b.seq
const byPriority = (a: LaneItem, b: LaneItem): number => a.priority - b.priority || byTime(a, b)
const ORDER: Record<PollStrategy, (a: LaneItem, b: LaneItem) => number> = {
  priority: byPriority,
  time: byTime,
}
const isLive = (item: LaneItem): boolean => item.version === item.entry.version

/**
 * The claim index: per queue and kind, a heap of jobs by run-at and, once due, a heap per poll
 * strategy. Jobs are pushed when they may become claimable and dropped lazily, so a claim costs
 * O(k log n) for k examined jobs instead of a scan of every waiting job.
 */
export class ClaimLanes {
  readonly #queues = new Map<string, Map<string, Lane>>()

  /** Makes a waiting job a claim candidate again (any earlier push of it becomes stale). */
  push(entry: JobEntry): void {
    entry.version++
    const { queue, kind } = entry.record
    let lanes = this.#queues.get(queue)
    if (!lanes) {
      lanes = new Map()
      this.#queues.set(queue, lanes)
    }
    let lane = lanes.get(kind)
    if (!lane) {
      lane = { future: new BinaryHeap(byTime), due: new Map() }
      lanes.set(kind, lane)
    }
    lane.future.push(this.#item(entry))
  }

  /** Removes a job from every heap (lazily: its pushes become stale). */
  invalidate(entry: JobEntry): void {
    entry.version++
  }

  /**
   * Claims jobs in strategy order. `canRun` rejects a job that must wait for its group or its
   * dependencies (it is dropped; the store pushes it again once that changes); `take` marks a job
   * running at once, so later candidates see its group as busy.
   */
  claim(params: LaneClaim, canRun: (entry: JobEntry) => boolean, take: (entry: JobEntry) => void): void {
    if (!(params.capacity >= 1)) return
    const order = ORDER[params.strategy]
    const heaps = this.#dueHeaps(params)
    const skipped: LaneItem[] = []
    let used = 0
    for (;;) {
      let best: BinaryHeap<LaneItem> | undefined
      let bestTop: LaneItem | undefined
      for (const heap of heaps) {
        const top = topLive(heap)
        if (top && (!bestTop || order(top, bestTop) < 0)) {
          best = heap
          bestTop = top
        }
      }
      if (!best || !bestTop) break
      const entry = bestTop.entry
      if (bestTop.runAt > params.dueBy) {
        best.pop()
        this.push(entry)
      } else if (
        bestTop.seq > params.maxSeq ||
        (params.maxWeight !== undefined && entry.record.weight > params.maxWeight)
      ) {
        skipped.push(best.pop() as LaneItem)
      } else if (!canRun(entry)) {
        best.pop()
        this.invalidate(entry)
      } else {
        const first = used === 0 && params.oversizedFirst === true
        if (!first && used + entry.record.weight > params.capacity) break
        best.pop()
        used += entry.record.weight
        take(entry)
      }
    }
    for (const item of skipped) {
      if (!isLive(item)) continue
      item.entry.version++
      this.#pushDue(this.#lane(item.entry), this.#item(item.entry))
    }
  }

  /** Forgets every lane. */
  clear(): void {
    this.#queues.clear()
  }

  /** Due heaps for the claim's strategy in the claim's lanes, after moving newly due jobs into them. */
  #dueHeaps(params: LaneClaim): BinaryHeap<LaneItem>[] {
    const heaps: BinaryHeap<LaneItem>[] = []
    const kinds = new Set(params.kinds)
    for (const queue of new Set(params.queues)) {
      const lanes = this.#queues.get(queue)
      if (!lanes) continue
      for (const [kind, lane] of lanes) {
        if (!kinds.has(kind)) continue
        const heap = this.#dueHeap(lane, params.strategy)
        for (;;) {
          const top = lane.future.peek()
          if (top === undefined || (isLive(top) && top.runAt > params.dueBy)) break
          lane.future.pop()
          if (isLive(top)) this.#pushDue(lane, top)
        }
        if (heap.size > 0) heaps.push(heap)
      }
    }
    return heaps
  }

  #dueHeap(lane: Lane, strategy: PollStrategy): BinaryHeap<LaneItem> {
    let heap = lane.due.get(strategy)
    if (!heap) {
      const other = lane.due.values().next().value
      heap = new BinaryHeap(ORDER[strategy], other ? other.toArray().filter(isLive) : [])
      lane.due.set(strategy, heap)
    }
    return heap
  }

  #pushDue(lane: Lane, item: LaneItem): void {
    for (const heap of lane.due.values()) heap.push(item)
  }

  #lane(entry: JobEntry): Lane {
    return this.#queues.get(entry.record.queue)?.get(entry.record.kind) as Lane
  }

  #item(entry: JobEntry): LaneItem {
    const { priority, runAt } = entry.record
    return { entry, version: entry.version, priority, runAt, seq: entry.seq }
  }
}

function topLive(heap: BinaryHeap<LaneItem>): LaneItem | undefined {
  for (;;) {
    const top = heap.peek()
    if (top === undefined || isLive(top)) return top
    heap.pop()
  }
}
