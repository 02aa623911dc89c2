/**
 * The core queue's own wiring, on the memory adapter: a store that is none refused, a `register`
 * of something that is no definition refused as such, `performJob`'s job record (id, attempt,
 * attemptedBy, group defaults, no errors) and its refusal of an unregistered kind, drain's
 * heartbeat (the process listed afterwards), the cancel feed held only while a drain runs, and a
 * completion it could not write on `error`.
 */
import { expect, it } from 'vitest'
import { createMemoryQueue } from '../../src/adapters/memory/index.js'
import { createQueue } from '../../src/core/create-queue.js'
import { InvalidArgumentError } from '../../src/core/domain/errors.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { nextTurn, waitFor } from '../support/wait.js'

const mail = defineJob<{ n: number }>({ kind: 'mail' })

it('refuses a store that is none', () => {
  for (const store of [null, {}])
    expect(() => createQueue(store as never, {} as never)).toThrow('createQueue(store) needs a JobStore; got')
})

it('refuses to register something that is no job definition, as an argument error', () => {
  const queue = createMemoryQueue()
  for (const job of [null, undefined])
    expect(() => queue.register(job as never, () => {})).toThrow(InvalidArgumentError)
})

it('performs a job on a record of its own: id 0, the attempt asked for, attempted by this process, no group, no errors', async () => {
  const queue = createMemoryQueue({ processId: 'host-1' })
  let seen: JobRecord | undefined
  queue.register(mail, (_p, ctx) => {
    seen = ctx.job
  })
  await queue.performJob(mail, { n: 1 }, { attempt: 2, maxAttempts: 3 })
  expect(seen).toMatchObject({
    id: '0',
    attempt: 2,
    runs: 2,
    attemptedBy: `${queue.processId}:perform`,
    groupMode: 'fifo',
    groupLockTimeoutMs: null,
    errors: [],
    state: 'running',
  })
  await expect(queue.performJob(defineJob({ kind: 'unknown' }), {})).rejects.toThrow(
    'Register it with queue.register(job, handler) first.',
  )
})

it("records drain's heartbeat: the process is listed afterwards, with the time of its last drain and the drain as its worker", async () => {
  const queue = createMemoryQueue({ processId: 'host-1' })
  queue.register(mail, () => {})
  await queue.enqueue(mail, { n: 1 })
  expect(await queue.listProcesses()).toEqual([])
  await queue.drain()
  queue.clock.advance(500)
  await queue.enqueue(mail, { n: 2 }, { queue: 'other' })
  await queue.drain({ queues: ['other'] })
  // The drained queues (orphan checks count the kinds registered here as served in them only).
  const drainer = { queues: ['other'], capacity: 1, oversized: 'alone' }
  expect(await queue.listProcesses()).toMatchObject([
    { id: queue.processId, lastHeartbeatAt: queue.clock.now(), workers: [drainer] },
  ])
})

it("a started queue's drain leaves the workers recorded at start(): the next heartbeat records them alone", async () => {
  const queue = createMemoryQueue({ processId: 'host-1', queues: { mail: { concurrency: 2 } } })
  queue.register(mail, () => {})
  await queue.pauseQueue('mail')
  await queue.start()
  try {
    await queue.enqueue(mail, { n: 1 })
    await queue.drain({ queues: ['default'] })
    const worker = { queues: ['mail'], capacity: 2, oversized: 'alone' }
    queue.clock.advance(2000) // the heartbeat interval
    await waitFor(async () => (await queue.listProcesses())[0]?.workers?.length === 1)
    expect(await queue.listProcesses()).toMatchObject([{ id: queue.processId, workers: [worker] }])
  } finally {
    await queue.shutdown()
  }
})

// Orphan checks judge (queue, kind) pairs by the workers a process records: a drain of a queue its
// workers do not serve is recorded beside them while it runs, and every heartbeat records the
// workers again, so a row another writer changed is set right (found in review).
it("a started queue's drain is recorded beside its workers while it runs", async () => {
  const report = defineJob({ kind: 'report' })
  const queue = createMemoryQueue({ processId: 'host-1', queues: { mail: { concurrency: 2 } } })
  let during: unknown
  queue.register(mail, () => {})
  queue.register(report, async () => {
    during = await queue.listProcesses()
  })
  await queue.start()
  try {
    await queue.enqueue(report, {})
    await queue.drain({ queues: ['default'] })
    expect(during).toMatchObject([
      {
        id: queue.processId,
        workers: [
          { queues: ['mail'], capacity: 2, oversized: 'alone' },
          { queues: ['default'], capacity: 1, oversized: 'alone' },
        ],
      },
    ])
  } finally {
    await queue.shutdown()
  }
})

