import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import type { ClaimParams, NewJob } from '../../src/core/ports/store.js'
import { newJobBuilder } from '../support/new-job.js'

const NOW = 1_000_000

const newJob = newJobBuilder({ kind: 'work', runAt: NOW })

async function insert(store: MemoryStore, rows: Partial<NewJob>[]): Promise<string[]> {
  return (await store.insertJobs({ jobs: rows.map(newJob), now: NOW })).map((o) => o.job.id)
}

function claim(store: MemoryStore, overrides: Partial<ClaimParams> = {}): Promise<JobRecord[]> {
  return store.claimJobs({
    queues: ['default', 'q1', 'q2'],
    kinds: ['work'],
    capacity: 100,
    strategy: 'priority',
    now: NOW,
    workerId: 'w',
    ...overrides,
  })
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('MemoryStore.updateJob', () => {
  it('wakes the queue of a job that is due after the change, and only then', async () => {
    const store = new MemoryStore()
    const [a, b] = await insert(store, [
      { queue: 'q1', runAt: NOW + 60_000 },
      { queue: 'q2', runAt: NOW + 60_000 },
    ])
    const woken: (readonly string[])[] = []
    store.onJobsAvailable((queues) => woken.push(queues))
    await store.updateJob({ id: a!, changes: { runAt: NOW + 30_000 }, now: NOW })
    await store.updateJob({ id: b!, changes: { priority: 3 }, now: NOW })
    await flush()
    expect(woken).toEqual([])
    await store.updateJob({ id: a!, changes: { runAt: NOW }, now: NOW })
    await flush()
    expect(woken).toEqual([['q1']])
  })

  it('the claim index follows new priorities and run times (no stale copies are claimed)', async () => {
    const store = new MemoryStore()
    const [a, b, c] = await insert(store, [{}, {}, {}])
    await store.updateJob({ id: c!, changes: { priority: -1 }, now: NOW })
    await store.updateJob({ id: a!, changes: { runAt: NOW + 1000 }, now: NOW })
    expect((await claim(store, { capacity: 1 })).map((j) => j.id)).toEqual([c])
    expect((await claim(store)).map((j) => j.id)).toEqual([b])
    expect(await claim(store)).toEqual([])
    expect((await claim(store, { now: NOW + 1000 })).map((j) => j.id)).toEqual([a])
  })

  it('changes only the given fields, and keeps counts by state right', async () => {
    const store = new MemoryStore()
    const [a] = await insert(store, [{ uniqueKey: 'u', groupKey: 'g', metadata: { m: 1 } }])
    const before = (await store.getJob({ id: a! }))!
    const outcome = await store.updateJob({
      id: a!,
      changes: { runAt: NOW + 5, payload: { p: [1] } },
      now: NOW,
    })
    expect(outcome).toEqual({
      status: 'updated',
      job: { ...before, state: 'scheduled', runAt: NOW + 5, payload: { p: [1] } },
    })
    expect(Object.isFrozen((outcome as { job: JobRecord }).job.payload)).toBe(true)
    const [stats] = await store.queueStats()
    expect(stats?.counts).toMatchObject({ scheduled: 1, available: 0 })
  })

  it('reports a missing job and a job that is not waiting', async () => {
    const store = new MemoryStore()
    const [a] = await insert(store, [{}])
    expect(await store.updateJob({ id: '99', changes: { priority: 1 }, now: NOW })).toEqual({
      status: 'notFound',
    })
    await claim(store)
    expect(await store.updateJob({ id: a!, changes: { priority: 1 }, now: NOW })).toEqual({
      status: 'notWaiting',
      state: 'running',
    })
  })
})
