/**
 * The enqueuer against a recording store: the call insert middleware sees (operation, count, and
 * the queue and kind when every job shares them), its row edits reaching the store, the checks of
 * `enqueueMany`'s items and options, the transaction passed once for the batch, and an empty batch
 * that calls nobody.
 */
import { expect, it } from 'vitest'
import { EventBus } from '../../src/core/domain/events.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { newJobRecord } from '../../src/core/domain/new-job-record.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import type { InsertCall } from '../../src/core/ports/middleware.js'
import type { JobStore, NewJob, TransactionHandle } from '../../src/core/ports/store.js'
import { JobEnqueuer } from '../../src/core/runtime/enqueuer.js'
import { MiddlewareChain } from '../../src/core/runtime/middleware-chain.js'

const a = defineJob<{ n: number }>({ kind: 'a' })
const b = defineJob<{ n: number }>({ kind: 'b' })
const mailA = defineJob<{ n: number }>({ kind: 'mail-a', queue: 'mail' })

function setup(options: { edit?: (row: NewJob) => NewJob } = {}) {
  const inserts: { jobs: readonly NewJob[]; tx: unknown }[] = []
  const calls: InsertCall[] = []
  const store = {
    insertJobs: async (p: { jobs: readonly NewJob[]; now: number; tx?: unknown }) => {
      inserts.push({ jobs: p.jobs, tx: p.tx })
      return p.jobs.map((row, i) => ({
        job: newJobRecord(String(i + 1), row, 'available', p.now),
        duplicate: false,
      }))
    },
  } as unknown as JobStore
  const middleware = new MiddlewareChain([
    {
      insert: (call, next) => {
        calls.push(call)
        return next(options.edit)
      },
    },
  ])
  const enqueuer = new JobEnqueuer({
    store,
    clock: new ManualClock(1000),
    events: new EventBus(),
    middleware,
  })
  return { enqueuer, inserts, calls }
}

const tx: TransactionHandle = { query: async () => ({ rows: [] }) } as unknown as TransactionHandle

it("describes an enqueue call to insert middleware with its queue (the option, else the definition's) and kind", async () => {
  const t = setup()
  await t.enqueuer.enqueue(a, { n: 1 })
  await t.enqueuer.enqueue(mailA, { n: 1 })
  await t.enqueuer.enqueue(a, { n: 1 }, { queue: 'urgent' })
  expect(t.calls).toEqual([
    { operation: 'enqueue', count: 1, queue: 'default', kind: 'a' },
    { operation: 'enqueue', count: 1, queue: 'mail', kind: 'mail-a' },
    { operation: 'enqueue', count: 1, queue: 'urgent', kind: 'a' },
  ])
})

it('describes an enqueueMany call with the queue and kind its items share, and undefined where they differ', async () => {
  const t = setup()
  await t.enqueuer.enqueueMany([
    { job: a, payload: { n: 1 } },
    { job: a, payload: { n: 2 } },
  ])
  await t.enqueuer.enqueueMany([
    { job: a, payload: { n: 1 } },
    { job: b, payload: { n: 2 } },
  ])
  await t.enqueuer.enqueueMany([
    { job: a, payload: { n: 1 } },
    { job: mailA, payload: { n: 2 } },
    { job: a, payload: { n: 3 } },
  ])
  await t.enqueuer.enqueueMany([
    { job: a, payload: { n: 1 }, options: { queue: 'mail' } },
    { job: mailA, payload: { n: 2 } },
  ])
  expect(t.calls).toEqual([
    { operation: 'enqueueMany', count: 2, queue: 'default', kind: 'a' },
    { operation: 'enqueueMany', count: 2, queue: 'default', kind: undefined },
    { operation: 'enqueueMany', count: 3, queue: undefined, kind: undefined },
    { operation: 'enqueueMany', count: 2, queue: 'mail', kind: undefined },
  ])
})

it('describes a call whose first item is no job definition with neither queue nor kind, before refusing it', async () => {
  const t = setup()
  await expect(t.enqueuer.enqueueMany([{ job: 'a' as never, payload: {} }])).rejects.toThrow(
    /enqueueMany item 0: enqueue needs a job made by defineJob\(\)/,
  )
  await expect(t.enqueuer.enqueue('a' as never, {})).rejects.toThrow(/defineJob/)
  expect(t.calls).toEqual([
    { operation: 'enqueueMany', count: 1, queue: undefined, kind: undefined },
    { operation: 'enqueue', count: 1, queue: undefined, kind: undefined },
  ])
})

it("stores the rows as insert middleware's edit returns them", async () => {
  const t = setup({ edit: (row) => ({ ...row, priority: 7 }) })
  await t.enqueuer.enqueue(a, { n: 1 })
  await t.enqueuer.enqueueMany([{ job: b, payload: { n: 2 } }])
  expect(t.inserts.map((i) => i.jobs.map((j) => j.priority))).toEqual([[7], [7]])
})

it("passes enqueueMany's transaction to the store for the whole batch, and refuses other options", async () => {
  const t = setup()
  await t.enqueuer.enqueueMany([{ job: a, payload: { n: 1 } }], { tx })
  expect(t.inserts[0]?.tx).toBe(tx)
  await expect(t.enqueuer.enqueueMany([], { queue: 'x' } as never)).rejects.toThrow(/enqueueMany options/)
  await expect(t.enqueuer.enqueueMany([{ job: a, payload: { n: 1 } }], { tx: 5 as never })).rejects.toThrow(
    /tx must be a client/,
  )
})

it('calls neither middleware nor the store for an empty batch', async () => {
  const t = setup()
  expect(await t.enqueuer.enqueueMany([])).toEqual([])
  expect(t.calls).toEqual([])
  expect(t.inserts).toEqual([])
})

it('refuses an item that is no object, naming its index', async () => {
  const t = setup()
  await expect(t.enqueuer.enqueueMany([{ job: a, payload: { n: 1 } }, 5 as never])).rejects.toThrow(
    'enqueueMany: item 1 must be { job, payload, options? }; got',
  )
  expect(t.inserts).toEqual([])
})

it('passes on a non-Error thrown by a schema as it is', async () => {
  const strict = defineJob({
    kind: 'strict',
    schema: {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => {
          throw 'schema exploded'
        },
      },
    },
  })
  const t = setup()
  await expect(t.enqueuer.enqueueMany([{ job: strict, payload: {} }])).rejects.toBe('schema exploded')
})
