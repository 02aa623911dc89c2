/**
 * The maintenance service's loop: each task (rescue, prune, orphan check) runs when its own interval
 * has passed (at the boundary included), pruning only with a retention; start() and stop() are safe
 * to repeat; stop() cancels both loops and waits for a pass in flight, which then arms nothing; a
 * failing pass is reported on `error` and the loop goes on.
 */
import { afterEach, expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { EventBus } from '../../src/core/domain/events.js'
import {
  MaintenanceService,
  type MaintenanceSettings,
} from '../../src/core/maintenance/maintenance-service.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import type { JobStore } from '../../src/core/ports/store.js'
import { newJobBuilder } from '../support/new-job.js'
import { waitFor } from '../support/wait.js'

const settings: MaintenanceSettings = {
  processId: 'p1',
  heartbeatIntervalMs: 1_000,
  rescueAfterMs: 10_000,
  rescueIntervalMs: 1_000,
  timeoutRescueMarginMs: null,
  retentionMs: 60_000,
  pruneIntervalMs: 5_000,
  batchSize: 100,
  orphans: { intervalMs: 3_000, failAfterMs: null },
}

/** A memory store that counts calls by method; `gate(method)` makes that method's next calls wait. */
function countingStore() {
  const inner = new MemoryStore()
  const calls: Record<string, number> = {}
  const failures: Record<string, Error> = {}
  let gate: { method: string; open: Promise<void> } | null = null
  let openGate = () => {}
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if (typeof value !== 'function') return value
      return async (...args: unknown[]) => {
        const name = String(key)
        calls[name] = (calls[name] ?? 0) + 1
        if (gate?.method === name) await gate.open
        const failure = failures[name]
        if (failure) {
          delete failures[name]
          throw failure
        }
        return value.apply(target, args)
      }
    },
  }) as JobStore
  return {
    store,
    inner,
    count: (method: string) => calls[method] ?? 0,
    /** The next calls of `method` wait until `release()`. */
    gate(method: string) {
      gate = { method, open: new Promise<void>((resolve) => (openGate = resolve)) }
    },
    release() {
      gate = null
      openGate()
    },
    /** The next call of `method` throws `error`. */
    failOnce(method: string, error: Error) {
      failures[method] = error
    },
  }
}

let service: MaintenanceService | null = null
afterEach(async () => {
  await service?.stop()
  service = null
})

function createService(
  store: JobStore,
  clock: ManualClock,
  overrides: Partial<MaintenanceSettings> = {},
  events = new EventBus(),
): MaintenanceService {
  service = new MaintenanceService({
    store,
    clock,
    events,
    settings: { ...settings, ...overrides },
    workers: () => [{ queues: ['default'], capacity: 1, oversized: 'alone' }],
    kinds: () => ['mine'],
  })
  return service
}

it('runs rescue, prune and orphan checks each when its own interval has passed, the boundary included', async () => {
  const clock = new ManualClock(0)
  const s = countingStore()
  const events = new EventBus()
  events.on('orphaned', () => {})
  const m = createService(s.store, clock, {}, events)
  const counts = () => [s.count('rescueJobs'), s.count('pruneJobs'), s.count('findOrphans')]

  await m.runOnce()
  expect(counts()).toEqual([1, 1, 1])
  clock.advance(999)
  await m.runOnce()
  expect(counts()).toEqual([1, 1, 1])
  clock.advance(1) // 1000: the rescue interval, exactly
  await m.runOnce()
  expect(counts()).toEqual([2, 1, 1])
  clock.advance(2_000) // 3000: the orphan interval, exactly
  await m.runOnce()
  expect(counts()).toEqual([3, 1, 2])
  clock.advance(2_000) // 5000: the prune interval, exactly
  await m.runOnce()
  expect(counts()).toEqual([4, 2, 2])
  expect(s.count('recordHeartbeat')).toBe(5)
})

it('never prunes without a retention', async () => {
  const clock = new ManualClock(0)
  const s = countingStore()
  const m = createService(s.store, clock, { retentionMs: null })
  await m.runOnce()
  clock.advance(60_000)
  await m.runOnce()
  expect(s.count('pruneJobs')).toBe(0)
  expect(s.count('rescueJobs')).toBe(2)
})

