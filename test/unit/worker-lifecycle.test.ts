/**
 * The worker's start and stop guards: a second `start()` is a no-op (it does not claim again before
 * the poll interval), `wake()` before `start()` or after `stop()` claims nothing, and `stop()`
 * waits for a claim in flight and releases what it returns.
 */
import { expect, it } from 'vitest'
import { ShutdownAbortError } from '../../src/core/domain/errors.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import type { AbortHandle } from '../../src/core/runtime/abort-handle.js'
import { Worker, type WorkerSettings } from '../../src/core/runtime/worker.js'
import { nextTurn, waitFor } from '../support/wait.js'
import { workerSettings } from '../support/worker-settings.js'

const settings: WorkerSettings = workerSettings({ capacity: 2 })

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

/** A worker with one slot and one buffered job; jobs run until the test finishes or aborts them. */
function heldWorker(
  overrides: Partial<WorkerSettings> = {},
  deps: { release?: (jobs: readonly JobRecord[]) => Promise<void> } = {},
) {
  const clock = new ManualClock(0)
  const errors: [unknown, string][] = []
  const runs: {
    id: string
    abort: AbortHandle
    bufferWaitMs: number
    finish: () => void
    fail: (e: unknown) => void
  }[] = []
  let answered = false
  const worker = new Worker(
    { ...settings, capacity: 1, prefetch: 1, prefetchMax: 1, ...overrides },
    {
      clock,
      claim: async () => {
        if (answered) return []
        answered = true
        return [{ id: '1', weight: 1 } as JobRecord, { id: '2', weight: 1 } as JobRecord]
      },
      run: (job, abort, bufferWaitMs) =>
        new Promise<void>((resolve, reject) => {
          runs.push({ id: job.id, abort, bufferWaitMs, finish: resolve, fail: reject })
          abort.onAbort(() => resolve())
        }),
      release: deps.release ?? (async () => {}),
      onError: (error, during) => errors.push([error, during]),
    },
  )
  worker.start()
  return { worker, clock, errors, runs }
}

it('stop() waits up to graceMs for running jobs, then aborts them with ShutdownAbortError and waits for them', async () => {
  const w = heldWorker({ prefetch: 0, prefetchMax: 0 })
  await waitFor(() => w.runs.length === 1, { message: 'the job runs' })
  let stopped = false
  const stopping = w.worker.stop(500).then(() => {
    stopped = true
  })
  await waitFor(() => w.clock.pendingTimers === 1, { message: 'the grace timer' })
  w.clock.advance(499)
  await nextTurn()
  expect(w.runs[0]!.abort.aborted).toBe(false)
  expect(stopped).toBe(false)
  w.clock.advance(1)
  await stopping
  expect(w.runs[0]!.abort.reason).toBeInstanceOf(ShutdownAbortError)
})

it('stop() resolves once running jobs finish within graceMs, without aborting them or leaving a timer', async () => {
  const w = heldWorker({ prefetch: 0, prefetchMax: 0 })
  await waitFor(() => w.runs.length === 1, { message: 'the job runs' })
  const stopping = w.worker.stop(500)
  await waitFor(() => w.clock.pendingTimers === 1, { message: 'the grace timer' })
  w.runs[0]!.finish()
  await stopping
  expect(w.runs[0]!.abort.aborted).toBe(false)
  expect(w.clock.pendingTimers).toBe(0)
})

it('a buffered job is run with how long it waited in the buffer, in whole ms on the clock', async () => {
  const w = heldWorker()
  await waitFor(() => w.runs.length === 1, { message: 'the first job runs' })
  w.clock.advance(250.4)
  w.runs[0]!.finish()
  await waitFor(() => w.runs.length === 2, { message: 'the buffered job runs' })
  expect(w.runs.map((r) => [r.id, r.bufferWaitMs])).toEqual([
    ['1', 0],
    ['2', 250],
  ])
  w.runs[1]!.finish()
  await w.worker.stop(0)
})

it('a run that rejects is reported (during run) and frees its slot for the next job', async () => {
  const w = heldWorker()
  await waitFor(() => w.runs.length === 1, { message: 'the first job runs' })
  const failure = new Error('run failed')
  w.runs[0]!.fail(failure)
  await waitFor(() => w.runs.length === 2, { message: 'the buffered job runs' })
  expect(w.errors).toEqual([[failure, 'run']])
  w.runs[1]!.finish()
  await w.worker.stop(0)
})

it('a release that fails is reported (during release), not thrown', async () => {
  const failure = new Error('release failed')
  const w = heldWorker(
    {},
    {
      release: async () => {
        throw failure
      },
    },
  )
  await waitFor(() => w.runs.length === 1, { message: 'the first job runs' })
  const stopping = w.worker.stop(1000)
  await waitFor(() => w.errors.length === 1, { message: 'the failed release reported' })
  expect(w.errors).toEqual([[failure, 'release']])
  w.runs[0]!.finish()
  await stopping
})

it('wakes in one turn are one claim', async () => {
  const w = gatedWorker()
  w.worker.start()
  await waitFor(() => w.claims === 1, { message: 'the first claim' })
  w.answer([])
  await waitFor(() => w.clock.pendingTimers === 1, { message: 'the poll timer armed' })
  w.worker.wake()
  w.worker.wake()
  await waitFor(() => w.claims === 2, { message: 'the claim of the wakes' })
  w.answer([])
  await waitFor(() => w.clock.pendingTimers === 1, { message: 'the poll timer armed again' })
  await nextTurn()
  expect(w.claims).toBe(2)
  await w.worker.stop(0)
})

it('stop() in the turn of a wake claims nothing', async () => {
  const w = gatedWorker()
  w.worker.start()
  await waitFor(() => w.claims === 1, { message: 'the first claim' })
  w.answer([])
  await waitFor(() => w.clock.pendingTimers === 1, { message: 'the poll timer armed' })
  w.worker.wake()
  await w.worker.stop(0)
  await nextTurn()
  await nextTurn()
  expect(w.claims).toBe(1)
})

it('never asks the store to release an empty list (a buffer with nothing stale, a stop with nothing buffered)', async () => {
  const releases: (readonly JobRecord[])[] = []
  const w = heldWorker(
    {},
    {
      release: async (jobs) => {
        releases.push(jobs)
      },
    },
  )
  await waitFor(() => w.runs.length === 1, { message: 'the first job runs' })
  // The buffered job has waited exactly the limit: it is not stale, it starts.
  w.clock.advance(settings.maxBufferWaitMs)
  w.runs[0]!.finish()
  await waitFor(() => w.runs.length === 2, { message: 'the buffered job runs' })
  w.runs[1]!.finish()
  await nextTurn()
  await w.worker.stop(0)
  expect(releases).toEqual([])
})
