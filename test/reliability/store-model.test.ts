/**
 * The Postgres store against the memory store, on random histories (fast-check): the same inserts,
 * claims, completions, cancels, pauses, resumes, retries, changes, deletes, rescues and queue pauses,
 * at the same explicit times, must claim the same jobs in the same order and leave every job in the
 * same state. The memory store keeps the port's rules in plain code; the Postgres store keeps them
 * with indexes, a claim that checks groups and dependencies per candidate, and state that exists only
 * for speed: jobs set aside behind their group (`group_behind`, migrations 013 to 016) and released by
 * the statements that end a group's job, dependants woken through `job_dependants`. Any of those that
 * loses track of a job shows up here as a job one store runs and the other does not (it found 016's
 * case: a `release` group's end released one job, so the workers of its other queues found none).
 *
 * Claims are made by two processes (`p1`, `p2`), which heartbeat when the history says so; a rescue
 * judges running jobs by their process's last heartbeat (a process that never beat is dead at once)
 * and, sometimes, by their timeouts, so the two stores must agree on whose jobs a crash strands.
 *
 * Each history ends with a drain: time moves on and every claimable job is claimed (each queue on its
 * own, then both) and succeeds, until neither store claims anything, so a job stuck in one store (set
 * aside and never released, a dependant never woken) is found even when the random part never claims
 * it. The drain runs no rescue pass (whose sweep releases what a statement missed): the statements
 * alone must release what they hold.
 *
 * Histories stay within what the core sends: no schedule ticks, and a retry only
 * while attempts are left (the memory store's two known gaps, test/store/memory.test.ts); the
 * strategy is one per history (see `Twin`).
 */
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import type { ClaimParams, Completion, JobStore, NewJob, PollStrategy } from '../../src/core/ports/store.js'
import { describeStore, useStore } from '../postgres/fixture.js'
import { newJobBuilder } from '../support/new-job.js'
import { reliabilityScale } from '../support/reliability-results.js'

const T0 = Date.UTC(2030, 0, 1)
const newJob = newJobBuilder({ runAt: T0 })

/** One job of an insert, relative to the history so far. */
interface JobSpec {
  readonly kind: 'test' | 'other'
  readonly queue: 'q1' | 'q2'
  readonly group: 'a' | 'b' | null
  readonly release: boolean
  readonly lockTimeout: boolean
  readonly priority: 0 | 1
  readonly delayMs: 0 | 2_000
  readonly weight: 1 | 2
  readonly maxAttempts: 1 | 2 | 3
  /** A job timeout (0: none), which a rescue with a timeout margin judges. */
  readonly timeoutMs: 0 | 2_000
  readonly unique: boolean
  /** Depends on the job this many inserts back (when there is one). */
  readonly dependsBack: number | null
}

type Op =
  | { readonly op: 'insert'; readonly jobs: readonly JobSpec[] }
  | {
      readonly op: 'claim'
      readonly queues: 'q1' | 'q2' | 'both'
      readonly capacity: number
      /** The kinds the claiming worker has handlers for. */
      readonly kinds: 'test' | 'other' | 'both'
      /** Refuse jobs heavier than the capacity (a worker with `oversized: 'refuse'`). */
      readonly refuse: boolean
      /** The process whose worker claims. */
      readonly process: Process
    }
  | {
      readonly op: 'complete'
      readonly pick: number
      readonly outcome: Outcome
    }
  | { readonly op: 'cancel' | 'pause' | 'resume' | 'delete' | 'retry'; readonly pick: number }
  | {
      readonly op: 'update'
      readonly pick: number
      readonly priority: 0 | 1 | null
      readonly delayMs: number | null
    }
  | { readonly op: 'rescue'; readonly staleAfterMs: 1_000 | 3_000; readonly timeoutMarginMs: number | null }
  | { readonly op: 'beat'; readonly process: Process }
  | { readonly op: 'queue'; readonly queue: 'q1' | 'q2'; readonly paused: boolean }
  | { readonly op: 'tick'; readonly ms: number }

type Process = 'p1' | 'p2'
const process: fc.Arbitrary<Process> = fc.constantFrom('p1', 'p2')

