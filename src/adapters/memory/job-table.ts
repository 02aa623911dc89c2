import {
  JOB_STATES,
  type JobRecord,
  type JobState,
  UNIQUE_STATES,
  WAITING_STATES,
} from '../../core/domain/job.js'
import { ClaimLanes, type LaneClaim } from './claim-lanes.js'
import { GroupIndex } from './job-groups.js'
import { claimedJobRecord, type JobEntry, type StoredJob } from './job-record.js'

const UNIQUE = new Set<JobState>(UNIQUE_STATES)
const WAITING = new Set<JobState>(WAITING_STATES)
const ENDED_BADLY = new Set<JobState>(['failed', 'cancelled'])
const NOTHING: readonly string[] = Object.freeze([])
const EMPTY: ReadonlySet<JobEntry> = new Set()

/** Key of the unique index: a unique key is unique per kind. */
const uniqueIndexKey = (kind: string, uniqueKey: string): string => `${kind}\u0000${uniqueKey}`
/** Key of the schedule-tick index. */
const tickKey = (name: string, tick: number): string => `${name}\u0000${tick}`

/**
 * The memory store's jobs and every index over them: ids in order, counts by queue and state,
 * unique keys, groups, dependants, schedule ticks and the claim lanes. Every change of a job goes
 * through `insert`, `update` or `remove`, which keep all indexes consistent.
 */
export class JobTable {
  #entries = new Map<string, JobEntry>()
  #inOrder = true
  #lastSeq = 0
  #nextSeq = 1
  readonly #counts = new Map<string, Record<JobState, number>>()
  readonly #unique = new Map<string, JobEntry>()
  /** Every stored job with a unique key, by key (any kind, any state): the names' index. */
  readonly #byKey = new Map<string, Set<JobEntry>>()
  readonly #groups = new GroupIndex()
  readonly #dependants = new Map<string, Set<JobEntry>>()
  readonly #ticks = new Set<string>()
  readonly #lanes = new ClaimLanes()
  readonly #touchedGroups = new Set<string>()
  readonly #wokenQueues = new Set<string>()
  readonly #cascade: { id: string; now: number }[] = []

  /** Reserves the next id. */
  allocateSeq(): number {
    return this.#nextSeq++
  }

  /** Number of stored jobs. */
  get size(): number {
    return this.#entries.size
  }

  /** The job with this id, if stored. */
  get(id: string): JobEntry | undefined {
    return this.#entries.get(id)
  }

  /** The waiting or running job of `kind` holding `uniqueKey`, if any. */
  uniqueHolder(kind: string, uniqueKey: string): JobEntry | undefined {
    return this.#unique.get(uniqueIndexKey(kind, uniqueKey))
  }

  /** Every stored job with this unique key, of any kind and state, in no particular order. */
  withKey(uniqueKey: string): ReadonlySet<JobEntry> {
    return this.#byKey.get(uniqueKey) ?? EMPTY
  }

  /** True when a stored job stands for this schedule tick. */
  hasTick(name: string, tick: number): boolean {
    return this.#ticks.has(tickKey(name, tick))
  }

  /** True when one of `ids` is a stored job that failed or was cancelled. */
  anyEndedBadly(ids: readonly string[]): boolean {
    for (const id of ids) {
      const state = this.#entries.get(id)?.record.state
      if (state !== undefined && ENDED_BADLY.has(state)) return true
    }
    return false
  }

  /** Every stored job in id order. */
  entries(): IterableIterator<JobEntry> {
    if (!this.#inOrder) {
      this.#entries = new Map([...this.#entries].sort(([, a], [, b]) => a.seq - b.seq))
      this.#inOrder = true
    }
    return this.#entries.values()
  }

  /** Job counts by queue (queues with no jobs left are absent). */
  counts(): ReadonlyMap<string, Readonly<Record<JobState, number>>> {
    return this.#counts
  }

