/**
 * What each claim of a worker asks the store for: its queues, strategy and id; the weight it has
 * room for (capacity plus the buffer, less what runs and what is buffered); a job heavier than the
 * capacity only first on an idle worker with `oversized: 'alone'`, and never with `'refuse'`
 * (`maxWeight`, the capacity).
 */
import { expect, it } from 'vitest'
import type { JobRecord } from '../../src/core/domain/job.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import { Worker, type WorkerDeps, type WorkerSettings } from '../../src/core/runtime/worker.js'
import { nextTurn, waitFor } from '../support/wait.js'
import { workerSettings } from '../support/worker-settings.js'

type ClaimParams = Parameters<WorkerDeps['claim']>[0]

const base: WorkerSettings = workerSettings({
  id: 'worker-7',
  queues: ['mail', 'sms'],
  capacity: 2,
  strategy: 'fifo' as WorkerSettings['strategy'],
})

/** A worker whose claims are recorded and answered from `answers` in order (then nothing). */
function claimingWorker(settings: Partial<WorkerSettings>, answers: JobRecord[][]) {
  const clock = new ManualClock(0)
  const asked: ClaimParams[] = []
  const held = new Map<string, () => void>()
  const worker = new Worker(
    { ...base, ...settings },
    {
      clock,
      claim: async (params) => {
        asked.push(params)
        return answers.shift() ?? []
      },
      run: (job) => new Promise<void>((resolve) => held.set(job.id, resolve)),
      release: async () => {},
      onError: (error) => {
        throw error
      },
    },
  )
  worker.start()
  return { worker, clock, asked, held }
}

const job = (id: string, weight = 1) => ({ id, weight }) as JobRecord

it('an idle worker asks for its queues, strategy and id, room for capacity and buffer, oversized first', async () => {
  const w = claimingWorker({ prefetch: 3, prefetchMax: 3 }, [])
  await waitFor(() => w.asked.length === 1, { message: 'the first claim' })
  expect(w.asked[0]).toEqual({
    queues: ['mail', 'sms'],
    capacity: 5,
    oversizedFirst: true,
    strategy: base.strategy,
    workerId: 'worker-7',
  })
  expect(w.asked[0]).not.toHaveProperty('maxWeight')
  await w.worker.stop(0)
})

it('a worker with a job running asks for the room left, and no oversized job first', async () => {
  const w = claimingWorker({}, [[job('1')]])
  await waitFor(() => w.held.size === 1, { message: 'the first job runs' })
  w.worker.wake()
  await waitFor(() => w.asked.length === 2, { message: 'the second claim' })
  expect(w.asked[1]).toMatchObject({ capacity: 1, oversizedFirst: false })
  for (const resolve of w.held.values()) resolve()
  await w.worker.stop(0)
})

it("with oversized: 'refuse', never asks for an oversized job first and caps a job's weight at the capacity", async () => {
  const w = claimingWorker({ oversized: 'refuse' }, [])
  await waitFor(() => w.asked.length === 1, { message: 'the first claim' })
  expect(w.asked[0]).toMatchObject({ capacity: 2, oversizedFirst: false, maxWeight: 2 })
  await w.worker.stop(0)
})

it('the room asked for counts what runs and what is buffered, by weight; dropped buffered jobs free theirs', async () => {
  const w = claimingWorker({ capacity: 3, prefetch: 6, prefetchMax: 6 }, [
    [job('a', 2), job('b', 2), job('c', 3)],
  ])
  // a (2) runs; b (2) would not fit beside it (capacity 3): b and c (5) wait in the buffer.
  await waitFor(() => w.held.size === 1, { message: 'job a runs' })
  w.worker.wake()
  await waitFor(() => w.asked.length === 2, { message: 'the second claim' })
  expect(w.asked[1]!.capacity).toBe(3 + 6 - 2 - 5)
  expect(w.worker.dropBuffered(new Set(['c']))).toBe(1)
  w.worker.wake()
  await waitFor(() => w.asked.length === 3, { message: 'the third claim' })
  expect(w.asked[2]!.capacity).toBe(3 + 6 - 2 - 2)
  for (const resolve of w.held.values()) resolve()
  await w.worker.stop(0)
})

/** A worker whose claims wait until the test answers them, in order; jobs run until finished. */
function gatedWorker(settings: Partial<WorkerSettings>) {
  const clock = new ManualClock(0)
  const asked: ClaimParams[] = []
  const answers: ((jobs: JobRecord[]) => void)[] = []
  const running: string[] = []
  const finishers = new Map<string, () => void>()
  const released: (readonly JobRecord[])[] = []
  const worker = new Worker(
    { ...base, ...settings },
    {
      clock,
      claim: (params) => {
        asked.push(params)
        return new Promise<JobRecord[]>((resolve) => answers.push(resolve))
      },
      run: (job) =>
        new Promise<void>((resolve) => {
          running.push(job.id)
          finishers.set(job.id, resolve)
        }),
      release: async (jobs) => {
        released.push(jobs)
      },
      onError: (error) => {
        throw error
      },
    },
  )
  worker.start()
  const settle = async () => {
    for (let i = 0; i < 6; i++) await nextTurn()
  }
  return {
    worker,
    asked,
    running,
    released,
    settle,
    answer: async (jobs: JobRecord[]) => {
      answers.shift()!(jobs)
      await settle()
    },
    finish: async (id: string) => {
      finishers.get(id)!()
      await settle()
    },
    finishAll: () => {
      for (const finish of finishers.values()) finish()
    },
  }
}

