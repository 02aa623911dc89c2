import { AssertionError } from 'node:assert'
import { describe, expect, it } from 'vitest'
import { createAssertions } from '../../src/adapters/memory/assertions.js'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { InvalidArgumentError } from '../../src/core/domain/errors.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import type { NewJob } from '../../src/core/ports/store.js'
import { newJobBuilder } from '../support/new-job.js'

const NOW = Date.UTC(2030, 0, 1)

/** A fully resolved row to insert, with test defaults. */
const newJob = newJobBuilder({ kind: 'send-email', runAt: NOW })

interface Email {
  to: string
  cc?: string[]
  meta?: { lang: string; size: number }
}
const sendEmail = defineJob<Email>({ kind: 'send-email' })

async function setup(...rows: Partial<NewJob>[]) {
  const store = new MemoryStore()
  await store.insertJobs({ jobs: rows.map(newJob), now: NOW })
  return { store, assert: createAssertions(store) }
}

/** Runs `fn`, expects an AssertionError and returns it. */
function failure(fn: () => unknown): AssertionError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(AssertionError)
    return error as AssertionError
  }
  throw new Error('expected an AssertionError')
}

describe('assert.queued', () => {
  it('finds a job by definition or kind with a deep-partial payload and returns it typed', async () => {
    const { assert } = await setup({
      payload: { to: 'a@b.c', cc: ['x', 'y'], meta: { lang: 'en', size: 2 } },
    })
    const job = assert.queued(sendEmail, { to: 'a@b.c', meta: { lang: 'en' } })
    const to: string = job.payload.to
    expect([job.id, to]).toEqual(['1', 'a@b.c'])
    assert.queued('send-email')
    assert.queued(sendEmail, { cc: ['x', 'y'] })
    failure(() => assert.queued(sendEmail, { cc: ['x'] }))
    failure(() => assert.queued(sendEmail, { meta: { lang: 'de' } }))
    failure(() => assert.queued(defineJob({ kind: 'other' })))
  })

  it('accepts a predicate over payload and job', async () => {
    const { assert } = await setup({ payload: { to: 'a@b.c' }, priority: 3 })
    assert.queued(sendEmail, (payload, job) => payload.to.endsWith('.c') && job.priority === 3)
    const error = failure(() => assert.queued(sendEmail, (payload) => payload.to === 'nobody'))
    expect(error.message).toContain('matching a predicate')
  })

  it('checks options: queue, priority, runAt within tolerance, keys, tags and metadata', async () => {
    const { assert } = await setup({
      payload: { to: 'a' },
      queue: 'mail',
      priority: 2,
      runAt: NOW + 60_000,
      uniqueKey: 'u',
      groupKey: 'g',
      tags: ['t1', 't2'],
      metadata: { source: { app: 'web', v: 1 } },
    })
    assert.queued(sendEmail, { to: 'a' }, { queue: 'mail', priority: 2, runAt: new Date(NOW + 60_500) })
    assert.queued(sendEmail, undefined, {
      runAt: NOW + 62_000,
      runAtToleranceMs: 2000,
      uniqueKey: 'u',
      groupKey: 'g',
    })
    assert.queued(sendEmail, undefined, { tags: ['t2'], metadata: { source: { app: 'web' } } })
    failure(() => assert.queued(sendEmail, undefined, { queue: 'default' }))
    failure(() => assert.queued(sendEmail, undefined, { priority: 0 }))
    failure(() => assert.queued(sendEmail, undefined, { runAt: NOW }))
    failure(() => assert.queued(sendEmail, undefined, { tags: ['t1', 't3'] }))
    failure(() => assert.queued(sendEmail, undefined, { metadata: { source: { app: 'cli' } } }))
  })

  it('counts only waiting jobs unless states are given', async () => {
    const { store, assert } = await setup({ payload: { to: 'a' } }, { payload: { to: 'b' }, runAt: NOW + 1 })
    await store.claimJobs({
      queues: ['default'],
      kinds: ['send-email'],
      capacity: 1,
      strategy: 'time',
      now: NOW,
      workerId: 'w',
    })
    assert.queued(sendEmail, { to: 'b' })
    failure(() => assert.queued(sendEmail, { to: 'a' }))
    assert.queued(sendEmail, { to: 'a' }, { state: 'running' })
    assert.queued(sendEmail, undefined, { state: ['running', 'scheduled'], count: 2 })
    const error = failure(() => assert.queued(sendEmail, { to: 'c' }, { state: 'running' }))
    expect(error.message).toContain(
      '\nJobs in running (1):\n  #1 send-email (queue default, running) {"to":"a"}',
    )
  })

  it('with count, requires exactly that many matches', async () => {
    const { assert } = await setup(
      { payload: { to: 'a' } },
      { payload: { to: 'a' } },
      { payload: { to: 'b' } },
    )
    expect(assert.queued(sendEmail, { to: 'a' }, { count: 2 }).id).toBe('1')
    const error = failure(() => assert.queued(sendEmail, { to: 'a' }, { count: 1 }))
    expect(error.message).toContain('Expected 1 queued "send-email" job matching {"to":"a"}, found 2.')
    expect([error.actual, error.expected]).toEqual([2, 1])
    expect(() => assert.queued(sendEmail, undefined, { count: 0 })).toThrow(InvalidArgumentError)
  })

  it('explains a failure with what was queued instead', async () => {
    const { assert } = await setup(
      { payload: { to: 'x@y.z' } },
      { kind: 'resize', queue: 'images', payload: { w: 100 } },
    )
    const error = failure(() => assert.queued(sendEmail, { to: 'a@b.c' }))
    expect(error.message).toBe(
      [
        'Expected a queued "send-email" job matching {"to":"a@b.c"}, found 0.',
        'Queued jobs (2):',
        '  #1 send-email (queue default, available) {"to":"x@y.z"}',
        '  #2 resize (queue images, available) {"w":100}',
      ].join('\n'),
    )
    expect(error.actual).toEqual({ to: 'x@y.z' })
    expect(error.expected).toEqual({ to: 'a@b.c' })
  })

  it('says when nothing is queued and summarizes long lists', async () => {
    const empty = await setup()
    const error = failure(() => empty.assert.queued(sendEmail, undefined, { queue: 'mail' }))
    expect(error.message).toContain('Expected a queued "send-email" job with {"queue":"mail"}, found 0.')
    expect(error.message).toContain('Queued jobs: none.')
    const many = await setup(...Array.from({ length: 25 }, (_, i) => ({ kind: 'other', payload: { i } })))
    const long = failure(() => many.assert.queued(sendEmail))
    expect(long.message).toContain('#20 other')
    expect(long.message).not.toContain('#21 other')
    expect(long.message).toContain('... and 5 more')
  })

  it('rejects something that is neither a definition nor a kind', async () => {
    const { assert } = await setup()
    expect(() => assert.queued(42 as never)).toThrow(InvalidArgumentError)
  })
})

