/**
 * When the worker polls: after a claim it arms its poll timer for the poll interval, or for the
 * buffer's wait limit when that is shorter and jobs are buffered; after a failed claim it backs
 * off (the interval doubled per failure in a row, at most 32 times and at most 30 s) and reports
 * the error, and a claim that works again brings the plain interval back.
 */
import { expect, it } from 'vitest'
import type { JobRecord } from '../../src/core/domain/job.js'
import { type Clock, ManualClock } from '../../src/core/ports/clock.js'
import { Worker, type WorkerSettings } from '../../src/core/runtime/worker.js'
import { waitFor } from '../support/wait.js'
import { workerSettings } from '../support/worker-settings.js'

const base: WorkerSettings = workerSettings()

/**
 * A worker on a manual clock whose timers are recorded (`armed`: the delay of each), with a claim
 * that answers from `answers` (a list of jobs, or an error to throw), then nothing.
 */
function pollingWorker(settings: Partial<WorkerSettings>, answers: (JobRecord[] | Error)[]) {
  const manual = new ManualClock(0)
  const armed: number[] = []
  const clock: Clock = {
    now: () => manual.now(),
    setTimeout: (callback, ms) => {
      armed.push(ms)
      return manual.setTimeout(callback, ms)
    },
  }
  const errors: [unknown, string][] = []
  const held: (() => void)[] = []
  let claims = 0
  const worker = new Worker(
    { ...base, ...settings },
    {
      clock,
      claim: async () => {
        claims++
        const answer = answers.shift() ?? []
        if (answer instanceof Error) throw answer
        return answer
      },
      run: () => new Promise<void>((resolve) => held.push(resolve)),
      release: async () => {},
      onError: (error, during) => errors.push([error, during]),
    },
  )
  return {
    worker,
    manual,
    armed,
    errors,
    held,
    get claims() {
      return claims
    },
  }
}

const job = (id: string) => ({ id, weight: 1 }) as JobRecord

/** Waits until the worker armed its `n`th timer (it has decided what comes after a claim). */
async function armedCount(w: { armed: number[] }, n: number): Promise<void> {
  await waitFor(() => w.armed.length >= n, { message: `timer ${n} armed` })
}

it('after an empty claim, polls after the poll interval', async () => {
  const w = pollingWorker({}, [])
  w.worker.start()
  await armedCount(w, 1)
  expect(w.armed).toEqual([1000])
  w.manual.advance(999)
  expect(w.claims).toBe(1)
  w.manual.advance(1)
  await waitFor(() => w.claims === 2, { message: 'the poll claims' })
  await w.worker.stop(0)
})

it('with jobs buffered, polls after the buffer wait limit when that is shorter than the poll interval', async () => {
  const w = pollingWorker({ prefetch: 1, prefetchMax: 1, maxBufferWaitMs: 300 }, [[job('1'), job('2')]])
  w.worker.start()
  await armedCount(w, 1)
  expect(w.held).toHaveLength(1) // job 1 runs, job 2 waits in the buffer
  expect(w.armed).toEqual([300])
  for (const resolve of w.held) resolve()
  await w.worker.stop(0)
})

it('with jobs buffered and a buffer wait limit longer than the poll interval, polls after the poll interval', async () => {
  const w = pollingWorker({ prefetch: 1, prefetchMax: 1, maxBufferWaitMs: 5000 }, [[job('1'), job('2')]])
  w.worker.start()
  await armedCount(w, 1)
  expect(w.armed).toEqual([1000])
  for (const resolve of w.held) resolve()
  await w.worker.stop(0)
})

it('after failed claims, reports each and backs off: the interval doubled per failure, at most 32 times', async () => {
  const failures = Array.from({ length: 7 }, (_, i) => new Error(`claim ${i + 1} failed`))
  const w = pollingWorker({ pollIntervalMs: 100 }, [...failures, [job('1')]])
  w.worker.start()
  const expected = [200, 400, 800, 1600, 3200, 3200, 3200]
  for (let i = 0; i < expected.length; i++) {
    await armedCount(w, i + 1)
    expect(w.armed[i]).toBe(expected[i])
    expect(w.errors[i]).toEqual([failures[i], 'claim'])
    w.manual.advance(expected[i]! - 1)
    expect(w.claims).toBe(i + 1)
    w.manual.advance(1)
    await waitFor(() => w.claims === i + 2, { message: `claim ${i + 2}` })
  }
  // The claim works again: the next poll is after the plain interval (the job runs and the claim came back full).
  await waitFor(() => w.held.length === 1, { message: 'the job runs' })
  w.held[0]!()
  await armedCount(w, expected.length + 1)
  expect(w.armed.at(-1)).toBe(100)
  expect(w.errors).toHaveLength(7)
  await w.worker.stop(0)
})

it('backs off at most 30 s', async () => {
  const w = pollingWorker(
    { pollIntervalMs: 1000 },
    Array.from({ length: 5 }, () => new Error('down')),
  )
  w.worker.start()
  const expected = [2000, 4000, 8000, 16000, 30000]
  for (let i = 0; i < expected.length; i++) {
    await armedCount(w, i + 1)
    expect(w.armed[i]).toBe(expected[i])
    w.manual.advance(expected[i]!)
    await waitFor(() => w.claims === i + 2, { message: `claim ${i + 2}` })
  }
  await armedCount(w, expected.length + 1)
  expect(w.armed.at(-1)).toBe(1000)
  await w.worker.stop(0)
})

it('with nothing buffered, polls after the poll interval even when the buffer wait limit is shorter', async () => {
  const w = pollingWorker({ prefetch: 1, prefetchMax: 1, maxBufferWaitMs: 300 }, [])
  w.worker.start()
  await armedCount(w, 1)
  expect(w.armed).toEqual([1000])
  await w.worker.stop(0)
})