const jobSpec: fc.Arbitrary<JobSpec> = fc.record({
  kind: fc.constantFrom('test', 'test', 'other'),
  queue: fc.constantFrom('q1', 'q1', 'q2'),
  group: fc.constantFrom('a', 'a', 'b', null, null),
  release: fc.boolean(),
  lockTimeout: fc.constantFrom(false, false, false, true),
  priority: fc.constantFrom(0, 1),
  delayMs: fc.constantFrom(0, 0, 0, 2_000),
  weight: fc.constantFrom(1, 1, 1, 2),
  maxAttempts: fc.constantFrom(1, 2, 3),
  timeoutMs: fc.constantFrom(0, 0, 0, 2_000),
  unique: fc.constantFrom(false, false, false, false, true),
  dependsBack: fc.option(fc.integer({ min: 1, max: 6 }), { freq: 4 }),
})

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('insert'),
      jobs: fc.array(jobSpec, { minLength: 1, maxLength: 5 }),
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('claim'),
      queues: fc.constantFrom('q1', 'q2', 'both'),
      capacity: fc.integer({ min: 1, max: 4 }),
      kinds: fc.constantFrom('test', 'test', 'other', 'both'),
      refuse: fc.constantFrom(false, false, true),
      process,
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('complete'),
      pick: fc.nat(),
      outcome: fc.constantFrom('succeeded', 'succeeded', 'retry', 'failed', 'snoozed', 'released'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constantFrom('cancel', 'pause', 'resume', 'delete', 'retry'),
      pick: fc.nat(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('update'),
      pick: fc.nat(),
      priority: fc.constantFrom(0, 1, null),
      delayMs: fc.constantFrom(0, 1_500, null),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('rescue'),
      staleAfterMs: fc.constantFrom(1_000, 3_000),
      timeoutMarginMs: fc.constantFrom(null, 0, 500),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('beat'), process }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('queue'),
      queue: fc.constantFrom('q1', 'q2'),
      paused: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('tick'),
      // Whole seconds too, so heartbeats and timeouts meet a rescue's limits exactly.
      ms: fc.oneof(fc.constantFrom(500, 1_000, 2_000, 3_000), fc.integer({ min: 100, max: 4_000 })),
    }),
  },
)

/** What a job's state is compared on (the rest, such as error texts, is the conformance suite's). */
function snapshot(job: JobRecord | null) {
  if (job === null) return null
  const { state, attempt, runs, runAt, priority, queue, groupKey, finishedAt, attemptedAt, attemptedBy } = job
  // The last error's name tells a rescue for a timeout from one for a dead process (`WorkerDied`).
  const lastError = job.errors.at(-1)?.name ?? null
  return {
    state,
    attempt,
    runs,
    runAt,
    priority,
    queue,
    groupKey,
    finishedAt,
    attemptedAt,
    attemptedBy,
    lastError,
  }
}

type Outcome = 'succeeded' | 'retry' | 'failed' | 'snoozed' | 'released'

/** Runs one history on both stores, failing at the first step where they differ. */
class Twin {
  readonly #stores: readonly [memory: JobStore, postgres: JobStore]
  /**
   * Each store's ids of the jobs the history inserted, in insert order: a job is known by its index
   * here (its handle), since ids may differ (a sequence spends an id on a skipped duplicate).
   */
  readonly #ids: readonly [string[], string[]] = [[], []]
  /** Running jobs by handle, as each store returned them. */
  readonly #running = new Map<number, readonly [JobRecord, JobRecord]>()
  #now = T0
  #unique = 0
  readonly log: string[] = []

  /**
   * Every claim of a history uses one strategy, and a `time` history gives every job priority 0. The
   * Postgres store releases a `release` group's jobs set aside in the `priority` strategy's order, so
   * `time` claims meet them in that order (a documented limit, docs/postgres.md "Group holds"), and a `time` claim
   * can give a group's turn to a job that a `priority` claim would take after another of the group.
   */
  readonly #strategy: PollStrategy

  constructor(memory: JobStore, postgres: JobStore, strategy: PollStrategy) {
    this.#stores = [memory, postgres]
    this.#strategy = strategy
  }

