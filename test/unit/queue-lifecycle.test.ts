/**
 * The queue's lifecycle with a recording store: the workers' default queues, no maintenance or
 * scheduler when the config has none, what a worker's claim asks of the store (nothing without a
 * kind, `resume`, `claimed` only for jobs), claim errors on `error`, which workers a store's
 * notification wakes, `wakeAll`, `running`, its refusals, and the cancel feed shared by its users
 * (subscribed once, released by the last, aborting local runs).
 */
import { expect, it } from 'vitest'
import type { ResolvedConfig } from '../../src/core/config/resolve-config.js'
import { JobCancelledError } from '../../src/core/domain/errors.js'
import { EventBus } from '../../src/core/domain/events.js'
import type { JobRecord } from '../../src/core/domain/job.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { newJobRecord } from '../../src/core/domain/new-job-record.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import type { Completion, JobStore } from '../../src/core/ports/store.js'
import { QueueLifecycle } from '../../src/core/queue-lifecycle.js'
import { AbortHandle } from '../../src/core/runtime/abort-handle.js'
import type { Completer } from '../../src/core/runtime/completer.js'
import { HandlerRegistry } from '../../src/core/runtime/handler-registry.js'
import type { JobRunner } from '../../src/core/runtime/job-runner.js'
import type { WorkerSettings } from '../../src/core/runtime/worker.js'
import { newJobBuilder } from '../support/new-job.js'
import { waitFor } from '../support/wait.js'
import { workerSettings } from '../support/worker-settings.js'

const mail = defineJob<{ n: number }>({ kind: 'mail', queue: 'mail' })

function worker(id: string, queues: string[]): WorkerSettings {
  return workerSettings({ id, queues })
}

function setup(
  options: {
    workers?: WorkerSettings[]
    register?: boolean
    claimFails?: boolean
    /** Claims wait until the test answers them. */
    gated?: boolean
    shutdownGraceMs?: number
  } = {},
) {
  const clock = new ManualClock(0)
  const claims: { queues: readonly string[]; kinds: readonly string[]; resume?: boolean }[] = []
  const listeners = {
    available: [] as ((queues: readonly string[]) => void)[],
    cancelled: [] as ((ids: readonly string[]) => void)[],
  }
  let unsubscribed = 0
  const answers: ((jobs: JobRecord[]) => void)[] = []
  const completed: (readonly Completion[])[] = []
  const readied: unknown[] = []
  const store = {
    ready: async (p?: unknown) => {
      readied.push(p)
    },
    close: async () => {},
    claimJobs: async (p: { queues: readonly string[]; kinds: readonly string[]; resume?: boolean }) => {
      claims.push(p)
      if (options.claimFails) throw new Error('claim failed')
      if (options.gated) return new Promise((resolve) => answers.push(resolve))
      return []
    },
    completeJobs: async (p: { completions: readonly Completion[] }) => {
      completed.push(p.completions)
      return { skipped: [] }
    },
    onJobsAvailable: (l: (queues: readonly string[]) => void) => {
      listeners.available.push(l)
      return () => {}
    },
    onJobsCancelled: (l: (ids: readonly string[]) => void) => {
      listeners.cancelled.push(l)
      return () => {
        unsubscribed++
      }
    },
  } as unknown as JobStore
  const asked: (readonly string[])[] = []
  const config = {
    clock,
    shutdownGraceMs: options.shutdownGraceMs ?? 0,
    scheduler: null,
    maintenance: null,
    workers: (defaultQueues: readonly string[]) => {
      asked.push(defaultQueues)
      return (options.workers ?? []).map((settings) => ({ settings, transactional: false, isolation: null }))
    },
  } as unknown as ResolvedConfig
  const registry = new HandlerRegistry()
  if (options.register !== false) registry.register(mail, () => {})
  const events = new EventBus()
  const localRuns = new Map<string, AbortHandle>()
  const aborts: AbortHandle[] = []
  const runner = {
    localRuns,
    // A run ends when it is aborted.
    run: (_job: JobRecord, abort: AbortHandle) =>
      new Promise((resolve) => {
        aborts.push(abort)
        abort.onAbort(() => resolve({ outcome: 'retry' }))
      }),
  } as unknown as JobRunner
  const completer = { idle: async () => {} } as unknown as Completer
  const lifecycle = new QueueLifecycle({
    store,
    clock,
    config,
    events,
    registry,
    runner,
    completer,
    isolation: undefined,
  })
  return {
    lifecycle,
    registry,
    events,
    claims,
    listeners,
    asked,
    readied,
    localRuns,
    answers,
    completed,
    aborts,
    clock,
    get unsubscribed() {
      return unsubscribed
    },
  }
}

it("asks the store to get ready for its workers' poll strategies before it starts them", async () => {
  const t = setup({
    workers: [
      workerSettings({ id: 'a', queues: ['mail'], strategy: 'time' }),
      workerSettings({ id: 'b', queues: ['mail'] }),
      workerSettings({ id: 'c', queues: ['other'], strategy: 'time' }),
    ],
  })
  await t.lifecycle.start()
  expect(t.readied).toEqual([{ strategies: ['time', 'priority'] }])
  await t.lifecycle.shutdown()
  const none = setup()
  await none.lifecycle.start()
  expect(none.readied).toEqual([{ strategies: [] }])
  await none.lifecycle.shutdown()
})

