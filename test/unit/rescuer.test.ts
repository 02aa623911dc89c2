/** The rescuer's batch loop: it goes on until a batch comes back short, and returns the total. */
import { expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { EventBus } from '../../src/core/domain/events.js'
import { rescueStaleJobs } from '../../src/core/maintenance/rescuer.js'
import { newJobBuilder } from '../support/new-job.js'

const NOW = 1_000_000
const newJob = newJobBuilder({ kind: 'work', runAt: NOW })

/** A memory store with `count` jobs running for process `dead`, which never heartbeats. */
async function storeWithStaleJobs(count: number): Promise<MemoryStore> {
  const store = new MemoryStore()
  await store.insertJobs({ jobs: Array.from({ length: count }, () => newJob()), now: NOW })
  const claimed = await store.claimJobs({
    queues: ['default'],
    kinds: ['work'],
    capacity: count,
    strategy: 'priority',
    now: NOW,
    workerId: 'dead:w1',
  })
  expect(claimed).toHaveLength(count)
  return store
}

/** `rescueJobs` calls seen, with the size of each batch returned. */
function countingBatches(store: MemoryStore): number[] {
  const batches: number[] = []
  const rescue = store.rescueJobs.bind(store)
  store.rescueJobs = async (params) => {
    const jobs = await rescue(params)
    batches.push(jobs.length)
    return jobs
  }
  return batches
}

it('rescues batch after batch until one comes back short, and returns the total count', async () => {
  const store = await storeWithStaleJobs(5)
  const batches = countingBatches(store)
  const events = new EventBus()
  const rescued: string[] = []
  events.on('rescued', ({ jobId }) => rescued.push(jobId))

  const count = await rescueStaleJobs(store, events, 10_000, NOW + 20_000, 2)

  expect(count).toBe(5)
  expect(batches).toEqual([2, 2, 1])
  expect(rescued).toHaveLength(5)
  expect(store.allJobs().map((j) => j.state)).toEqual(Array(5).fill('retryable'))
})

it('asks once more after a full last batch (an exact multiple of the batch size)', async () => {
  const store = await storeWithStaleJobs(4)
  const batches = countingBatches(store)

  const count = await rescueStaleJobs(store, new EventBus(), 10_000, NOW + 20_000, 2)

  expect(count).toBe(4)
  expect(batches).toEqual([2, 2, 0])
})

it('returns 0 after one empty batch when nothing is stale', async () => {
  const store = await storeWithStaleJobs(3)
  await store.recordHeartbeat({ processId: 'dead', now: NOW + 15_000 })
  const batches = countingBatches(store)

  const count = await rescueStaleJobs(store, new EventBus(), 10_000, NOW + 20_000, 2)

  expect(count).toBe(0)
  expect(batches).toEqual([0])
  expect(store.allJobs().map((j) => j.state)).toEqual(Array(3).fill('running'))
})

it('without a timeout margin, a job past its timeout stays with its live process', async () => {
  const store = new MemoryStore()
  await store.insertJobs({ jobs: [newJob({ timeoutMs: 1_000 })], now: NOW })
  await store.claimJobs({
    queues: ['default'],
    kinds: ['work'],
    capacity: 1,
    strategy: 'priority',
    now: NOW,
    workerId: 'live:w1',
  })
  await store.recordHeartbeat({ processId: 'live', now: NOW + 50_000 })

  expect(await rescueStaleJobs(store, new EventBus(), 10_000, NOW + 50_000, 10, null)).toBe(0)
  // With a margin, the same job is rescued as timed out.
  expect(await rescueStaleJobs(store, new EventBus(), 10_000, NOW + 50_000, 10, 5_000)).toBe(1)
})
