import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { InvalidArgumentError, InvalidOptionsError } from '../../src/core/errors.js'
import type { AttemptError, JobRecord } from '../../src/core/job.js'
import type { ClaimParams, NewJob } from '../../src/core/store.js'
import { newJobBuilder } from '../support/new-job.js'

const NOW = 1_000_000

/** A fully resolved row to insert, with test defaults. */
const newJob = newJobBuilder({ kind: 'work', runAt: NOW })

async function insert(store: MemoryStore, ...rows: Partial<NewJob>[]): Promise<JobRecord[]> {
  const outcomes = await store.insertJobs({ jobs: rows.map(newJob), now: NOW })
  return outcomes.map((o) => o.job)
}

function claim(store: MemoryStore, overrides: Partial<ClaimParams> = {}): Promise<JobRecord[]> {
  return store.claimJobs({
    queues: ['default'],
    kinds: ['work'],
    capacity: 100,
    strategy: 'priority',
    now: NOW,
    workerId: 'w1',
    ...overrides,
  })
}

const ids = (jobs: readonly { id: string }[]): string[] => jobs.map((j) => j.id)
const error = (attempt: number, message = 'boom'): AttemptError => ({
  attempt,
  at: NOW,
  name: 'Error',
  message,
})

async function state(store: MemoryStore, id: string): Promise<string | undefined> {
  return (await store.getJob({ id }))?.state
}

describe('MemoryStore.insertJobs', () => {
  it('assigns increasing decimal ids from "1" and stores due jobs as available, later ones as scheduled', async () => {
    const store = new MemoryStore()
    const [a, b] = await insert(store, { payload: { n: 1 } }, { runAt: NOW + 1 })
    expect(a).toMatchObject({
      id: '1',
      state: 'available',
      createdAt: NOW,
      attempt: 0,
      errors: [],
      finishedAt: null,
    })
    expect(b).toMatchObject({ id: '2', state: 'scheduled', runAt: NOW + 1 })
  })

  it('copies payloads in and hands out records that cannot change the store', async () => {
    const store = new MemoryStore()
    const payload = { list: [1, 2], nested: { a: 'x' } }
    const [job] = await insert(store, { payload })
    payload.list.push(3)
    payload.nested.a = 'changed'
    const stored = (await store.getJob({ id: '1' }))!
    expect(stored.payload).toEqual({ list: [1, 2], nested: { a: 'x' } })
    expect(() => {
      ;(stored.payload as { list: number[] }).list.push(4)
    }).toThrow(TypeError)
    ;(job as { state: string }).state = 'failed'
    expect(await state(store, '1')).toBe('available')
  })

  it('returns the waiting or running holder of a unique key instead of inserting', async () => {
    const store = new MemoryStore()
    await insert(store, { uniqueKey: 'k' })
    const outcomes = await store.insertJobs({
      jobs: [newJob({ uniqueKey: 'k' }), newJob({ uniqueKey: 'k', kind: 'other' })],
      now: NOW,
    })
    expect(outcomes.map((o) => [o.job.id, o.duplicate])).toEqual([
      ['1', true],
      ['2', false],
    ])
    await claim(store)
    expect((await store.insertJobs({ jobs: [newJob({ uniqueKey: 'k' })], now: NOW }))[0]?.duplicate).toBe(
      true,
    )
    await store.completeJobs({ completions: [{ id: '1', outcome: 'succeeded' }], now: NOW })
    const after = await store.insertJobs({ jobs: [newJob({ uniqueKey: 'k' })], now: NOW })
    expect(after[0]).toMatchObject({ duplicate: false, job: { id: '3' } })
  })

  it('treats a later row of the same batch with the same unique key as a duplicate of the earlier row', async () => {
    const store = new MemoryStore()
    const outcomes = await store.insertJobs({
      jobs: [newJob({ uniqueKey: 'k', payload: 1 }), newJob({ uniqueKey: 'k', payload: 2 })],
      now: NOW,
    })
    expect(outcomes.map((o) => [o.job.id, o.job.payload, o.duplicate])).toEqual([
      ['1', 1, false],
      ['1', 1, true],
    ])
    expect(store.allJobs()).toHaveLength(1)
  })

  it('refuses a dependency that does not exist and inserts nothing of the batch', async () => {
    const store = new MemoryStore()
    const attempt = store.insertJobs({ jobs: [newJob(), newJob({ dependsOn: ['42'] })], now: NOW })
    await expect(attempt).rejects.toThrow(InvalidOptionsError)
    await expect(attempt).rejects.toThrow(/"42"/)
    expect(store.allJobs()).toEqual([])
    expect((await insert(store, {}))[0]?.id).toBe('1')
  })

  it('stores a job whose dependency failed or was cancelled as cancelled', async () => {
    const store = new MemoryStore()
    await insert(store, {}, {})
    await claim(store, { capacity: 1 })
    await store.completeJobs({ completions: [{ id: '1', outcome: 'failed', error: error(1) }], now: NOW })
    await store.cancelJobs({ filter: { ids: ['2'] }, now: NOW })
    const [a, b] = await insert(store, { dependsOn: ['1'], uniqueKey: 'u' }, { dependsOn: ['2'] })
    expect(a).toMatchObject({ state: 'cancelled', finishedAt: NOW })
    expect(b).toMatchObject({ state: 'cancelled', finishedAt: NOW })
    // A job cancelled at insert holds no unique key.
    expect((await insert(store, { uniqueKey: 'u' }))[0]?.state).toBe('available')
  })
})