describe('assert.notQueued, empty, notEmpty, queuedTotal', () => {
  it('notQueued passes when nothing matches and lists the matches otherwise', async () => {
    const { assert } = await setup({ payload: { to: 'a' } })
    assert.notQueued(sendEmail, { to: 'b' })
    assert.notQueued('resize')
    assert.notQueued(sendEmail, undefined, { queue: 'mail' })
    const error = failure(() => assert.notQueued(sendEmail))
    expect(error.message).toContain(
      'Expected no queued "send-email" job, found 1:\n  #1 send-email (queue default, available) {"to":"a"}',
    )
    expect([error.actual, error.expected]).toEqual([[{ to: 'a' }], []])
  })

  it('empty and notEmpty look at waiting jobs, optionally in one queue', async () => {
    const { store, assert } = await setup({ queue: 'mail' })
    assert.notEmpty()
    assert.notEmpty({ queue: 'mail' })
    assert.empty({ queue: 'default' })
    expect(failure(() => assert.empty()).message).toContain('Expected no queued jobs, found 1.')
    expect(failure(() => assert.notEmpty({ queue: 'default' })).message).toContain(
      'Expected at least one queued job in queue "default", found none.\nQueued jobs in other queues (1):',
    )
    await store.cancelJobs({ filter: { ids: ['1'] }, now: NOW })
    assert.empty()
    expect(failure(() => assert.notEmpty()).message).toBe('Expected at least one queued job, found none.')
  })

  it('queuedTotal counts waiting jobs, optionally in one queue', async () => {
    const { assert } = await setup({}, { queue: 'mail', runAt: NOW + 5 })
    assert.queuedTotal(2)
    assert.queuedTotal(1, { queue: 'mail' })
    assert.queuedTotal(0, { queue: 'none' })
    const error = failure(() => assert.queuedTotal(3))
    expect(error.message).toMatch(/^Expected 3 queued jobs, found 2\.\nQueued jobs \(2\):\n/)
    expect(error.message).toContain('(queue mail, scheduled, runAt 2030-01-01T00:00:00.005Z)')
    expect([error.actual, error.expected]).toEqual([2, 3])
    expect(() => assert.queuedTotal(-1)).toThrow(InvalidArgumentError)
  })
})
