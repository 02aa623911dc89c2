/**
 * When the worker claims (issue 19, "claim less often, take more per claim"): a wake on an idle
 * worker claims at once; wakes that arrive while a claim is in flight become one claim after it;
 * a claim that came back short is not followed by another, nor is a freed slot, unless something
 * says jobs wait (a wake it could not serve, or a claim cut by its capacity).
 */
import { describe, expect, it } from 'vitest'
import type { JobRecord } from '../../src/core/domain/job.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import { Worker, type WorkerSettings } from '../../src/core/runtime/worker.js'
import { nextTurn, waitFor } from '../support/wait.js'
import { workerSettings } from '../support/worker-settings.js'

/** Jobs waiting in a fake store; each claim is recorded and can be held open by the test. */
function store() {
  let next = 0
  let waiting = 0
  const asked: number[] = []
  let gate: Promise<void> | null = null
  let open: () => void = () => {}
  return {
    asked,
    add(n: number) {
      waiting += n
    },
    get waiting() {
      return waiting
    },
    /** Holds the claims made from now on until `release()`. */
    hold() {
      gate = new Promise<void>((resolve) => {
        open = resolve
      })
    },
    release() {
      gate = null
      open()
    },
    claim: async ({ capacity }: { capacity: number }): Promise<JobRecord[]> => {
      asked.push(capacity)
      if (gate) await gate
      else await nextTurn()
      const n = Math.min(capacity, waiting)
      waiting -= n
      return Array.from({ length: n }, () => ({ id: String(++next), weight: 1 }) as JobRecord)
    },
  }
}

function settings(capacity: number, prefetch: number): WorkerSettings {
  return workerSettings({ capacity, prefetch, prefetchMax: prefetch })
}

/** A worker whose jobs run until the test finishes them (`finish`), on a clock that never moves. */
function startWorker(s: ReturnType<typeof store>, ws: WorkerSettings) {
  const running: (() => void)[] = []
  const worker = new Worker(ws, {
    clock: new ManualClock(),
    claim: s.claim,
    run: () => new Promise<void>((resolve) => running.push(resolve)),
    release: async () => {},
    onError: (error) => {
      throw error
    },
  })
  worker.start()
  const settle = async () => {
    for (let i = 0; i < 10; i++) await nextTurn()
  }
  return {
    worker,
    running,
    settle,
    /** Finishes the oldest `n` running jobs. */
    finish: async (n = running.length) => {
      for (const resolve of running.splice(0, n)) resolve()
      await settle()
    },
  }
}