describe('MemoryStore.claimJobs', () => {
  it('orders by priority, then run-at, then id with the priority strategy', async () => {
    const store = new MemoryStore()
    await insert(
      store,
      { priority: 5, runAt: NOW - 10 },
      { priority: 1, runAt: NOW },
      { priority: 1, runAt: NOW - 5 },
      { priority: 1, runAt: NOW - 5 },
    )
    expect(ids(await claim(store))).toEqual(['3', '4', '2', '1'])
  })

  it('orders by run-at, then id with the time strategy', async () => {
    const store = new MemoryStore()
    await insert(
      store,
      { priority: 5, runAt: NOW - 10 },
      { priority: 1, runAt: NOW },
      { priority: -3, runAt: NOW - 5 },
    )
    expect(ids(await claim(store, { strategy: 'time' }))).toEqual(['1', '3', '2'])
  })

  it('serves both strategies from one queue without claiming a job twice', async () => {
    const store = new MemoryStore()
    await insert(
      store,
      { priority: 2, runAt: NOW - 2 },
      { priority: 1, runAt: NOW - 1 },
      { priority: 3, runAt: NOW },
    )
    expect(ids(await claim(store, { capacity: 1 }))).toEqual(['2'])
    expect(ids(await claim(store, { capacity: 1, strategy: 'time' }))).toEqual(['1'])
    await insert(store, { priority: 0, runAt: NOW - 100 })
    expect(ids(await claim(store, { capacity: 1 }))).toEqual(['4'])
    expect(ids(await claim(store, { strategy: 'time' }))).toEqual(['3'])
    expect(await claim(store)).toEqual([])
  })

  it('marks claimed jobs running and returns copies whose payload the handler may change', async () => {
    const store = new MemoryStore()
    await insert(store, { payload: { n: 1 } })
    const [job] = await claim(store, { now: NOW + 5, workerId: 'worker-7' })
    expect(job).toMatchObject({ state: 'running', attempt: 1, attemptedAt: NOW + 5, attemptedBy: 'worker-7' })
    ;(job!.payload as { n: number }).n = 2
    expect((await store.getJob({ id: '1' }))?.payload).toEqual({ n: 1 })
  })

  it('takes only due jobs, or jobs due by dueBy, and puts back what a later claim may not take', async () => {
    const store = new MemoryStore()
    await insert(store, { runAt: NOW + 100 }, { runAt: NOW + 200 }, { runAt: NOW + 300 })
    expect(await claim(store)).toEqual([])
    expect(ids(await claim(store, { dueBy: NOW + 150 }))).toEqual(['1'])
    expect(ids(await claim(store, { dueBy: Number.POSITIVE_INFINITY, capacity: 1 }))).toEqual(['2'])
    expect(await claim(store)).toEqual([])
    expect(ids(await claim(store, { now: NOW + 300 }))).toEqual(['3'])
  })

  it('takes jobs while their weights fit and stops at the first that does not', async () => {
    const store = new MemoryStore()
    await insert(store, { weight: 2 }, { weight: 3 }, { weight: 1 })
    expect(ids(await claim(store, { capacity: 4 }))).toEqual(['1'])
    expect(ids(await claim(store, { capacity: 4 }))).toEqual(['2', '3'])
    await insert(store, { weight: 5 })
    expect(await claim(store, { capacity: 4 })).toEqual([])
    expect(await claim(store, { capacity: 0 })).toEqual([])
  })

  it('claims only the given kinds and queues, and nothing from a paused queue', async () => {
    const store = new MemoryStore()
    await insert(store, { kind: 'a' }, { kind: 'b' }, { kind: 'a', queue: 'mail' })
    expect(ids(await claim(store, { kinds: ['b'] }))).toEqual(['2'])
    await store.setQueuePaused({ queue: 'mail', paused: true, now: NOW })
    expect(ids(await claim(store, { kinds: ['a', 'b'], queues: ['mail', 'default'] }))).toEqual(['1'])
    await store.setQueuePaused({ queue: 'mail', paused: false, now: NOW })
    expect(ids(await claim(store, { kinds: ['a'], queues: ['mail'] }))).toEqual(['3'])
  })

  it('skips ids above maxId (numerically) and leaves them claimable', async () => {
    const store = new MemoryStore()
    await insert(store, ...Array.from({ length: 10 }, () => ({})))
    expect(ids(await claim(store, { maxId: '9', capacity: 100 }))).toEqual([
      '1',
      '2',
      '3',
      '4',
      '5',
      '6',
      '7',
      '8',
      '9',
    ])
    expect(ids(await claim(store))).toEqual(['10'])
    await expect(claim(store, { maxId: '1e3' })).rejects.toThrow(InvalidArgumentError)
  })

  it('runs one job per group at a time, in id order, across claims', async () => {
    const store = new MemoryStore()
    await insert(store, { groupKey: 'g', priority: 9 }, { groupKey: 'g', priority: 0 }, { groupKey: 'h' }, {})
    expect(ids(await claim(store))).toEqual(['3', '4', '1'])
    expect(await claim(store)).toEqual([])
    await store.completeJobs({ completions: [{ id: '1', outcome: 'succeeded' }], now: NOW })
    expect(ids(await claim(store))).toEqual(['2'])
  })

  it('lets a retrying or not yet due head block its group', async () => {
    const store = new MemoryStore()
    await insert(store, { groupKey: 'g' }, { groupKey: 'g' })
    await claim(store)
    await store.completeJobs({
      completions: [{ id: '1', outcome: 'retry', runAt: NOW + 50, error: error(1) }],
      now: NOW,
    })
    expect(await claim(store)).toEqual([])
    expect(ids(await claim(store, { now: NOW + 50 }))).toEqual(['1'])
    const store2 = new MemoryStore()
    await insert(store2, { groupKey: 'g', runAt: NOW + 10 }, { groupKey: 'g' })
    expect(await claim(store2)).toEqual([])
    expect(ids(await claim(store2, { now: NOW + 10 }))).toEqual(['1'])
  })

  it('frees a group when its running job is cancelled or its head is deleted', async () => {
    const store = new MemoryStore()
    await insert(store, { groupKey: 'g' }, { groupKey: 'g' }, { groupKey: 'g' })
    await claim(store)
    await store.cancelJobs({ filter: { ids: ['1'] }, now: NOW })
    await store.deleteJobs({ filter: { ids: ['2'] } })
    expect(ids(await claim(store))).toEqual(['3'])
  })

  it('keeps group order when a job released at shutdown comes back', async () => {
    const store = new MemoryStore()
    await insert(store, { groupKey: 'g' }, { groupKey: 'g' })
    await claim(store)
    await store.completeJobs({ completions: [{ id: '1', outcome: 'released' }], now: NOW })
    expect(ids(await claim(store))).toEqual(['1'])
  })

  it('runs a dependant only after its dependency succeeded', async () => {
    const store = new MemoryStore()
    await insert(store, { priority: 5 })
    await insert(store, { dependsOn: ['1'] })
    expect(ids(await claim(store))).toEqual(['1'])
    expect(await claim(store)).toEqual([])
    await store.completeJobs({ completions: [{ id: '1', outcome: 'succeeded' }], now: NOW })
    expect(ids(await claim(store))).toEqual(['2'])
  })

  it('counts a deleted dependency as met', async () => {
    const store = new MemoryStore()
    await insert(store, { runAt: NOW + 1000 })
    await insert(store, { dependsOn: ['1'] })
    expect(await claim(store)).toEqual([])
    await store.deleteJobs({ filter: { ids: ['1'] } })
    expect(ids(await claim(store))).toEqual(['2'])
  })

  it('cancels waiting dependants transitively when a job fails', async () => {
    const store = new MemoryStore()
    await insert(store, {})
    await insert(store, { dependsOn: ['1'] })
    await insert(store, { dependsOn: ['2'] }, {})
    await claim(store, { capacity: 1 })
    await store.completeJobs({ completions: [{ id: '1', outcome: 'failed', error: error(1) }], now: NOW + 7 })
    expect(store.allJobs().map((j) => [j.id, j.state, j.finishedAt])).toEqual([
      ['1', 'failed', NOW + 7],
      ['2', 'cancelled', NOW + 7],
      ['3', 'cancelled', NOW + 7],
      ['4', 'available', null],
    ])
  })

  it('claims a long group and a long chain in order without losing jobs', async () => {
    const store = new MemoryStore()
    const n = 2000
    await insert(store, ...Array.from({ length: n }, (_, i) => ({ groupKey: 'g', priority: n - i })))
    const seen: string[] = []
    for (let i = 0; i < n; i++) {
      const jobs = await claim(store)
      expect(jobs).toHaveLength(1)
      seen.push(jobs[0]!.id)
      await store.completeJobs({ completions: [{ id: jobs[0]!.id, outcome: 'succeeded' }], now: NOW })
    }
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => String(i + 1)))
  })
})