  /**
   * Calls `f` on both stores; expects the same result (after `view`), or the same error class and
   * code from both. Returns both results (null after errors).
   */
  async #both<T, V>(
    what: string,
    f: (store: JobStore, side: 0 | 1) => Promise<T>,
    view: (value: T, side: 0 | 1) => V,
  ): Promise<readonly [T, T] | null> {
    const settled = await Promise.allSettled([f(this.#stores[0], 0), f(this.#stores[1], 1)])
    const seen = settled.map((r, side) =>
      r.status === 'fulfilled'
        ? { value: view(r.value, side as 0 | 1) }
        : { error: (r.reason as Error).name, code: (r.reason as { code?: unknown }).code },
    )
    this.log.push(`${what} -> ${JSON.stringify(seen[0])}`)
    expect(seen[1], `${what}\nhistory:\n${this.log.join('\n')}`).toEqual(seen[0])
    const [memory, postgres] = settled
    if (memory?.status !== 'fulfilled' || postgres?.status !== 'fulfilled') return null
    return [memory.value, postgres.value]
  }

  /** The handle of a job by its id in one store's (-1: not a job of the history). */
  #handle(side: 0 | 1, id: string): number {
    return this.#ids[side].indexOf(id)
  }

  async apply(step: Op): Promise<void> {
    switch (step.op) {
      case 'insert':
        return this.#insert(step.jobs)
      case 'claim':
        await this.#claim(
          step.queues === 'both' ? ['q1', 'q2'] : [step.queues],
          step.capacity,
          step.kinds === 'both' ? ['test', 'other'] : [step.kinds],
          step.refuse,
          step.process,
        )
        return
      case 'beat':
        await this.#both(
          `beat ${step.process}`,
          (store) =>
            store.recordHeartbeat({
              processId: step.process,
              now: this.#now,
              kinds: ['test', 'other'],
              workers: [{ queues: ['q1', 'q2'], capacity: 4, oversized: 'alone' }],
            }),
          () => null,
        )
        return
      case 'update':
        return this.#update(step.pick, step.priority, step.delayMs)
      case 'rescue':
        return this.#rescue(step.staleAfterMs, step.timeoutMarginMs)
      case 'queue':
        await this.#both(
          `queue ${step.queue} paused ${step.paused}`,
          (store) => store.setQueuePaused({ queue: step.queue, paused: step.paused, now: this.#now }),
          () => null,
        )
        return
      case 'complete':
        return this.#complete(step.pick, step.outcome)
      case 'tick':
        this.#now += step.ms
        this.log.push(`tick ${step.ms} -> ${this.#now - T0}`)
        return
      default:
        return this.#admin(step.op, step.pick)
    }
  }

  async #insert(specs: readonly JobSpec[]): Promise<void> {
    const jobsOf = (side: 0 | 1): NewJob[] =>
      specs.map((spec, k) => {
        const ids = this.#ids[side]
        const back = spec.dependsBack === null ? undefined : ids[ids.length - spec.dependsBack]
        return newJob({
          kind: spec.kind,
          queue: spec.queue,
          groupKey: spec.group,
          groupMode: spec.release ? 'release' : 'fifo',
          groupLockTimeoutMs: spec.lockTimeout ? 1_500 : null,
          priority: this.#strategy === 'time' ? 0 : spec.priority,
          runAt: this.#now + spec.delayMs,
          weight: spec.weight,
          maxAttempts: spec.maxAttempts,
          timeoutMs: spec.timeoutMs,
          uniqueKey: spec.unique ? `u${(this.#unique + k) % 2}` : null,
          dependsOn: back === undefined ? [] : [back],
          payload: { k },
        })
      })
    this.#unique += specs.length
    const outcomes = await this.#both(
      `insert ${JSON.stringify(specs)}`,
      (store, side) => store.insertJobs({ jobs: jobsOf(side), now: this.#now }),
      (out, side) =>
        out.map((o) => ({
          job: o.duplicate ? this.#handle(side, o.job.id) : 'new',
          state: o.job.state,
          duplicate: o.duplicate,
        })),
    )
    if (outcomes === null) return
    for (const side of [0, 1] as const) {
      for (const o of outcomes[side]) if (!o.duplicate) this.#ids[side].push(o.job.id)
    }
  }

  async #claim(
    queues: readonly string[],
    capacity: number,
    kinds: readonly string[] = ['test', 'other'],
    refuse = false,
    process: Process = 'p1',
  ): Promise<number[]> {
    const strategy = this.#strategy
    const params: ClaimParams = {
      queues,
      kinds,
      capacity,
      oversizedFirst: !refuse,
      ...(refuse ? { maxWeight: capacity } : {}),
      strategy,
      now: this.#now,
      workerId: `${process}:w1`,
    }
    const claimed = await this.#both(
      `claim ${queues.join('+')} ${kinds.join('+')} capacity ${capacity} ${strategy}${refuse ? ' refusing oversized' : ''}`,
      (store) => store.claimJobs(params),
      (jobs, side) => jobs.map((j) => this.#handle(side, j.id)),
    )
    if (claimed === null) throw new Error(`both stores refused a claim\n${this.log.join('\n')}`)
    const handles = claimed[0].map((j) => this.#handle(0, j.id))
    for (const [i, h] of handles.entries()) this.#running.set(h, [claimed[0][i]!, claimed[1][i]!])
    return handles
  }

  /** Writes one completion of the running job `handle` in both stores. */
  async #completeOne(handle: number, outcome: Outcome, what: string): Promise<void> {
    const pair = this.#running.get(handle)
    if (pair === undefined) return
    this.#running.delete(handle)
    const completionOf = (job: JobRecord): Completion => {
      const error = { message: 'boom', name: 'Error', attempt: job.attempt, at: this.#now }
      const { id, attempt } = job
      if (outcome === 'succeeded' || outcome === 'released') return { id, outcome, attempt }
      if (outcome === 'snoozed') return { id, outcome, runAt: this.#now + 1_000, attempt }
      // A retry only while attempts are left, as the core sends it.
      if (outcome === 'retry' && job.attempt < job.maxAttempts)
        return { id, outcome, runAt: this.#now + 1_000, error, attempt }
      return { id, outcome: 'failed', error, attempt }
    }
    await this.#both(
      `${what} ${handle} ${outcome}`,
      (store, side) => store.completeJobs({ completions: [completionOf(pair[side])], now: this.#now }),
      (result, side) => result.skipped.map((id) => this.#handle(side, id)),
    )
  }

  async #complete(pick: number, outcome: Outcome): Promise<void> {
    const running = [...this.#running.keys()]
    if (running.length === 0) return
    await this.#completeOne(running[pick % running.length]!, outcome, 'complete')
  }

  async #update(pick: number, priority: 0 | 1 | null, delayMs: number | null): Promise<void> {
    const count = this.#ids[0].length
    if (count === 0) return
    const handle = pick % count
    const changes = {
      ...(priority === null || this.#strategy === 'time' ? {} : { priority }),
      ...(delayMs === null ? {} : { runAt: this.#now + delayMs }),
    }
    await this.#both(
      `update ${handle} ${JSON.stringify(changes)}`,
      (store, side) => store.updateJob({ id: this.#ids[side][handle]!, changes, now: this.#now }),
      (out) => (out.status === 'updated' ? snapshot(out.job) : out),
    )
  }

  /** Rescues the running jobs of processes silent for `staleAfterMs` (and, with a margin, timed-out ones). */
  async #rescue(staleAfterMs: number, timeoutMarginMs: number | null): Promise<void> {
    const rescued = await this.#both(
      `rescue stale after ${staleAfterMs}${timeoutMarginMs === null ? '' : `, timeouts + ${timeoutMarginMs}`}`,
      (store) =>
        store.rescueJobs({
          now: this.#now,
          staleAfterMs,
          limit: 100,
          ...(timeoutMarginMs === null ? {} : { timeoutMarginMs }),
        }),
      (jobs, side) => jobs.map((j) => this.#handle(side, j.id)).sort((a, b) => a - b),
    )
    for (const job of rescued?.[0] ?? []) this.#running.delete(this.#handle(0, job.id))
  }

  async #admin(action: 'cancel' | 'pause' | 'resume' | 'delete' | 'retry', pick: number): Promise<void> {
    const count = this.#ids[0].length
    if (count === 0) return
    const handle = pick % count
    const filter = (side: 0 | 1) => ({ ids: [this.#ids[side][handle]!] })
    const now = this.#now
    const what = `${action} ${handle}`
    const handles = (side: 0 | 1, jobs: readonly { id: string }[]) =>
      jobs.map((j) => this.#handle(side, j.id))
    if (action === 'cancel') {
      await this.#both(
        what,
        (s, side) => s.cancelJobs({ filter: filter(side), now }),
        (ids, side) => ids.map((id) => this.#handle(side, id)).sort(),
      )
      this.#running.delete(handle)
    } else if (action === 'pause') {
      await this.#both(
        what,
        (s, side) => s.pauseJobs({ filter: filter(side), now }),
        (jobs, side) => handles(side, jobs),
      )
    } else if (action === 'retry') {
      await this.#both(
        what,
        (s, side) => s.retryJobs({ filter: filter(side), now }),
        (n) => n,
      )
    } else if (action === 'resume') {
      await this.#both(
        what,
        (s, side) => s.resumeJobs({ filter: filter(side), now }),
        (jobs, side) => handles(side, jobs),
      )
    } else {
      // Only a job that is not running: the core refuses to delete a running job's row under its worker.
      if (this.#running.has(handle)) return
      await this.#both(
        what,
        (s, side) => s.deleteJobs({ filter: filter(side) }),
        (n) => n,
      )
    }
  }

  /** Moves time on and runs every claimable job to success until neither store claims anything. */
  async drain(): Promise<void> {
    this.log.push('drain')
    for (const queue of ['q1', 'q2']) {
      await this.#both(
        `drain: resume queue ${queue}`,
        (store) => store.setQueuePaused({ queue, paused: false, now: this.#now }),
        () => null,
      )
    }
    for (const handle of [...this.#running.keys()])
      await this.#completeOne(handle, 'succeeded', 'drain: complete')
    for (let round = 0; round < 200; round++) {
      this.#now += 5_000
      // Each queue and kind on its own, then all: a job that only one of them finds must be there.
      const claimed = [
        ...(await this.#claim(['q1'], 4, ['test'])),
        ...(await this.#claim(['q2'], 4, ['other'])),
        ...(await this.#claim(['q2'], 4, ['test'])),
        ...(await this.#claim(['q1'], 4, ['other'])),
        ...(await this.#claim(['q1', 'q2'], 8)),
      ]
      if (claimed.length === 0 && !(await this.#anyDueLater())) return
      for (const handle of claimed) await this.#completeOne(handle, 'succeeded', 'drain: complete')
    }
    throw new Error(`the drain did not end\nhistory:\n${this.log.join('\n')}`)
  }

  /** True while some job of the memory store is due later (a retry's backoff): the drain moves time on. */
  async #anyDueLater(): Promise<boolean> {
    for (const id of this.#ids[0]) {
      const job = await this.#stores[0].getJob({ id })
      if (job && (job.state === 'scheduled' || job.state === 'retryable') && job.runAt > this.#now)
        return true
    }
    return false
  }

  /** Every job the history inserted, in the same state in both stores. */
  async compareJobs(): Promise<void> {
    for (let handle = 0; handle < this.#ids[0].length; handle++) {
      await this.#both(
        `job ${handle}`,
        (store, side) => store.getJob({ id: this.#ids[side][handle]! }),
        snapshot,
      )
    }
  }
}

describeStore('store model: the Postgres store claims and ends jobs as the memory store does', () => {
  const db = useStore()

  it('random histories of groups, dependencies, retries and admin actions, then a drain', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<PollStrategy>('priority', 'time'),
        fc.array(op, { minLength: 5, maxLength: 40 }),
        async (strategy, ops) => {
          await db.pool.query(
            `TRUNCATE ${db.table('jobs')}, ${db.table('job_history')}, ${db.table('job_dependants')}, ${db.table('queues')}, ${db.table('processes')} RESTART IDENTITY`,
          )
          const twin = new Twin(new MemoryStore(), db.store, strategy)
          for (const step of ops) await twin.apply(step)
          await twin.compareJobs()
          await twin.drain()
          await twin.compareJobs()
        },
      ),
      // About 0.1 s a history: 100 in `npm test` (about 10 s), 1,000 with RELIABILITY_SCALE=long.
      { numRuns: reliabilityScale() === 'long' ? 1_000 : 100 },
    )
  }, 600_000)
})
