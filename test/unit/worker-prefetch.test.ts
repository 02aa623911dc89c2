/**
 * The worker's claim buffer: a fixed `prefetch` asks for at most capacity + prefetch per claim; an
 * adaptive one (`prefetchMax` above `prefetch`) doubles while the worker starves on a backlog (its
 * slots sit idle waiting for claims that come back full), and falls back to its base once a claim
 * comes back short (the backlog is gone) or buffered jobs had to be released for waiting too long.
 */
import { describe, expect, it } from 'vitest'
import type { JobRecord } from '../../src/core/domain/job.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import { Worker, type WorkerSettings } from '../../src/core/runtime/worker.js'
import { nextTurn, waitFor } from '../support/wait.js'
import { workerSettings } from '../support/worker-settings.js'

const CAPACITY = 10

/**
 * A queue of jobs of one weight behind a fake claim that records what each claim asked for and,
 * like the store, takes jobs in order while their weights fit the capacity asked, answering on the
 * next turn.
 */
function backlog(initial: number, weight = 1) {
  let next = 0
  let remaining = initial
  const asked: number[] = []
  const released: string[] = []
  let claimed = 0
  let started = 0
  let peak = 0
  return {
    asked,
    released,
    /** Counts a job the worker started (see `startWorker`). */
    started() {
      started++
    },
    /** The most weight claimed and not yet started or released, as each claim answered. */
    get peak() {
      return peak
    },
    /** Jobs handed out by claims (released ones included). */
    get claimed() {
      return claimed
    },
    add(n: number) {
      remaining += n
    },
    get remaining() {
      return remaining
    },
    claim: async ({ capacity }: { capacity: number }): Promise<JobRecord[]> => {
      asked.push(capacity)
      const n = Math.min(Math.floor(capacity / weight), remaining)
      remaining -= n
      claimed += n
      const jobs = Array.from({ length: n }, () => ({ id: String(++next), weight }) as JobRecord)
      // A claim is a round trip: its answer comes on a later turn of the event loop.
      await nextTurn()
      peak = Math.max(peak, (claimed - started - released.length) * weight)
      return jobs
    },
    release: async (jobs: readonly JobRecord[]) => {
      for (const job of jobs) released.push(job.id)
      remaining += jobs.length
    },
  }
}

function settings(prefetch: number, prefetchMax: number): WorkerSettings {
  return workerSettings({ capacity: CAPACITY, prefetch, prefetchMax })
}

function startWorker(
  queue: ReturnType<typeof backlog>,
  s: WorkerSettings,
  run: (job: JobRecord) => Promise<unknown>,
) {
  const clock = new ManualClock()
  const errors: unknown[] = []
  const worker = new Worker(s, {
    clock,
    claim: queue.claim,
    run: (job) => {
      queue.started()
      return run(job)
    },
    release: queue.release,
    onError: (error) => errors.push(error),
  })
  worker.start()
  return { worker, clock, errors }
}