it("checks orphans with this process's kinds and the rescue's staleness", async () => {
  const clock = new ManualClock(1_000_000)
  const s = countingStore()
  const newJob = newJobBuilder({ runAt: 1_000_000 })
  await s.inner.insertJobs({ jobs: [newJob({ kind: 'mine' }), newJob({ kind: 'lost' })], now: 1_000_000 })
  const events = new EventBus()
  const orphaned: string[] = []
  events.on('orphaned', ({ kind }) => orphaned.push(kind))
  const m = createService(s.store, clock, {}, events)
  await m.runOnce()
  expect(orphaned).toEqual(['lost'])
})

it('start() twice records one first heartbeat and arms each loop once', async () => {
  const clock = new ManualClock(0)
  const s = countingStore()
  const m = createService(s.store, clock)
  await m.start()
  await m.start()
  expect(s.count('recordHeartbeat')).toBe(1)
  expect(clock.pendingTimers).toBe(2)
})

it('stop() cancels both loops: no heartbeat or pass afterwards', async () => {
  const clock = new ManualClock(0)
  const s = countingStore()
  const m = createService(s.store, clock)
  await m.start()
  await m.stop()
  expect(clock.pendingTimers).toBe(0)
  clock.advance(10_000)
  expect(s.count('recordHeartbeat')).toBe(1)
  expect(s.count('rescueJobs')).toBe(0)
})

it('stop() during a pass waits for it, and the pass then arms no further timer', async () => {
  const clock = new ManualClock(0)
  const s = countingStore()
  const m = createService(s.store, clock)
  await m.start()
  s.gate('rescueJobs')
  clock.advance(1_000) // both loops fire: the heartbeat ends, the upkeep pass waits on its rescue
  await waitFor(() => s.count('rescueJobs') === 1, { message: 'the rescue pass to start' })
  await waitFor(() => clock.pendingTimers === 1, { message: 'the heartbeat loop re-armed' })
  let stopped = false
  const stopping = m.stop().then(() => {
    stopped = true
  })
  await waitFor(() => clock.pendingTimers === 0, { message: 'the heartbeat timer cancelled' })
  expect(stopped).toBe(false)
  s.release()
  await stopping
  expect(clock.pendingTimers).toBe(0)
})

it('reports a failing pass on error (during maintenance) and runs the next one', async () => {
  const clock = new ManualClock(0)
  const s = countingStore()
  const events = new EventBus()
  const errors: { error: unknown; during: string }[] = []
  events.on('error', (e) => errors.push(e))
  const m = createService(s.store, clock, {}, events)
  await m.start()
  const failure = new Error('rescue failed')
  s.failOnce('rescueJobs', failure)
  clock.advance(1_000)
  await waitFor(() => errors.length === 1, { message: 'the error reported' })
  expect(errors[0]).toEqual({ error: failure, during: 'maintenance' })
  await waitFor(() => clock.pendingTimers === 2, { message: 'both loops re-armed' })
  clock.advance(1_000)
  await waitFor(() => s.count('rescueJobs') === 2, { message: 'the next rescue pass' })
})

it('stop() during a prune of many batches ends it after the batch in flight', async () => {
  const clock = new ManualClock(1_000_000)
  const s = countingStore()
  const newJob = newJobBuilder({ runAt: 0 })
  await s.inner.insertJobs({ jobs: [newJob(), newJob(), newJob()], now: 0 })
  await s.inner.cancelJobs({ filter: {}, now: 0 })
  const m = createService(s.store, clock, { batchSize: 1 })
  await m.start()
  s.gate('pruneJobs')
  clock.advance(1_000)
  await waitFor(() => s.count('pruneJobs') === 1, { message: 'the first prune batch to start' })
  const stopping = m.stop()
  s.release()
  await stopping
  expect(s.count('pruneJobs')).toBe(1)
  expect(s.inner.allJobs()).toHaveLength(2)
})
