/**
 * The worker's start and stop guards: a second `start()` is a no-op (it does not claim again before
 * the poll interval), `wake()` before `start()` or after `stop()` claims nothing, and `stop()`
 * waits for a claim in flight and releases what it returns.
 */
import { expect, it } from 'vitest'
import type { JobRecord } from '../../src/core/domain/job.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import { Worker, type WorkerSettings } from '../../src/core/runtime/worker.js'
import { nextTurn, waitFor } from '../support/wait.js'

const settings: WorkerSettings = {
  id: 'w',
  queues: ['default'],
  capacity: 2,
  oversized: 'alone',
  strategy: 'priority',
  pollIntervalMs: 1000,
  prefetch: 0,
  prefetchMax: 0,
  maxBufferWaitMs: 5000,
}

/** A worker whose claims each wait until the test answers them (in order). */
function gatedWorker() {
  const clock = new ManualClock(0)
  const answers: ((jobs: JobRecord[]) => void)[] = []
  const released: string[] = []
  const ran: string[] = []
  let claims = 0
  const worker = new Worker(settings, {
    clock,
    claim: () => {
      claims++
      return new Promise<JobRecord[]>((resolve) => answers.push(resolve))
    },
    run: async (job) => {
      ran.push(job.id)
    },
    release: async (jobs) => {
      for (const job of jobs) released.push(job.id)
    },
    onError: (error) => {
      throw error
    },
  })
  return {
    worker,
    clock,
    released,
    ran,
    get claims() {
      return claims
    },
    /** Answers the oldest claim still waiting. */
    answer(jobs: JobRecord[] = []) {
      const next = answers.shift()
      if (!next) throw new Error('no claim is waiting')
      next(jobs)
    },
  }
}

it('a second start() is a no-op: no claim beyond the first until the poll interval', async () => {
  const w = gatedWorker()
  w.worker.start()
  await waitFor(() => w.claims === 1, { message: 'the first claim' })
  w.worker.start()
  // A wake the second start would have asked for runs in the turn after it (immediates run in order).
  await nextTurn()
  w.answer([])
  // The worker has decided what comes next once it arms its poll timer.
  await waitFor(() => w.clock.pendingTimers === 1, { message: 'the poll timer armed' })
  expect(w.claims).toBe(1)
  w.clock.advance(1000)
  await waitFor(() => w.claims === 2, { message: 'the claim of the next poll' })
  w.answer([])
  await w.worker.stop(0)
})

it('wake() before start() claims nothing', async () => {
  const w = gatedWorker()
  w.worker.wake()
  await nextTurn()
  await nextTurn()
  expect(w.claims).toBe(0)
  expect(w.clock.pendingTimers).toBe(0)
})

it('wake() after stop() claims nothing', async () => {
  const w = gatedWorker()
  w.worker.start()
  await waitFor(() => w.claims === 1, { message: 'the first claim' })
  w.answer([])
  await waitFor(() => w.clock.pendingTimers === 1, { message: 'the poll timer armed' })
  await w.worker.stop(0)
  expect(w.clock.pendingTimers).toBe(0)
  w.worker.wake()
  await nextTurn()
  await nextTurn()
  expect(w.claims).toBe(1)
})

it('stop() waits for a claim in flight and releases the jobs it returns, without running them', async () => {
  const w = gatedWorker()
  w.worker.start()
  await waitFor(() => w.claims === 1, { message: 'the first claim' })
  let stopped = false
  const stopping = w.worker.stop(0).then(() => {
    stopped = true
  })
  await nextTurn()
  expect(stopped).toBe(false)
  w.answer([{ id: '1', weight: 1 } as JobRecord, { id: '2', weight: 1 } as JobRecord])
  await stopping
  expect(w.released).toEqual(['1', '2'])
  expect(w.ran).toEqual([])
  // A stopped worker leaves no poll timer behind.
  expect(w.clock.pendingTimers).toBe(0)
})

it('dropBuffered() drops cancelled jobs from the buffer: they never start and are not released', async () => {
  const clock = new ManualClock(0)
  const ran: string[] = []
  const released: string[] = []
  let finishFirst = () => {}
  let answered = false
  const worker = new Worker(
    { ...settings, capacity: 1, prefetch: 2, prefetchMax: 2 },
    {
      clock,
      claim: async () => {
        if (answered) return []
        answered = true
        return ['1', '2', '3'].map((id) => ({ id, weight: 1 }) as JobRecord)
      },
      run: (job) => {
        ran.push(job.id)
        return job.id === '1' ? new Promise<void>((resolve) => (finishFirst = resolve)) : Promise.resolve()
      },
      release: async (jobs) => {
        for (const job of jobs) released.push(job.id)
      },
      onError: (error) => {
        throw error
      },
    },
  )
  worker.start()
  await waitFor(() => ran.length === 1, { message: 'the first job to start' })
  expect(worker.dropBuffered(new Set(['2', 'other']))).toBe(1)
  finishFirst()
  await waitFor(() => ran.length === 2, { message: 'the next buffered job to start' })
  await worker.stop(0)
  expect(ran).toEqual(['1', '3'])
  expect(released).toEqual([])
})