  /** Stores a new job (its id from `allocateSeq`) and indexes it. */
  insert(record: StoredJob, seq: number, now: number): JobEntry {
    const entry: JobEntry = { record, seq, version: 0, inGroupHeap: false, logs: undefined }
    if (seq < this.#lastSeq) this.#inOrder = false
    this.#lastSeq = Math.max(this.#lastSeq, seq)
    this.#entries.set(record.id, entry)
    for (const dep of record.dependsOn) {
      let set = this.#dependants.get(dep)
      if (!set) {
        set = new Set()
        this.#dependants.set(dep, set)
      }
      set.add(entry)
    }
    if (record.scheduleName !== null && record.scheduleTick !== null) {
      this.#ticks.add(tickKey(record.scheduleName, record.scheduleTick))
    }
    if (record.uniqueKey !== null) {
      let set = this.#byKey.get(record.uniqueKey)
      if (!set) {
        set = new Set()
        this.#byKey.set(record.uniqueKey, set)
      }
      set.add(entry)
    }
    this.#reindex(entry, undefined, record.state, now)
    this.#runCascade()
    return entry
  }

  /** Applies `changes` to a job (JSON values in them must be frozen), updating indexes and cascading cancellations. */
  update(entry: JobEntry, changes: Partial<StoredJob>, now: number): void {
    const from = entry.record.state
    Object.assign(entry.record, changes)
    this.#reindex(entry, from, entry.record.state, now)
    this.#runCascade()
  }

  /** Deletes a job; its waiting dependants no longer wait for it (a missing dependency counts as met). */
  remove(entry: JobEntry, now: number): void {
    const record = entry.record
    this.#entries.delete(record.id)
    for (const dep of record.dependsOn) {
      const set = this.#dependants.get(dep)
      set?.delete(entry)
      if (set?.size === 0) this.#dependants.delete(dep)
    }
    if (record.scheduleName !== null && record.scheduleTick !== null) {
      this.#ticks.delete(tickKey(record.scheduleName, record.scheduleTick))
    }
    if (record.uniqueKey !== null) {
      const set = this.#byKey.get(record.uniqueKey)
      set?.delete(entry)
      if (set?.size === 0) this.#byKey.delete(record.uniqueKey)
    }
    this.#reindex(entry, record.state, undefined, now)
    this.#lanes.invalidate(entry)
    const dependants = this.#dependants.get(record.id)
    this.#dependants.delete(record.id)
    for (const dependant of dependants ?? []) {
      if (WAITING.has(dependant.record.state)) this.#makeClaimable(dependant, now)
    }
  }

  /** Claims jobs (see `ClaimLanes.claim`), marking them running; returns copies for their handlers. */
  claim(params: LaneClaim, now: number, workerId: string): JobRecord[] {
    const claimed: JobRecord[] = []
    // Groups whose running job's lock timeout passed are free again: push their next jobs first.
    for (const key of this.#groups.expiredLocks(now)) this.#touchedGroups.add(key)
    this.#settleGroups(now)
    this.#lanes.claim(
      params,
      (entry) => this.#canRun(entry, now),
      (entry) => {
        const record = entry.record
        const from = record.state
        record.state = 'running'
        record.attempt++
        record.runs++
        record.attemptedAt = now
        record.attemptedBy = workerId
        this.#reindex(entry, from, 'running', now)
        claimed.push(claimedJobRecord(record))
      },
    )
    return claimed
  }

  /** Pushes the next job of every group changed since the last call; returns queues with newly due jobs. */
  settle(now: number): readonly string[] {
    if (this.#touchedGroups.size === 0 && this.#wokenQueues.size === 0) return NOTHING
    this.#settleGroups(now)
    const queues = [...this.#wokenQueues]
    this.#wokenQueues.clear()
    return queues
  }

  /** Pushes the jobs that may run next in every group changed since the last call and not held. */
  #settleGroups(now: number): void {
    for (const key of this.#touchedGroups) {
      if (this.#groups.isHeld(key, now)) continue
      const head = this.#groups.head(key)
      if (head) this.#push(head, now)
      for (const entry of this.#groups.takeParked(key)) this.#push(entry, now)
    }
    this.#touchedGroups.clear()
  }

  /** Drops every job and index; ids start again at 1. */
  clear(): void {
    for (const entry of this.#entries.values()) entry.version++
    this.#entries = new Map()
    this.#inOrder = true
    this.#lastSeq = 0
    this.#nextSeq = 1
    this.#counts.clear()
    this.#unique.clear()
    this.#byKey.clear()
    this.#groups.clear()
    this.#dependants.clear()
    this.#ticks.clear()
    this.#lanes.clear()
    this.#touchedGroups.clear()
    this.#wokenQueues.clear()
    this.#cascade.length = 0
  }

  #reindex(entry: JobEntry, from: JobState | undefined, to: JobState | undefined, now: number): void {
    const record = entry.record
    if (from === to) {
      if (to !== undefined && WAITING.has(to)) this.#makeClaimable(entry, now)
      return
    }
    if (from !== undefined) this.#count(record.queue, from, -1)
    if (to !== undefined) this.#count(record.queue, to, 1)
    if (record.uniqueKey !== null) {
      const key = uniqueIndexKey(record.kind, record.uniqueKey)
      const held = from !== undefined && UNIQUE.has(from)
      const holds = to !== undefined && UNIQUE.has(to)
      if (held && !holds && this.#unique.get(key) === entry) this.#unique.delete(key)
      if (holds && !held) this.#unique.set(key, entry)
    }
    const waited = from !== undefined && WAITING.has(from)
    const waits = to !== undefined && WAITING.has(to)
    const group = record.groupKey
    if (group !== null) {
      if (waited && !waits) this.#groups.removeWaiting(group, entry)
      if (waits && !waited) this.#groups.addWaiting(group, entry)
      if (from === 'running') this.#groups.setRunning(group, entry, false)
      if (to === 'running') this.#groups.setRunning(group, entry, true)
      this.#touchedGroups.add(group)
    }
    if (waits) this.#makeClaimable(entry, now)
    else if (waited) this.#lanes.invalidate(entry)
    if (to === 'succeeded') {
      for (const dependant of this.#dependants.get(record.id) ?? []) {
        if (WAITING.has(dependant.record.state)) this.#makeClaimable(dependant, now)
      }
    }
    if (to !== undefined && ENDED_BADLY.has(to)) this.#cascade.push({ id: record.id, now })
  }

  /** Cancels the waiting dependants of jobs that failed or were cancelled, transitively (no recursion). */
  #runCascade(): void {
    for (let next = this.#cascade.pop(); next; next = this.#cascade.pop()) {
      for (const dependant of this.#dependants.get(next.id) ?? []) {
        const from = dependant.record.state
        if (!WAITING.has(from) && from !== 'paused') continue
        dependant.record.state = 'cancelled'
        dependant.record.finishedAt = next.now
        this.#reindex(dependant, from, 'cancelled', next.now)
      }
    }
  }

  #canRun(entry: JobEntry, now: number): boolean {
    const { groupKey, groupMode, dependsOn } = entry.record
    if (groupKey !== null) {
      if (this.#groups.isHeld(groupKey, now)) {
        if (groupMode === 'release') this.#groups.park(groupKey, entry)
        return false
      }
      if (groupMode === 'fifo' && this.#groups.head(groupKey) !== entry) return false
    }
    for (const dep of dependsOn) {
      const state = this.#entries.get(dep)?.record.state
      if (state !== undefined && state !== 'succeeded') return false
    }
    return true
  }

  /**
   * A waiting job may be claimable: `fifo` jobs of a group wait for `settle` (which pushes only the
   * group's head), others are pushed at once (a `release` job met while its group is held is parked).
   */
  #makeClaimable(entry: JobEntry, now: number): void {
    const { groupKey, groupMode } = entry.record
    if (groupKey !== null) this.#touchedGroups.add(groupKey)
    if (groupKey === null || groupMode === 'release') this.#push(entry, now)
  }

  #push(entry: JobEntry, now: number): void {
    this.#lanes.push(entry)
    if (entry.record.runAt <= now) this.#wokenQueues.add(entry.record.queue)
  }

  #count(queue: string, state: JobState, delta: number): void {
    let counts = this.#counts.get(queue)
    if (!counts) {
      counts = Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>
      this.#counts.set(queue, counts)
    }
    counts[state] += delta
    if (delta < 0 && JOB_STATES.every((s) => counts[s] === 0)) this.#counts.delete(queue)
  }
}
