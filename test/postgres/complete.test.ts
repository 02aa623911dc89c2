import { expect, it } from 'vitest'
import { claim, describeStore, insert, T0, useStore } from './fixture.js'

const err = (attempt: number, message = 'boom') => ({
  attempt,
  at: T0,
  name: 'Error',
  message,
  stack: 'Error: boom\n    at here',
})

describeStore('PostgresStore.completeJobs', () => {
  const db = useStore()
  const get = async (id: string) => (await db.store.getJob({ id }))!

  it('writes many outcomes in one call', async () => {
    const ids = await insert(db.store, [{}, {}, {}, {}, {}, { workflowState: { step: 1 } }])
    await db.store.claimJobs(claim())
    const [ok, retry, failed, cancelled, snoozed, released] = ids as [
      string,
      string,
      string,
      string,
      string,
      string,
    ]
    await db.store.completeJobs({
      completions: [
        { id: ok, outcome: 'succeeded', workflowState: { done: true } },
        { id: retry, outcome: 'retry', runAt: T0 + 500, error: err(1) },
        { id: failed, outcome: 'failed', error: err(1, 'fatal') },
        { id: cancelled, outcome: 'cancelled' },
        { id: snoozed, outcome: 'snoozed', runAt: T0 + 60_000, workflowState: { step: 2 } },
        { id: released, outcome: 'released' },
      ],
      now: T0 + 100,
    })
    expect(await get(ok)).toMatchObject({
      state: 'succeeded',
      finishedAt: T0 + 100,
      attempt: 1,
      workflowState: { done: true },
    })
    expect(await get(retry)).toMatchObject({
      state: 'retryable',
      runAt: T0 + 500,
      finishedAt: null,
      attempt: 1,
      errors: [err(1)],
    })
    expect(await get(failed)).toMatchObject({
      state: 'failed',
      finishedAt: T0 + 100,
      errors: [err(1, 'fatal')],
    })
    expect(await get(cancelled)).toMatchObject({ state: 'cancelled', finishedAt: T0 + 100, errors: [] })
    expect(await get(snoozed)).toMatchObject({
      state: 'scheduled',
      runAt: T0 + 60_000,
      attempt: 0,
      workflowState: { step: 2 },
    })
    expect(await get(released)).toMatchObject({
      state: 'available',
      runAt: T0,
      attempt: 0,
      workflowState: { step: 1 },
    })
  })

  it('keeps every attempt error, oldest first', async () => {
    const [id] = (await insert(db.store, [{}])) as [string]
    await db.store.claimJobs(claim())
    await db.store.completeJobs({
      completions: [{ id, outcome: 'retry', runAt: T0, error: err(1) }],
      now: T0,
    })
    await db.store.claimJobs(claim())
    await db.store.completeJobs({ completions: [{ id, outcome: 'failed', error: err(2) }], now: T0 })
    expect((await get(id)).errors).toEqual([err(1), err(2)])
  })

  it('leaves jobs that are no longer running alone', async () => {
    const [id] = (await insert(db.store, [{}])) as [string]
    await db.store.claimJobs(claim())
    await db.store.cancelJobs({ filter: { ids: [id] }, now: T0 + 1 })
    await db.store.completeJobs({ completions: [{ id, outcome: 'succeeded' }], now: T0 + 2 })
    expect(await get(id)).toMatchObject({ state: 'cancelled', finishedAt: T0 + 1 })
    await db.store.completeJobs({ completions: [{ id: '987654', outcome: 'succeeded' }], now: T0 })
  })

  it('cancels the waiting dependants of a failed job, transitively', async () => {
    const [root, other] = (await insert(db.store, [{}, {}])) as [string, string]
    const [child] = (await insert(db.store, [{ dependsOn: [root] }])) as [string]
    const [grandchild, unrelated] = (await insert(db.store, [
      { dependsOn: [child] },
      { dependsOn: [other] },
    ])) as [string, string]
    await db.store.claimJobs(claim({ capacity: 2 }))
    await db.store.completeJobs({
      completions: [{ id: root, outcome: 'failed', error: err(1) }],
      now: T0 + 7,
    })
    expect(await get(child)).toMatchObject({ state: 'cancelled', finishedAt: T0 + 7 })
    expect(await get(grandchild)).toMatchObject({ state: 'cancelled', finishedAt: T0 + 7 })
    expect((await get(unrelated)).state).toBe('available')
  })

  it("moves a schedule's last success forward only", async () => {
    await db.store.upsertSchedule({
      schedule: {
        name: 'nightly',
        expression: '@daily',
        timezone: null,
        kind: 'test',
        payload: {},
        jobTemplate: templateOf(),
        nextRunAt: T0,
        missedPolicy: 'runOnce',
      },
      now: T0,
    })
    const [older, newer] = (await insert(db.store, [
      { scheduleName: 'nightly', scheduleTick: T0 - 2000 },
      { scheduleName: 'nightly', scheduleTick: T0 - 1000 },
    ])) as [string, string]
    await db.store.claimJobs(claim())
    await db.store.completeJobs({ completions: [{ id: newer, outcome: 'succeeded' }], now: T0 })
    await db.store.completeJobs({ completions: [{ id: older, outcome: 'succeeded' }], now: T0 })
    const [schedule] = await db.store.listSchedules()
    expect(schedule?.lastSuccessAt).toBe(T0 - 1000)
  })
})

function templateOf() {
  return {
    queue: 'default',
    priority: 0,
    maxAttempts: 3,
    timeoutMs: 0,
    weight: 1,
    uniqueKey: null,
    groupKey: null,
    dependsOn: [],
    metadata: {},
    tags: [],
    workflowState: null,
    backoff: null,
    traceContext: null,
  }
}