const jobs = (ids: string[], weight = 1) => ids.map((id) => job(id, weight))

it('a claim that overlaps another asks for no oversized job first, even on an idle worker', async () => {
  const w = gatedWorker({ capacity: 1, prefetch: 1, prefetchMax: 1 })
  await waitFor(() => w.asked.length === 1, { message: 'the first claim' })
  await w.answer(jobs(['a', 'b'])) // full: a backlog
  await w.finish('a') // b starts; the buffer runs low: a second claim
  expect(w.asked).toHaveLength(2)
  await w.finish('b') // idle, a claim in flight: a wake overlaps a second one
  w.worker.wake()
  await w.settle()
  expect(w.asked.map((p) => [p.capacity, p.oversizedFirst])).toEqual([
    [2, true],
    [1, false],
    [1, false],
  ])
  await w.answer([])
  await w.answer([])
  await w.worker.stop(0)
  expect(w.released).toEqual([])
})

it('a wake during a claim that asked for all the room left is served by one claim after it', async () => {
  const w = gatedWorker({ capacity: 1, prefetch: 1, prefetchMax: 1 })
  await waitFor(() => w.asked.length === 1, { message: 'the first claim' })
  await w.answer(jobs(['a', 'b'])) // full: a backlog
  await w.finish('a') // b starts; a claim for the one place left in the buffer
  w.worker.wake() // no room beyond that claim's: it waits for it
  await w.settle()
  expect(w.asked.map((p) => p.capacity)).toEqual([2, 1])
  await w.answer([])
  expect(w.asked.map((p) => p.capacity)).toEqual([2, 1, 1])
  await w.answer([])
  w.finishAll()
  await w.worker.stop(0)
})

it('on a backlog a second claim overlaps the first once the buffer is below a quarter of its size, for what the first did not ask', async () => {
  const w = gatedWorker({ capacity: 1, prefetch: 8, prefetchMax: 8 })
  await waitFor(() => w.asked.length === 1, { message: 'the first claim' })
  await w.answer(jobs(['1', '2', '3', '4', '5', '6', '7', '8', '9'])) // full: a backlog
  for (const id of ['1', '2', '3', '4']) await w.finish(id)
  expect(w.asked).toHaveLength(1)
  await w.finish('5') // 3 buffered, below half: the next claim, for 1 + 8 - 1 running - 3 buffered
  expect(w.asked.map((p) => p.capacity)).toEqual([9, 5])
  await w.finish('6') // 2 buffered: a quarter of 8, no second claim
  w.worker.wake()
  await w.settle()
  expect(w.asked.map((p) => p.capacity)).toEqual([9, 5])
  await w.finish('7') // 1 buffered: a second claim, for what the first did not ask
  w.worker.wake()
  await w.settle()
  expect(w.asked.map((p) => p.capacity)).toEqual([9, 5, 2])
  // Two claims in flight: a wake waits for them, then is one claim.
  w.worker.wake()
  await w.settle()
  expect(w.asked).toHaveLength(3)
  await w.answer([])
  expect(w.asked).toHaveLength(3)
  await w.answer([])
  expect(w.asked.map((p) => p.capacity)).toEqual([9, 5, 2, 7])
  await w.answer([])
  w.finishAll()
  await w.worker.stop(0)
  // Only the job still buffered at stop goes back.
  expect(w.released.map((js) => js.map((j) => j.id))).toEqual([['9']])
})

it('a claim is full (more may wait) when the room it left is less than its heaviest job', async () => {
  // Room 1 after a 3 and a 1: full, so the free slot claims again at once.
  const full = gatedWorker({ capacity: 5 })
  await waitFor(() => full.asked.length === 1, { message: 'the first claim' })
  await full.answer([job('a', 3), job('b', 1)])
  expect(full.asked.map((p) => p.capacity)).toEqual([5, 1])
  await full.answer([])
  // Room 2 after a 2 and a 1: short, so no claim until a wake or the poll.
  const short = gatedWorker({ capacity: 5 })
  await waitFor(() => short.asked.length === 1, { message: 'the first claim' })
  await short.answer([job('a', 2), job('b', 1)])
  expect(short.asked).toHaveLength(1)
  for (const w of [full, short]) {
    w.finishAll()
    await w.worker.stop(0)
  }
})

it('a buffered job too heavy for the free slots is not a reason to claim while the buffer is at least half full', async () => {
  const w = gatedWorker({ capacity: 3, prefetch: 2, prefetchMax: 2 })
  await waitFor(() => w.asked.length === 1, { message: 'the first claim' })
  await w.answer(jobs(['a', 'b'], 2)) // a runs; b (2) does not fit beside it (3): one slot free, b buffered
  expect(w.running).toEqual(['a'])
  expect(w.asked).toHaveLength(1)
  w.finishAll()
  await w.worker.stop(0)
})

it('claims again when the buffer falls below half its size, not at half; the first full claim does not grow it', async () => {
  const w = gatedWorker({ capacity: 1, prefetch: 2, prefetchMax: 8 })
  await waitFor(() => w.asked.length === 1, { message: 'the first claim' })
  await w.answer(jobs(['1', '2', '3'])) // full, but the worker never starved
  await w.finish('1') // 1 buffered: half of 2
  expect(w.asked.map((p) => p.capacity)).toEqual([3])
  await w.finish('2') // nothing buffered
  expect(w.asked.map((p) => p.capacity)).toEqual([3, 2])
  await w.answer([])
  w.finishAll()
  await w.worker.stop(0)
})
