import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import type { ClaimParams, NewJob } from '../../src/core/ports/store.js'
import { newJobBuilder } from '../support/new-job.js'

const NOW = 1_000_000

/** A fully resolved row to insert, with test defaults. */
const newJob = newJobBuilder({ kind: 'work', runAt: NOW })

async function insert(store: MemoryStore, rows: Partial<NewJob>[], now = NOW): Promise<JobRecord[]> {
  return (await store.insertJobs({ jobs: rows.map(newJob), now })).map((o) => o.job)
}

function claim(store: MemoryStore, overrides: Partial<ClaimParams> = {}): Promise<JobRecord[]> {
  const params = {
    queues: ['default'],
    kinds: ['work'],
    capacity: 100,
    strategy: 'priority' as const,
    now: NOW,
  }
  return store.claimJobs({ ...params, workerId: 'w', ...overrides })
}

const ids = (jobs: readonly { id: string }[]): string[] => jobs.map((j) => j.id)
const states = (store: MemoryStore): string[] => store.allJobs().map((j) => `${j.id}:${j.state}`)
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('MemoryStore.listJobs', () => {
  it('lists newest first with a keyset cursor and a limit', async () => {
    const store = new MemoryStore()
    await insert(store, [{}, {}, {}, {}, {}])
    expect(ids(await store.listJobs({ filter: {}, limit: 2 }))).toEqual(['5', '4'])
    expect(ids(await store.listJobs({ filter: {}, limit: 2, beforeId: '4' }))).toEqual(['3', '2'])
    expect(ids(await store.listJobs({ filter: {}, limit: 10, beforeId: '2' }))).toEqual(['1'])
    expect(await store.listJobs({ filter: {}, limit: 0 })).toEqual([])
    await expect(store.listJobs({ filter: {}, limit: 1, beforeId: 'abc' })).rejects.toThrow(
      /beforeId must be a job id/,
    )
  })

  it('applies every filter field', async () => {
    const store = new MemoryStore()
    await insert(store, [
      { kind: 'a', payload: { email: 'Ann@Example.com' }, groupKey: 'g', uniqueKey: 'u' },
      { kind: 'b', queue: 'mail', scheduleName: 's', scheduleTick: 1 },
    ])
    await insert(store, [{ kind: 'a', runAt: NOW + 999 }], NOW + 10)
    const list = async (filter: object) => ids(await store.listJobs({ filter, limit: 100 }))
    expect(await list({ ids: ['3', '1', '77'] })).toEqual(['3', '1'])
    expect(await list({ ids: [] })).toEqual([])
    expect(await list({ queue: 'mail' })).toEqual(['2'])
    expect(await list({ kind: 'a' })).toEqual(['3', '1'])
    expect(await list({ states: ['scheduled'] })).toEqual(['3'])
    expect(await list({ states: [] })).toEqual([])
    expect(await list({ payloadContains: 'ann@EXAMPLE' })).toEqual(['1'])
    expect(await list({ payloadContains: '"email"' })).toEqual(['1'])
    expect(await list({ createdAfter: NOW + 10 })).toEqual(['3'])
    expect(await list({ createdBefore: NOW + 10 })).toEqual(['2', '1'])
    expect(await list({ groupKey: 'g' })).toEqual(['1'])
    expect(await list({ uniqueKey: 'u' })).toEqual(['1'])
    expect(await list({ scheduleName: 's' })).toEqual(['2'])
    expect(await list({ kind: 'a', states: ['available'] })).toEqual(['1'])
  })
})