it("each heartbeat records the process's workers again", async () => {
  const queue = createMemoryQueue({ processId: 'host-1', queues: { mail: { concurrency: 2 } } })
  queue.register(mail, () => {})
  await queue.start()
  try {
    // Another writer of this process's row.
    await queue.store.recordHeartbeat({ processId: queue.processId, now: queue.clock.now(), workers: [] })
    expect(await queue.listProcesses()).toMatchObject([{ workers: [] }])
    queue.clock.advance(2000) // the heartbeat interval
    await waitFor(async () => ((await queue.listProcesses())[0]?.workers?.length ?? 0) > 0)
    expect(await queue.listProcesses()).toMatchObject([
      { workers: [{ queues: ['mail'], capacity: 2, oversized: 'alone' }] },
    ])
  } finally {
    await queue.shutdown()
  }
})

it("lists the processes heard from within maintenance's rescueAfterMs, or the default 15 s without maintenance", async () => {
  const custom = createMemoryQueue({ processId: 'host-1', maintenance: { rescueAfterMs: 5000 } })
  custom.register(mail, () => {})
  await custom.enqueue(mail, { n: 1 })
  await custom.drain()
  custom.clock.advance(5001)
  expect(await custom.listProcesses()).toEqual([])

  const without = createMemoryQueue({ processId: 'host-2', maintenance: { enabled: false } })
  without.register(mail, () => {})
  await without.enqueue(mail, { n: 1 })
  await without.drain()
  without.clock.advance(15_000)
  expect(await without.listProcesses()).toMatchObject([{ id: without.processId }])
  without.clock.advance(1)
  expect(await without.listProcesses()).toEqual([])
})

it('reports a completion it could not write on error, during complete', async () => {
  const queue = createMemoryQueue()
  queue.register(mail, () => {})
  const during: string[] = []
  queue.on('error', (e) => during.push(e.during))
  queue.store.completeJobs = async () => {
    throw new TypeError('broken store')
  }
  await queue.enqueue(mail, { n: 1 })
  await queue.start()
  await waitFor(() => during.length > 0)
  expect(during).toContain('complete')
  await queue.shutdown()
})

it("holds the store's cancel feed only while a drain runs", async () => {
  const queue = createMemoryQueue()
  let subscribed = 0
  const during: number[] = []
  queue.register(mail, () => {
    during.push(subscribed)
  })
  const subscribe = queue.store.onJobsCancelled.bind(queue.store)
  queue.store.onJobsCancelled = (listener) => {
    subscribed++
    const unsubscribe = subscribe(listener)
    return () => {
      subscribed--
      unsubscribe()
    }
  }
  await queue.enqueue(mail, { n: 1 })
  await queue.drain()
  expect(during).toEqual([1])
  expect(subscribed).toBe(0)
})

it('shutdown stops a drain whose handler ignores the abort: the drain ends, no beat follows on the closed store, no error', async () => {
  const queue = createMemoryQueue({ processId: 'host-1', maintenance: { heartbeatIntervalMs: 1000 } })
  const errors: unknown[] = []
  queue.on('error', (e) => errors.push(e))
  let release: (() => void) | undefined
  queue.register(mail, () => new Promise<void>((resolve) => (release = resolve)))
  await queue.enqueue(mail, { n: 1 })
  const draining = queue.drain()
  await waitFor(() => release !== undefined)
  const beatAt = async () =>
    (await queue.store.listProcesses({ now: queue.clock.now(), liveWithinMs: 3_600_000 }))[0]?.lastHeartbeatAt
  queue.clock.advance(1000)
  await waitFor(async () => (await beatAt()) === queue.clock.now())
  await queue.shutdown({ graceMs: 0 })
  // Shutdown waited for the drain: it has ended, though its handler never settled.
  expect(await draining).toMatchObject({ total: 0, stopped: true })
  const last = await beatAt()
  for (let second = 0; second < 5; second++) {
    queue.clock.advance(1000)
    await nextTurn()
  }
  expect(await beatAt()).toBe(last)
  expect(errors).toEqual([])
  release!()
})
