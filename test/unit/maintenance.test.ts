/** The maintenance service: heartbeats keep their own beat however long a rescue or prune pass takes. */
import { afterEach, expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { EventBus } from '../../src/core/domain/events.js'
import { MaintenanceService } from '../../src/core/maintenance/maintenance-service.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import type { JobStore } from '../../src/core/ports/store.js'
import { nextTurn, waitFor } from '../support/wait.js'

const settings = {
  processId: 'p1',
  heartbeatIntervalMs: 1_000,
  rescueAfterMs: 10_000,
  rescueIntervalMs: 1_000,
  timeoutRescueMarginMs: null,
  retentionMs: null,
  pruneIntervalMs: 60_000,
  batchSize: 100,
  orphans: { intervalMs: 60_000, failAfterMs: null },
}

let service: MaintenanceService | null = null
afterEach(async () => {
  await service?.stop()
  service = null
})

/** A memory store whose rescue statement hangs until `release()`, counting heartbeats. */
function slowRescueStore() {
  const inner = new MemoryStore()
  const heartbeats: number[] = []
  let release: () => void = () => {}
  let rescues = 0
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'recordHeartbeat') {
        return async (params: { processId: string; now: number }) => {
          heartbeats.push(params.now)
          await target.recordHeartbeat(params)
        }
      }
      if (key === 'rescueJobs') {
        return async (params: Parameters<NonNullable<JobStore['rescueJobs']>>[0]) => {
          rescues++
          await gate
          return target.rescueJobs(params)
        }
      }
      const value = Reflect.get(target, key, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  }) as JobStore
  return { store, heartbeats, release: () => release(), rescues: () => rescues }
}

it('keeps recording heartbeats while a rescue pass is stuck (a slow pass must not make this process look dead)', async () => {
  const clock = new ManualClock(0)
  const slow = slowRescueStore()
  service = new MaintenanceService({
    store: slow.store,
    clock,
    events: new EventBus(),
    settings,
    workers: () => [],
    kinds: () => [],
  })
  await service.start()
  expect(slow.heartbeats).toEqual([0])

  clock.advance(1_000)
  await waitFor(() => slow.rescues() === 1, { message: 'the first rescue pass to start' })
  // The rescue pass hangs; twelve heartbeat intervals pass (longer than rescueAfterMs).
  for (let i = 0; i < 12; i++) {
    clock.advance(1_000)
    await nextTurn()
  }
  await waitFor(() => slow.heartbeats.length >= 13, {
    message: `a heartbeat every interval while rescue hangs (got ${slow.heartbeats.length})`,
  })
  expect(slow.heartbeats.at(-1)).toBe(13_000)
  slow.release()
})

it('does not stack heartbeats: one still in flight delays the next instead of adding another', async () => {
  const clock = new ManualClock(0)
  const inner = new MemoryStore()
  let inFlight = 0
  let maxInFlight = 0
  let release: () => void = () => {}
  let hang = false
  const store = new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'recordHeartbeat') {
        return async (params: { processId: string; now: number }) => {
          inFlight++
          maxInFlight = Math.max(maxInFlight, inFlight)
          if (hang) await new Promise<void>((resolve) => (release = resolve))
          await target.recordHeartbeat(params)
          inFlight--
        }
      }
      const value = Reflect.get(target, key, receiver)
      return typeof value === 'function' ? value.bind(target) : value
    },
  }) as JobStore
  service = new MaintenanceService({
    store,
    clock,
    events: new EventBus(),
    settings,
    workers: () => [],
    kinds: () => [],
  })
  await service.start()
  hang = true
  for (let i = 0; i < 5; i++) {
    clock.advance(1_000)
    await nextTurn()
  }
  expect(maxInFlight).toBe(1)
  hang = false
  release()
  await waitFor(() => inFlight === 0, { message: 'the hung heartbeat to finish' })
})