describe('worker claims', () => {
  it('claims at once when a wake finds it idle, and not again for a short claim or a freed slot', async () => {
    const s = store()
    const w = startWorker(s, settings(10, 100))
    await w.settle()
    expect(s.asked).toHaveLength(1) // the first claim, at start
    s.add(1)
    w.worker.wake()
    await waitFor(() => w.running.length === 1, { message: 'the job to start' })
    await w.finish()
    // One claim for the wake: the claim came back short and the freed slot has nothing to look for.
    expect(s.asked).toHaveLength(2)
    await w.worker.stop(0)
  })

  it('folds the wakes that arrive while a claim is in flight into one claim', async () => {
    const s = store()
    const w = startWorker(s, settings(10, 100))
    await w.settle()
    s.add(1)
    s.hold()
    w.worker.wake()
    await w.settle()
    expect(s.asked).toHaveLength(2)
    for (let i = 0; i < 5; i++) {
      s.add(1)
      w.worker.wake()
      await w.settle()
    }
    // Still one claim in flight: the others wait for it.
    expect(s.asked).toHaveLength(2)
    s.release()
    await waitFor(() => w.running.length === 6, { message: 'every job to start' })
    await w.settle()
    expect(s.asked).toHaveLength(3)
    await w.finish()
    expect(s.asked).toHaveLength(3)
    await w.worker.stop(0)
  })

  it('overlaps a second claim with the first only on a backlog (the last claim came back full)', async () => {
    const s = store()
    const w = startWorker(s, settings(10, 100))
    await w.settle()
    s.add(1)
    w.worker.wake()
    await waitFor(() => w.running.length === 1, { message: 'the first job' })
    const claims = s.asked.length
    s.hold()
    s.add(1)
    w.worker.wake()
    await w.settle()
    expect(s.asked).toHaveLength(claims + 1)
    // A slot frees and another job comes while that claim is in flight: it waits for that claim.
    await w.finish()
    s.add(1)
    w.worker.wake()
    await w.settle()
    expect(s.asked).toHaveLength(claims + 1)
    s.release()
    await waitFor(() => w.running.length === 2, { message: 'both jobs' })
    await w.settle()
    expect(s.asked).toHaveLength(claims + 2)
    await w.finish()
    await w.worker.stop(0)
  })

  it('serves a wake it had no room for when a slot frees', async () => {
    const s = store()
    const w = startWorker(s, settings(1, 0))
    await w.settle()
    s.add(2)
    w.worker.wake()
    await waitFor(() => w.running.length === 1, { message: 'the first job' })
    const claims = s.asked.length
    // Busy: the wake cannot be served now.
    w.worker.wake()
    await w.settle()
    expect(s.asked).toHaveLength(claims)
    await w.finish()
    await waitFor(() => w.running.length === 1, { message: 'the second job' })
    expect(s.waiting).toBe(0)
    await w.finish()
    await w.worker.stop(0)
  })

  it('claims again when a slot frees after a claim that left less room than the heaviest job it has seen', async () => {
    // Waiting jobs by weight, taken in order while they fit (a job that does not fit stops the claim).
    const waiting: number[] = []
    const asked: number[] = []
    let next = 0
    const claim = async ({ capacity }: { capacity: number }): Promise<JobRecord[]> => {
      asked.push(capacity)
      await nextTurn()
      const taken: JobRecord[] = []
      let used = 0
      while (waiting.length > 0 && used + waiting[0]! <= capacity) {
        const weight = waiting.shift()!
        used += weight
        taken.push({ id: String(++next), weight } as JobRecord)
      }
      return taken
    }
    const started: number[] = []
    const running: (() => void)[] = []
    const worker = new Worker(settings(4, 0), {
      clock: new ManualClock(),
      claim,
      run: (job) => {
        started.push(job.weight)
        return new Promise<void>((resolve) => running.push(resolve))
      },
      release: async () => {},
      onError: (error) => {
        throw error
      },
    })
    const settle = async () => {
      for (let i = 0; i < 10; i++) await nextTurn()
    }
    worker.start()
    await settle()
    waiting.push(3)
    worker.wake()
    await waitFor(() => started.length === 1, { message: 'the job of weight 3' })
    running.shift()!()
    await settle()
    // Two light jobs fit; the heavy one behind them does not, and the claim does not say so.
    waiting.push(1, 1, 3)
    worker.wake()
    await waitFor(() => started.length === 3, { message: 'the two light jobs' })
    const claims = asked.length
    running.shift()!()
    // Room 3 now: the freed slot claims again, and the heavy job runs without a wake or a poll.
    await waitFor(() => started.length === 4, { message: 'the heavy job' })
    expect(asked.length).toBe(claims + 1)
    expect(started).toEqual([3, 1, 1, 3])
    for (const resolve of running.splice(0)) resolve()
    await worker.stop(0)
  })

  it('claims again when a slot frees after a claim cut by its capacity (a backlog)', async () => {
    const s = store()
    const w = startWorker(s, settings(2, 0))
    await w.settle()
    s.add(5)
    w.worker.wake()
    await waitFor(() => w.running.length === 2, { message: 'two jobs' })
    for (let i = 0; i < 2; i++) {
      await w.finish(1)
      await waitFor(() => w.running.length === 2, { message: 'the slot refilled' })
    }
    expect(s.waiting).toBe(1)
    await w.finish()
    await waitFor(() => s.waiting === 0, { message: 'the backlog drained' })
    await w.finish()
    await w.worker.stop(0)
  })
})