describe('worker claim buffer', () => {
  it('keeps a fixed prefetch: no claim asks for more than capacity + prefetch', async () => {
    const queue = backlog(3000)
    const { worker, errors } = startWorker(queue, settings(100, 100), async () => {})
    await waitFor(() => queue.remaining === 0, { message: 'backlog drained' })
    await worker.stop(0)
    expect(errors).toEqual([])
    expect(queue.asked[0]).toBe(CAPACITY + 100)
    expect(Math.max(...queue.asked)).toBe(CAPACITY + 100)
  })

  it('doubles an adaptive prefetch up to its maximum while fast jobs starve on a backlog', async () => {
    const queue = backlog(5000)
    const { worker, errors } = startWorker(queue, settings(100, 400), async () => {})
    await waitFor(() => queue.remaining === 0, { message: 'backlog drained' })
    await worker.stop(0)
    expect(errors).toEqual([])
    expect(queue.asked[0]).toBe(CAPACITY + 100)
    // Claims overlap on a backlog, so the buffer's size shows in what is claimed and not yet
    // started (it may reach the capacity on top: the slots' room is claimed with it), not in one claim.
    expect(queue.peak).toBeGreaterThan(300)
    expect(queue.peak).toBeLessThanOrEqual(CAPACITY + 400)
    expect(Math.max(...queue.asked)).toBeLessThanOrEqual(CAPACITY + 400)
  })

  it('falls back to the base once a claim comes back short (the backlog is gone)', async () => {
    const queue = backlog(3000)
    const { worker } = startWorker(queue, settings(100, 400), async () => {})
    await waitFor(() => queue.remaining === 0, { message: 'backlog drained' })
    await waitFor(() => queue.peak > 300, { message: 'grown' })
    // Drained: the last claims came back short. New work arrives: the first claim asks for the base.
    const before = queue.asked.length
    queue.add(2000)
    worker.wake()
    await waitFor(() => queue.asked.length > before, { message: 'claimed again' })
    await worker.stop(0)
    expect(queue.asked[before]).toBe(CAPACITY + 100)
  })

  it('falls back to the base when buffered jobs waited too long and were released', async () => {
    const queue = backlog(100_000)
    let hold = false
    const held: (() => void)[] = []
    const { worker, clock } = startWorker(queue, settings(100, 400), () =>
      hold ? new Promise<void>((resolve) => held.push(resolve)) : Promise.resolve(),
    )
    await waitFor(() => queue.peak > 300, { message: 'grown to the maximum' })
    // The jobs turn slow: every slot is taken and the buffer stops moving.
    hold = true
    await waitFor(() => held.length === CAPACITY, { message: 'all slots held' })
    for (let i = 0; i < 5; i++) await nextTurn()
    const before = queue.asked.length
    clock.advance(5001) // past maxBufferWaitMs: the poll releases the stale buffer
    await waitFor(() => queue.released.length > 0, { message: 'stale buffer released' })
    clock.advance(1000) // the next poll claims again, for the base only
    await waitFor(() => queue.asked.length > before, { message: 'claimed after the release' })
    expect(queue.asked.slice(before).every((asked) => asked <= 100)).toBe(true)
    for (const resolve of held) resolve()
    await worker.stop(0)
  })

  it('does not grow for a burst that finds the worker idle: only starving while a claim is due counts', async () => {
    const queue = backlog(0)
    const held: (() => void)[] = []
    let started = 0
    const { worker, clock } = startWorker(queue, settings(100, 400), () => {
      started++
      return new Promise<void>((r) => held.push(r))
    })
    await waitFor(() => queue.asked.length === 1, { message: 'first (empty) claim' })
    for (let i = 0; i < 3; i++) await nextTurn() // its (empty) answer lands
    // Idle and empty. Then a burst of slow jobs arrives and wakes the worker.
    queue.add(1000)
    worker.wake()
    await waitFor(() => held.length === CAPACITY, { message: 'slots taken' })
    // Finish the running jobs a slot-full at a time: the buffer (claimed, not started) never
    // holds more than the base, because the worker never waited for a claim with a slot free.
    const buffered: number[] = []
    for (let round = 0; round < 30; round++) {
      for (const resolve of held.splice(0)) resolve()
      await waitFor(() => held.length === CAPACITY, { message: 'slots taken again' })
      for (let i = 0; i < 3; i++) await nextTurn()
      buffered.push(queue.claimed - started)
    }
    const stopped = worker.stop(0)
    clock.advance(1) // the grace period ends: running jobs are aborted, then waited for
    for (const resolve of held.splice(0)) resolve()
    await stopped
    expect(queue.asked.length).toBeGreaterThan(2)
    expect(Math.max(...buffered)).toBeLessThanOrEqual(100)
  })

  it('sizes the next claim after taking the stale jobs out of the buffer, not before', async () => {
    const queue = backlog(100_000)
    let hold = false
    const held: (() => void)[] = []
    let started = 0
    const { worker, clock } = startWorker(queue, settings(100, 400), () => {
      started++
      return hold ? new Promise<void>((resolve) => held.push(resolve)) : Promise.resolve()
    })
    const settle = async () => {
      for (let i = 0; i < 5; i++) await nextTurn()
    }
    const finishOneRound = async () => {
      for (const resolve of held.splice(0)) resolve()
      await waitFor(() => held.length === CAPACITY, { message: 'slots taken again' })
      await settle()
    }
    await waitFor(() => queue.peak > 300, { message: 'grown to the maximum' })
    hold = true
    await waitFor(() => held.length === CAPACITY, { message: 'all slots held' })
    await settle()
    // 3 s later, running jobs finish until the buffer runs low and a claim refills it with fresh jobs.
    clock.advance(3000)
    const before = queue.asked.length
    const claimedBefore = queue.claimed
    while (!queue.asked.slice(before).some((asked) => asked >= 200)) await finishOneRound()
    for (let i = 0; i < 5; i++) await finishOneRound()
    // Another 2 s: the jobs claimed first are now stale, the refill is not. The poll releases the
    // stale ones; sized afterwards, its claim tops the buffer up to the base at most, and adds
    // nothing when the fresh jobs alone are more than that.
    const buffer = () => queue.claimed - started - queue.released.length
    // The buffer is first in, first out: what is left of the refill is its newest part.
    const fresh = Math.min(buffer(), queue.claimed - claimedBefore)
    clock.advance(2001)
    await waitFor(() => queue.released.length > 0, { message: 'stale jobs released' })
    await settle()
    expect(buffer()).toBeLessThanOrEqual(Math.max(100, fresh))
    const stopped = worker.stop(0)
    clock.advance(1)
    for (const resolve of held.splice(0)) resolve()
    await stopped
  })

  it('grows for jobs heavier than 1 too (a claim is full when the next job would not fit)', async () => {
    const queue = backlog(5000, 3)
    const { worker, errors } = startWorker(queue, settings(100, 400), async () => {})
    await waitFor(() => queue.remaining === 0, { message: 'backlog drained' })
    await worker.stop(0)
    expect(errors).toEqual([])
    expect(queue.peak).toBeGreaterThan(300)
    expect(queue.peak).toBeLessThanOrEqual(CAPACITY + 400)
  })

  it('never starts a buffered job that waited longer than maxBufferWaitMs: it is released instead', async () => {
    // The timeout rescue's margin relies on this bound: a job starts at most maxBufferWaitMs after its claim.
    const queue = backlog(2)
    const started: string[] = []
    const held: (() => void)[] = []
    const { worker, clock } = startWorker(queue, { ...settings(1, 1), capacity: 1 }, (job) => {
      started.push(job.id)
      return new Promise<void>((resolve) => held.push(resolve))
    })
    await waitFor(() => started.length === 1, { message: 'first job started, second buffered' })
    for (let i = 0; i < 5; i++) await nextTurn()
    clock.advance(5000) // the buffer's poll: the second job has waited exactly the limit, it stays
    for (let i = 0; i < 5; i++) await nextTurn()
    expect(queue.released).toEqual([])
    clock.advance(2000) // past the limit, before the next poll
    held[0]?.()
    await waitFor(() => queue.released.length === 1, { message: 'stale job released when its slot freed' })
    expect(queue.released).toEqual(['2'])
    expect(started).not.toContain('2') // (the fake queue hands the released job out again under a new id)
    for (const resolve of held) resolve()
    await worker.stop(0)
  })
})

describe('worker claim timing', () => {
  it('asks for the next claim in the turn the buffer falls below half, before the buffered jobs run out', async () => {
    // Jobs that settle at once: the buffer drains in one chain of promise callbacks, without a turn
    // of the event loop in between. A claim deferred to the next turn would be asked for only once
    // the buffer is empty, and the worker would then sit idle for the claim's whole round trip.
    const queue = backlog(100)
    let started = 0
    const startedAtClaim: number[] = []
    const claim = queue.claim
    queue.claim = async (params) => {
      startedAtClaim.push(started)
      return claim(params)
    }
    const { worker, errors } = startWorker(queue, { ...settings(8, 8), capacity: 1 }, async () => {
      started++
    })
    await waitFor(() => queue.asked.length >= 2, { message: 'a second claim' })
    await worker.stop(0)
    expect(errors).toEqual([])
    // The first claim took 9 (1 slot + 8 buffered); the second is due once 3 are left buffered
    // (below half of 8), with one running: 6 started, room for 1 + 8 - 1 - 3 = 5.
    expect(startedAtClaim.slice(0, 2)).toEqual([0, 6])
    expect(queue.asked.slice(0, 2)).toEqual([9, 5])
  })
})
