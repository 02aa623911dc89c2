import { expect, it } from 'vitest'
import { claim, describeStore, insert, T0, useStore } from './fixture.js'

const err = (attempt: number) => ({ attempt, at: T0, name: 'Error', message: 'late' })

describeStore('PostgresStore.completeJobs: the attempt guard', () => {
  const db = useStore()
  const get = async (id: string) => (await db.store.getJob({ id }))!

  /** Claims a job, returns it to the queue as a rescue would, and claims it again (attempt 2). */
  async function reclaimed(): Promise<string> {
    const [id] = (await insert(db.store, [{}])) as [string]
    await db.store.claimJobs(claim({ workerId: 'dead:w' }))
    await db.store.completeJobs({
      completions: [{ id, outcome: 'retry', runAt: T0, error: err(1), attempt: 1 }],
      now: T0,
    })
    const [again] = await db.store.claimJobs(claim({ workerId: 'live:w', now: T0 + 10 }))
    expect(again).toMatchObject({ id, attempt: 2, attemptedBy: 'live:w' })
    return id
  }

  it('ignores a completion of an earlier attempt and applies the current one', async () => {
    const id = await reclaimed()
    await db.store.completeJobs({
      completions: [{ id, outcome: 'failed', error: err(1), attempt: 1 }],
      now: T0 + 20,
    })
    expect(await get(id)).toMatchObject({ state: 'running', attempt: 2, finishedAt: null })
    await db.store.completeJobs({ completions: [{ id, outcome: 'succeeded', attempt: 2 }], now: T0 + 30 })
    expect(await get(id)).toMatchObject({ state: 'succeeded', attempt: 2, finishedAt: T0 + 30 })
  })

  it('guards each completion of a batch on its own, and a completion without attempt applies to any', async () => {
    const id = await reclaimed()
    const [other, free] = (await insert(db.store, [{}, {}])) as [string, string]
    await db.store.claimJobs(claim({ now: T0 + 10 }))
    await db.store.completeJobs({
      completions: [
        { id, outcome: 'succeeded', attempt: 1 },
        { id: other, outcome: 'released', attempt: 1 },
        { id: free, outcome: 'succeeded' },
      ],
      now: T0 + 20,
    })
    expect(await get(id)).toMatchObject({ state: 'running', attempt: 2 })
    expect(await get(other)).toMatchObject({ state: 'available', attempt: 0 })
    expect(await get(free)).toMatchObject({ state: 'succeeded', attempt: 1 })
  })

  it('does not cascade from a stale completion', async () => {
    const id = await reclaimed()
    const [child] = (await insert(db.store, [{ dependsOn: [id] }])) as [string]
    await db.store.completeJobs({ completions: [{ id, outcome: 'cancelled', attempt: 1 }], now: T0 + 20 })
    expect((await get(child)).state).toBe('available')
    await db.store.completeJobs({ completions: [{ id, outcome: 'cancelled', attempt: 2 }], now: T0 + 30 })
    expect(await get(child)).toMatchObject({ state: 'cancelled', finishedAt: T0 + 30 })
  })
})
