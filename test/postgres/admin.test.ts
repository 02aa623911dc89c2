import { expect, it } from 'vitest'
import { claim, describeStore, insert, T0, useStore } from './fixture.js'

describeStore('PostgresStore job management', () => {
  const db = useStore()
  const states = async () =>
    Object.fromEntries((await db.store.listJobs({ filter: {}, limit: 100 })).map((j) => [j.id, j.state]))

  it('returns null for a job that does not exist', async () => {
    expect(await db.store.getJob({ id: '424242' })).toBeNull()
  })

  it('lists newest first with keyset pages', async () => {
    const ids = await insert(db.store, [{}, {}, {}, {}, {}])
    const page1 = await db.store.listJobs({ filter: {}, limit: 2 })
    expect(page1.map((j) => j.id)).toEqual([ids[4], ids[3]])
    const page2 = await db.store.listJobs({ filter: {}, limit: 2, beforeId: page1[1]?.id })
    expect(page2.map((j) => j.id)).toEqual([ids[2], ids[1]])
  })

  it('filters by every field', async () => {
    const [a, b, c] = await insert(db.store, [
      { kind: 'mail', queue: 'q1', groupKey: 'g', payload: { to: 'Alice@Example.com', note: '100% sure_x' } },
      { kind: 'sms', uniqueKey: 'u', scheduleName: 's', scheduleTick: T0, payload: { to: 'bob' } },
      { kind: 'mail', payload: { to: 'carol' } },
    ])
    await insert(db.store, [{ payload: { late: true } }], T0 + 1000)
    const find = async (filter: object) =>
      (await db.store.listJobs({ filter, limit: 10 })).map((j) => j.id).sort()
    expect(await find({ kind: 'mail' })).toEqual([a, c].sort())
    expect(await find({ queue: 'q1' })).toEqual([a])
    expect(await find({ ids: [a!, b!, '999'] })).toEqual([a, b].sort())
    expect(await find({ ids: [] })).toEqual([])
    expect(await find({ states: ['available'], groupKey: 'g' })).toEqual([a])
    expect(await find({ uniqueKey: 'u' })).toEqual([b])
    expect(await find({ scheduleName: 's' })).toEqual([b])
    expect(await find({ payloadContains: 'alice@example' })).toEqual([a])
    expect(await find({ payloadContains: '100%' })).toEqual([a])
    expect(await find({ payloadContains: '0% s' })).toEqual([a])
    expect(await find({ payloadContains: 'e_x' })).toEqual([a])
    expect(await find({ payloadContains: '_' })).toEqual([a])
    expect(await find({ createdBefore: T0 + 1000 })).toHaveLength(3)
    expect(await find({ createdAfter: T0 + 1000 })).toHaveLength(1)
  })

  it('retries jobs that are not running, raising max attempts when they are used up', async () => {
    const [failed, running, waiting] = (await insert(db.store, [
      { maxAttempts: 1 },
      {},
      { runAt: T0 + 10 ** 6 },
    ])) as string[]
    await db.store.claimJobs(claim({ capacity: 2 }))
    await db.store.completeJobs({
      completions: [
        { id: failed!, outcome: 'failed', error: { attempt: 1, at: T0, name: 'E', message: 'x' } },
      ],
      now: T0,
    })
    expect(
      await db.store.retryJobs({ filter: { states: ['failed', 'running', 'scheduled'] }, now: T0 + 5 }),
    ).toBe(2)
    expect(await db.store.getJob({ id: failed! })).toMatchObject({
      state: 'available',
      runAt: T0 + 5,
      finishedAt: null,
      maxAttempts: 2,
      attempt: 1,
    })
    expect(await db.store.getJob({ id: waiting! })).toMatchObject({ state: 'available', runAt: T0 + 5 })
    expect((await db.store.getJob({ id: running! }))?.state).toBe('running')
  })

  it('does not retry a job whose unique key another pending job holds', async () => {
    const [first] = (await insert(db.store, [{ uniqueKey: 'k' }])) as string[]
    await db.store.cancelJobs({ filter: { ids: [first!] }, now: T0 })
    const [second] = (await insert(db.store, [{ uniqueKey: 'k' }])) as string[]
    await db.store.cancelJobs({ filter: { ids: [second!] }, now: T0 })
    expect(await db.store.retryJobs({ filter: { uniqueKey: 'k' }, now: T0 })).toBe(1)
    expect(await states()).toEqual({ [first!]: 'available', [second!]: 'cancelled' })
    const [third] = (await insert(db.store, [{ uniqueKey: 'k2', runAt: T0 + 5 }])) as string[]
    expect(await db.store.retryJobs({ filter: { ids: [third!] }, now: T0 })).toBe(1)
  })

  it('cancels waiting and running jobs and their dependants, returning the matching ids', async () => {
    const [waiting, running, done] = (await insert(db.store, [{ runAt: T0 + 100 }, {}, {}])) as string[]
    const [dependant] = (await insert(db.store, [{ dependsOn: [waiting!] }])) as string[]
    await db.store.claimJobs(claim({ capacity: 2 }))
    await db.store.completeJobs({ completions: [{ id: done!, outcome: 'succeeded' }], now: T0 })
    const ids = await db.store.cancelJobs({ filter: { ids: [running!, waiting!, done!] }, now: T0 + 9 })
    expect(ids).toEqual([waiting, running])
    expect(await states()).toMatchObject({
      [waiting!]: 'cancelled',
      [running!]: 'cancelled',
      [done!]: 'succeeded',
      [dependant!]: 'cancelled',
    })
    expect((await db.store.getJob({ id: dependant! }))?.finishedAt).toBe(T0 + 9)
  })

  it('deletes jobs that are not running', async () => {
    const [a, b] = (await insert(db.store, [{}, {}])) as string[]
    await db.store.claimJobs(claim({ capacity: 1 }))
    expect(await db.store.deleteJobs({ filter: { ids: [a!, b!] } })).toBe(1)
    expect(Object.keys(await states())).toEqual([a])
  })

  it('prunes finished jobs older than a time, oldest first, at most limit', async () => {
    const ids = (await insert(db.store, [{}, {}, {}, {}])) as string[]
    await db.store.claimJobs(claim())
    for (const [i, id] of ids.entries())
      await db.store.completeJobs({ completions: [{ id, outcome: 'succeeded' }], now: T0 + 10 * (4 - i) })
    expect(await db.store.pruneJobs({ finishedBefore: T0 + 35, limit: 2 })).toBe(2)
    expect(Object.keys(await states()).sort()).toEqual([ids[0], ids[1]].sort())
    expect(await db.store.pruneJobs({ finishedBefore: T0 + 35, limit: 2 })).toBe(1)
    expect(await db.store.pruneJobs({ finishedBefore: T0 + 35, limit: 2 })).toBe(0)
  })

  it('counts jobs by queue and state, with paused queues', async () => {
    await insert(db.store, [{}, {}, { runAt: T0 + 5 }, { queue: 'b' }])
    await db.store.claimJobs(claim({ capacity: 1 }))
    await db.store.setQueuePaused({ queue: 'idle', paused: true, now: T0 })
    await db.store.setQueuePaused({ queue: 'b', paused: true, now: T0 })
    await db.store.setQueuePaused({ queue: 'b', paused: false, now: T0 })
    const zero = {
      scheduled: 0,
      available: 0,
      running: 0,
      retryable: 0,
      succeeded: 0,
      failed: 0,
      cancelled: 0,
    }
    expect(await db.store.queueStats()).toEqual([
      { queue: 'b', paused: false, counts: { ...zero, available: 1 } },
      { queue: 'default', paused: false, counts: { ...zero, running: 1, available: 1, scheduled: 1 } },
      { queue: 'idle', paused: true, counts: zero },
    ])
  })
})
