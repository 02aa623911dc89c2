/**
 * What only the memory store does: frozen copies in and out, its claim index on long groups, its
 * feeds' delivery (in a microtask, one call per change), `allJobs` and `reset`. The port's rules are
 * in the store-level suite (test/store), which runs on this store too.
 */
import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import type { ClaimParams, NewJob, UpsertScheduleParams } from '../../src/core/ports/store.js'
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
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function schedule(name: string): UpsertScheduleParams['schedule'] {
  const { kind, payload, runAt, scheduleName, scheduleTick, ...jobTemplate } = newJob()
  return {
    name,
    expression: '@every 1 minute',
    timezone: null,
    kind,
    payload: { from: name },
    jobTemplate,
    nextRunAt: NOW,
    missedPolicy: 'runOnce',
  }
}

describe('MemoryStore records', () => {
  it('copies payloads in and hands out frozen records that cannot change the store', async () => {
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
    expect((await store.getJob({ id: '1' }))?.state).toBe('available')
    const updated = await store.updateJob({ id: '1', changes: { payload: { p: [1] } }, now: NOW })
    expect(Object.isFrozen((updated as { job: JobRecord }).job.payload)).toBe(true)
  })

  it('returns claimed jobs whose payload the handler may change without changing the store', async () => {
    const store = new MemoryStore()
    await insert(store, { payload: { n: 1 } })
    const [job] = await claim(store)
    ;(job!.payload as { n: number }).n = 2
    expect((await store.getJob({ id: '1' }))?.payload).toEqual({ n: 1 })
  })

  it('returns frozen schedules that callers cannot change', async () => {
    const store = new MemoryStore()
    const input = schedule('s')
    const stored = await store.upsertSchedule({ schedule: input, now: NOW })
    ;(input.payload as { from: string }).from = 'changed'
    expect(() => {
      ;(stored as { nextRunAt: number | null }).nextRunAt = 0
    }).toThrow(TypeError)
    expect((await store.listSchedules())[0]?.payload).toEqual({ from: 's' })
  })

  it('applies only the first completion of the same job in one call (Postgres leaves this unspecified)', async () => {
    const store = new MemoryStore()
    await insert(store, {})
    await claim(store)
    const error = { attempt: 1, at: NOW, name: 'Error', message: 'boom' }
    await store.completeJobs({
      completions: [
        { id: '1', outcome: 'succeeded' },
        { id: '1', outcome: 'failed', error },
      ],
      now: NOW,
    })
    expect((await store.getJob({ id: '1' }))?.state).toBe('succeeded')
  })
})

describe('MemoryStore claim index', () => {
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

describe('MemoryStore feeds', () => {
  it('onJobsAvailable reports once per change, never for claims, until unsubscribed', async () => {
    const store = new MemoryStore()
    const seen: (readonly string[])[] = []
    const unsubscribe = store.onJobsAvailable((queues) => seen.push(queues))
    await insert(store, { queue: 'a' }, { queue: 'b', runAt: NOW + 10 }, { queue: 'a' })
    await flush()
    expect(seen).toEqual([['a']])
    await claim(store, { queues: ['a'] })
    await flush()
    expect(seen).toHaveLength(1)
    unsubscribe()
    await insert(store, {})
    await flush()
    expect(seen).toHaveLength(1)
  })

  it('onJobsCancelled reports every id cancelJobs cancelled, waiting ones too, in one call', async () => {
    const store = new MemoryStore()
    await insert(store, {}, { runAt: NOW + 5 })
    await claim(store, { capacity: 1 })
    const cancelled: (readonly string[])[] = []
    store.onJobsCancelled((list) => cancelled.push(list))
    await store.cancelJobs({ filter: { ids: ['1', '2'] }, now: NOW })
    await flush()
    expect(cancelled).toEqual([['1', '2']])
  })
})

describe('MemoryStore.allJobs and reset', () => {
  it('allJobs lists every job in id order; reset drops jobs, schedules and paused flags, ids start at "1"', async () => {
    const store = new MemoryStore()
    await insert(store, {}, { runAt: NOW + 1 })
    await store.setQueuePaused({ queue: 'default', paused: true, now: NOW })
    await store.upsertSchedule({ schedule: schedule('s'), now: NOW })
    expect(ids(store.allJobs())).toEqual(['1', '2'])
    store.reset()
    expect(store.allJobs()).toEqual([])
    expect(await store.queueStats()).toEqual([])
    expect(await store.listSchedules()).toEqual([])
    expect((await insert(store, {}))[0]?.id).toBe('1')
    expect(ids(await claim(store))).toEqual(['1'])
  })
})