it("creates the workers with 'default' and the registered kinds' queues, without maintenance or scheduler when the config has none", async () => {
  const t = setup()
  expect(t.lifecycle.running).toBe(false)
  await t.lifecycle.start()
  expect(t.asked).toEqual([['default', 'mail']])
  expect(t.lifecycle.running).toBe(true)
  await t.lifecycle.shutdown()
  expect(t.lifecycle.running).toBe(false)
  await expect(t.lifecycle.start()).rejects.toThrow(
    'This queue was shut down; create a new one to start again.',
  )
})

it('claims for the registered kinds with resume, and asks the store nothing before a kind is registered; registering wakes the workers', async () => {
  const t = setup({ workers: [worker('w', ['mail'])], register: false })
  await t.lifecycle.start()
  await new Promise((resolve) => setImmediate(resolve))
  expect(t.claims).toEqual([])
  t.registry.register(mail, () => {})
  t.lifecycle.wakeAll()
  await waitFor(() => t.claims.length === 1)
  expect(t.claims[0]).toMatchObject({ queues: ['mail'], kinds: ['mail'], resume: true })
  await t.lifecycle.shutdown()
})

it('emits claimed only for a claim that returned jobs', async () => {
  const t = setup({ workers: [worker('w', ['mail'])] })
  const claimed: unknown[] = []
  t.events.on('claimed', (e) => claimed.push(e))
  await t.lifecycle.start()
  await waitFor(() => t.claims.length === 1)
  await new Promise((resolve) => setImmediate(resolve))
  expect(claimed).toEqual([])
  await t.lifecycle.shutdown()
})

it('reports a failed claim on error, during claim', async () => {
  const t = setup({ workers: [worker('w', ['mail'])], claimFails: true })
  const errors: { during: string }[] = []
  t.events.on('error', (e) => errors.push(e))
  await t.lifecycle.start()
  await waitFor(() => errors.length === 1)
  expect(errors[0]).toMatchObject({ error: new Error('claim failed'), during: 'claim' })
  await t.lifecycle.shutdown()
})

it("wakes the workers of the queues a store's notification names, and every worker for none", async () => {
  const t = setup({ workers: [worker('a', ['a', 'mail']), worker('b', ['b', 'mail'])] })
  await t.lifecycle.start()
  await waitFor(() => t.claims.length === 2)
  const notify = t.listeners.available[0]!
  const claimsOf = (queue: string) => t.claims.filter((c) => c.queues.includes(queue)).length
  notify(['a'])
  await waitFor(() => t.claims.length === 3)
  expect([claimsOf('a'), claimsOf('b')]).toEqual([2, 1])
  notify(['a', 'b'])
  await waitFor(() => t.claims.length === 5)
  notify([])
  await waitFor(() => t.claims.length === 7)
  expect([claimsOf('a'), claimsOf('b')]).toEqual([4, 3])
  await t.lifecycle.shutdown()
})

const job = (id: string): JobRecord => ({
  ...newJobRecord(id, newJobBuilder({ kind: 'mail', queue: 'mail' })(), 'running', 0),
  attempt: 2,
})

it('releases the jobs of a claim that returns during shutdown, and writes nothing for an empty one', async () => {
  const t = setup({ workers: [worker('a', ['mail']), worker('b', ['mail'])], gated: true })
  await t.lifecycle.start()
  await waitFor(() => t.answers.length === 2)
  const stopped = t.lifecycle.shutdown()
  t.answers[0]!([job('4')])
  t.answers[1]!([])
  await stopped
  expect(t.completed).toEqual([[{ id: '4', outcome: 'released', attempt: 2 }]])
})

it("gives running jobs the config's grace period at shutdown, then aborts them", async () => {
  const t = setup({ workers: [worker('a', ['mail'])], gated: true, shutdownGraceMs: 1000 })
  await t.lifecycle.start()
  await waitFor(() => t.answers.length === 1)
  t.answers[0]!([job('4')])
  await waitFor(() => t.aborts.length === 1)
  let done = false
  const stopped = t.lifecycle.shutdown().then(() => {
    done = true
  })
  await new Promise((resolve) => setImmediate(resolve))
  expect(t.aborts[0]?.aborted).toBe(false)
  expect(done).toBe(false)
  t.clock.advance(1000)
  await stopped
  expect(t.aborts[0]?.aborted).toBe(true)
})

it('checks the shutdown options, naming them', async () => {
  const t = setup()
  await expect(t.lifecycle.shutdown({ grace: 1 } as never)).rejects.toThrow(/shutdown options/)
})

it('subscribes to cancellations once for all its users and unsubscribes when the last lets go (twice is harmless)', () => {
  const t = setup()
  const first = t.lifecycle.useCancelFeed()
  const second = t.lifecycle.useCancelFeed()
  expect(t.listeners.cancelled).toHaveLength(1)
  first()
  first()
  expect(t.unsubscribed).toBe(0)
  second()
  expect(t.unsubscribed).toBe(1)
  second()
  expect(t.unsubscribed).toBe(1)
  const third = t.lifecycle.useCancelFeed()
  expect(t.listeners.cancelled).toHaveLength(2)
  third()
  expect(t.unsubscribed).toBe(2)
})

it('aborts the local runs of the jobs the feed says were cancelled, as cancelled by an operator', () => {
  const t = setup()
  const running = new AbortHandle()
  const other = new AbortHandle()
  t.localRuns.set('1', running)
  t.localRuns.set('2', other)
  const release = t.lifecycle.useCancelFeed()
  t.listeners.cancelled[0]!(['1', '3'])
  expect(running.reason).toEqual(new JobCancelledError('cancelled by an operator'))
  expect((running.reason as Error).message).toContain('cancelled by an operator')
  expect(other.aborted).toBe(false)
  release()
})
