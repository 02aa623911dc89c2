/**
 * The worker's claim buffer: a fixed `prefetch` asks for at most capacity + prefetch per claim; an
 * adaptive one (`prefetchMax` above `prefetch`) doubles while the worker starves on a backlog (its
 * slots sit idle waiting for claims that come back full), and falls back to its base once a claim
 * comes back short (the backlog is gone) or buffered jobs had to be released for waiting too long.
 */
import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../src/core/clock.js'
import type { JobRecord } from '../../src/core/job.js'
import { Worker, type WorkerSettings } from '../../src/core/worker.js'
import { nextTurn, waitFor } from '../support/wait.js'

const CAPACITY = 10

/** A queue of weight-1 jobs behind a fake claim that records what each claim asked for. */
function backlog(initial: number) {
  let next = 0
  let remaining = initial
  const asked: number[] = []
  const released: string[] = []
  return {
    asked,
    released,
    add(n: number) {
      remaining += n
    },
    get remaining() {
      return remaining
    },
    claim: async ({ capacity }: { capacity: number }): Promise<JobRecord[]> => {
      asked.push(capacity)
      const n = Math.min(capacity, remaining)
      remaining -= n
      return Array.from({ length: n }, () => ({ id: String(++next), weight: 1 }) as JobRecord)
    },
    release: async (jobs: readonly JobRecord[]) => {
      for (const job of jobs) released.push(job.id)
      remaining += jobs.length
    },
  }
}

function settings(prefetch: number, prefetchMax: number): WorkerSettings {
  return {
    id: 'w',
    queues: ['default'],
    capacity: CAPACITY,
    strategy: 'priority',
    pollIntervalMs: 1000,
    prefetch,
    prefetchMax,
    maxBufferWaitMs: 5000,
  }
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
    run: (job) => run(job),
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
    expect(queue.asked).toContain(CAPACITY + 200)
    expect(Math.max(...queue.asked)).toBe(CAPACITY + 400)
  })

  it('falls back to the base once a claim comes back short (the backlog is gone)', async () => {
    const queue = backlog(3000)
    const { worker } = startWorker(queue, settings(100, 400), async () => {})
    await waitFor(() => queue.remaining === 0 && queue.asked.at(-1)! > queue.remaining, {
      message: 'backlog drained',
    })
    await waitFor(() => Math.max(...queue.asked) === CAPACITY + 400, { message: 'grown' })
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
    await waitFor(() => queue.asked.includes(CAPACITY + 400), { message: 'grown to the maximum' })
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
})