describe('MemoryStore bulk actions', () => {
  it('retryJobs makes matching jobs that are not running available now, raising exhausted max attempts', async () => {
    const store = new MemoryStore()
    await insert(store, [{ maxAttempts: 1 }, {}, { runAt: NOW + 500 }])
    await claim(store, { capacity: 2 })
    const err = { attempt: 1, at: NOW, name: 'Error', message: 'x' }
    await store.completeJobs({ completions: [{ id: '1', outcome: 'failed', error: err }], now: NOW })
    expect(
      await store.retryJobs({ filter: { states: ['failed', 'running', 'scheduled'] }, now: NOW + 1 }),
    ).toBe(2)
    expect(await store.getJob({ id: '1' })).toMatchObject({
      state: 'available',
      runAt: NOW + 1,
      finishedAt: null,
      attempt: 1,
      maxAttempts: 2,
    })
    expect(await store.getJob({ id: '2' })).toMatchObject({ state: 'running' })
    expect(await store.getJob({ id: '3' })).toMatchObject({ state: 'available', runAt: NOW + 1 })
    expect(ids(await claim(store, { now: NOW + 1 }))).toEqual(['1', '3'])
  })

  it('retryJobs does not bring back a job whose unique key another pending job holds', async () => {
    const store = new MemoryStore()
    await insert(store, [{ uniqueKey: 'k' }])
    await store.cancelJobs({ filter: { ids: ['1'] }, now: NOW })
    await insert(store, [{ uniqueKey: 'k' }])
    expect(await store.retryJobs({ filter: { ids: ['1'] }, now: NOW })).toBe(0)
    expect(states(store)).toEqual(['1:cancelled', '2:available'])
  })

  it('cancelJobs cancels waiting and running matches and their dependants, returning the matching ids', async () => {
    const store = new MemoryStore()
    await insert(store, [{}, { runAt: NOW + 5 }])
    await insert(store, [{ dependsOn: ['2'] }])
    await claim(store, { capacity: 1 })
    const cancelled: (readonly string[])[] = []
    store.onJobsCancelled((list) => cancelled.push(list))
    expect(await store.cancelJobs({ filter: { ids: ['1', '2'] }, now: NOW + 3 })).toEqual(['1', '2'])
    expect(states(store)).toEqual(['1:cancelled', '2:cancelled', '3:cancelled'])
    expect(store.allJobs().map((j) => j.finishedAt)).toEqual([NOW + 3, NOW + 3, NOW + 3])
    expect(await store.cancelJobs({ filter: { ids: ['1'] }, now: NOW + 4 })).toEqual([])
    await flush()
    expect(cancelled).toEqual([['1', '2']])
  })

  it('deleteJobs deletes matching jobs except running ones and frees their unique keys', async () => {
    const store = new MemoryStore()
    await insert(store, [{ uniqueKey: 'k' }, { kind: 'other' }, {}])
    await claim(store, { kinds: ['other'] })
    expect(await store.deleteJobs({ filter: { states: ['available', 'running'] } })).toBe(2)
    expect(states(store)).toEqual(['2:running'])
    expect((await insert(store, [{ uniqueKey: 'k' }]))[0]?.id).toBe('4')
  })

  it('pruneJobs deletes jobs finished before a time, oldest first, up to a limit', async () => {
    const store = new MemoryStore()
    await insert(store, [{}, {}, {}, {}])
    for (const [id, at] of [
      ['3', NOW + 1],
      ['1', NOW + 2],
      ['2', NOW + 9],
    ] as const) {
      await store.cancelJobs({ filter: { ids: [id] }, now: at })
    }
    expect(await store.pruneJobs({ finishedBefore: NOW + 5, limit: 1 })).toBe(1)
    expect(states(store)).toEqual(['1:cancelled', '2:cancelled', '4:available'])
    expect(await store.pruneJobs({ finishedBefore: NOW + 5, limit: 10 })).toBe(1)
    expect(states(store)).toEqual(['2:cancelled', '4:available'])
  })
})

describe('MemoryStore queues and feeds', () => {
  it('queueStats counts every state per queue with jobs or paused, by name', async () => {
    const store = new MemoryStore()
    await insert(store, [{ queue: 'zeta' }, { queue: 'mail' }, { queue: 'mail', runAt: NOW + 1 }])
    await store.setQueuePaused({ queue: 'idle', paused: true, now: NOW })
    const zero = {
      scheduled: 0,
      available: 0,
      running: 0,
      retryable: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
    }
    expect(await store.queueStats()).toEqual([
      { queue: 'idle', paused: true, counts: zero },
      { queue: 'mail', paused: false, counts: { ...zero, available: 1, scheduled: 1 } },
      { queue: 'zeta', paused: false, counts: { ...zero, available: 1 } },
    ])
    await store.deleteJobs({ filter: { queue: 'zeta' } })
    await store.setQueuePaused({ queue: 'idle', paused: false, now: NOW })
    expect((await store.queueStats()).map((s) => s.queue)).toEqual(['mail'])
  })

  it('onJobsAvailable reports queues with newly due jobs after inserts, retries, releases and resumes', async () => {
    const store = new MemoryStore()
    const seen: (readonly string[])[] = []
    const unsubscribe = store.onJobsAvailable((queues) => seen.push(queues))
    await insert(store, [{ queue: 'a' }, { queue: 'b', runAt: NOW + 10 }, { queue: 'a' }])
    await flush()
    expect(seen).toEqual([['a']])
    await claim(store, { queues: ['a'] })
    await flush()
    expect(seen).toHaveLength(1)
    await store.completeJobs({ completions: [{ id: '1', outcome: 'released' }], now: NOW })
    await store.setQueuePaused({ queue: 'c', paused: true, now: NOW })
    await store.setQueuePaused({ queue: 'c', paused: false, now: NOW })
    await store.retryJobs({ filter: { ids: ['2'] }, now: NOW })
    await flush()
    expect(seen).toEqual([['a'], ['a'], ['c'], ['b']])
    unsubscribe()
    await insert(store, [{}])
    await flush()
    expect(seen).toHaveLength(4)
  })

  it('allJobs lists every job in id order and reset starts over from id "1"', async () => {
    const store = new MemoryStore()
    await insert(store, [{}, { runAt: NOW + 1 }])
    await store.setQueuePaused({ queue: 'default', paused: true, now: NOW })
    expect(ids(store.allJobs())).toEqual(['1', '2'])
    store.reset()
    expect(store.allJobs()).toEqual([])
    expect(await store.queueStats()).toEqual([])
    expect((await insert(store, [{}]))[0]?.id).toBe('1')
    expect(ids(await claim(store))).toEqual(['1'])
  })
})
