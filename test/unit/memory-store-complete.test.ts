import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import type { AttemptError, JobRecord } from '../../src/core/domain/job.js'
import type { Completion, NewJob } from '../../src/core/ports/store.js'
import { newJobBuilder } from '../support/new-job.js'

const NOW = 1_000_000

/** A fully resolved row to insert, with test defaults. */
const newJob = newJobBuilder({ kind: 'work', runAt: NOW })

const error = (attempt: number, message = 'boom'): AttemptError => ({
  attempt,
  at: NOW,
  name: 'Error',
  message,
})

/** A store with one running job (id "1"), claimed at NOW. */
async function running(overrides: Partial<NewJob> = {}): Promise<MemoryStore> {
  const store = new MemoryStore()
  await store.insertJobs({ jobs: [newJob(overrides)], now: NOW })
  await store.claimJobs({
    queues: ['default'],
    kinds: ['work'],
    capacity: 1,
    strategy: 'priority',
    now: NOW,
    workerId: 'w',
  })
  return store
}

async function complete(store: MemoryStore, completion: Completion, now = NOW + 10): Promise<JobRecord> {
  await store.completeJobs({ completions: [completion], now })
  return (await store.getJob({ id: completion.id }))!
}

describe('MemoryStore.completeJobs', () => {
  it('succeeded: finishes the job and replaces workflow state only when given', async () => {
    const kept = await complete(await running({ workflowState: { step: 1 } }), {
      id: '1',
      outcome: 'succeeded',
    })
    expect(kept).toMatchObject({
      state: 'succeeded',
      finishedAt: NOW + 10,
      attempt: 1,
      workflowState: { step: 1 },
    })
    const cleared = await complete(await running({ workflowState: { step: 1 } }), {
      id: '1',
      outcome: 'succeeded',
      workflowState: null,
    })
    expect(cleared.workflowState).toBeNull()
    const replaced = await complete(await running(), {
      id: '1',
      outcome: 'succeeded',
      workflowState: { step: 2 },
    })
    expect(replaced.workflowState).toEqual({ step: 2 })
  })

  it('retry: retryable at runAt with the error appended, and claimable again then', async () => {
    const store = await running()
    const job = await complete(store, {
      id: '1',
      outcome: 'retry',
      runAt: NOW + 500,
      error: error(1),
      workflowState: 'w',
    })
    expect(job).toMatchObject({
      state: 'retryable',
      runAt: NOW + 500,
      attempt: 1,
      finishedAt: null,
      workflowState: 'w',
    })
    expect(job.errors).toEqual([error(1)])
    const params = {
      queues: ['default'],
      kinds: ['work'],
      capacity: 1,
      strategy: 'time' as const,
      workerId: 'w',
    }
    expect(await store.claimJobs({ ...params, now: NOW + 499 })).toEqual([])
    const [again] = await store.claimJobs({ ...params, now: NOW + 500 })
    expect(again).toMatchObject({ id: '1', attempt: 2 })
    const failed = await complete(store, { id: '1', outcome: 'failed', error: error(2, 'last') })
    expect(failed).toMatchObject({ state: 'failed', finishedAt: NOW + 10 })
    expect(failed.errors.map((e) => e.message)).toEqual(['boom', 'last'])
  })

  it('cancelled: finishes the job, appending the error only when given', async () => {
    const without = await complete(await running(), { id: '1', outcome: 'cancelled' })
    expect(without).toMatchObject({ state: 'cancelled', finishedAt: NOW + 10, errors: [] })
    const withError = await complete(await running(), {
      id: '1',
      outcome: 'cancelled',
      error: error(1, 'stop'),
    })
    expect(withError.errors).toEqual([error(1, 'stop')])
  })

  it('snoozed: scheduled at runAt without counting the attempt', async () => {
    const job = await complete(await running(), {
      id: '1',
      outcome: 'snoozed',
      runAt: NOW + 60_000,
      workflowState: [1],
    })
    expect(job).toMatchObject({
      state: 'scheduled',
      runAt: NOW + 60_000,
      attempt: 0,
      workflowState: [1],
      errors: [],
    })
  })

  it('released: available again at the same run-at without counting the attempt', async () => {
    const job = await complete(await running({ runAt: NOW - 5 }), { id: '1', outcome: 'released' })
    expect(job).toMatchObject({ state: 'available', runAt: NOW - 5, attempt: 0 })
  })

  it('leaves jobs alone that are no longer running, and ignores unknown ids', async () => {
    const store = await running()
    await store.cancelJobs({ filter: { ids: ['1'] }, now: NOW + 1 })
    await store.completeJobs({
      completions: [
        { id: '1', outcome: 'succeeded' },
        { id: '99', outcome: 'succeeded' },
      ],
      now: NOW + 2,
    })
    expect(await store.getJob({ id: '1' })).toMatchObject({ state: 'cancelled', finishedAt: NOW + 1 })
  })

  it('applies only the first completion of the same job in one call', async () => {
    const store = await running()
    await store.completeJobs({
      completions: [
        { id: '1', outcome: 'succeeded' },
        { id: '1', outcome: 'failed', error: error(1) },
      ],
      now: NOW,
    })
    expect((await store.getJob({ id: '1' }))?.state).toBe('succeeded')
  })

  it('moves a schedule’s lastSuccessAt forward to the tick of a succeeded job, never back', async () => {
    const store = new MemoryStore()
    const { kind, payload, runAt, scheduleName, scheduleTick, ...jobTemplate } = newJob()
    await store.upsertSchedule({
      schedule: {
        name: 'nightly',
        expression: '@daily',
        timezone: null,
        kind: 'work',
        payload: {},
        jobTemplate,
        nextRunAt: NOW,
        missedPolicy: 'runOnce',
      },
      now: NOW,
    })
    await store.insertJobs({
      jobs: [
        newJob({ scheduleName: 'nightly', scheduleTick: 200 }),
        newJob({ scheduleName: 'nightly', scheduleTick: 100 }),
      ],
      now: NOW,
    })
    await store.claimJobs({
      queues: ['default'],
      kinds: ['work'],
      capacity: 2,
      strategy: 'time',
      now: NOW,
      workerId: 'w',
    })
    await store.completeJobs({ completions: [{ id: '1', outcome: 'succeeded' }], now: NOW })
    expect((await store.listSchedules())[0]?.lastSuccessAt).toBe(200)
    await store.completeJobs({ completions: [{ id: '2', outcome: 'succeeded' }], now: NOW })
    expect((await store.listSchedules())[0]?.lastSuccessAt).toBe(200)
  })
})
