/**
 * The storage-health monitor with a store whose readings the test hands out: callers that accept
 * a reading of any age share the one in flight, `maxAgeMs: 0` reads anew; a holder without a start
 * time is aged from when it was first seen at its xmin (each holder on its own), and forgotten once
 * unseen for an hour; the options are checked by name.
 */
import { expect, it } from 'vitest'
import type { HorizonHolder, StorageHealthReading } from '../../src/core/domain/storage-health.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import type { JobStore } from '../../src/core/ports/store.js'
import { StorageHealthMonitor } from '../../src/core/runtime/storage-health-monitor.js'

function slot(name: string): HorizonHolder {
  return {
    kind: 'replication slot',
    pid: null,
    name,
    state: null,
    user: null,
    database: 'db',
    xmin: '100',
    xminAge: 5,
    transactionStartedAt: null,
    queryStartedAt: null,
    query: null,
  } as unknown as HorizonHolder
}

function setup() {
  const clock = new ManualClock(0)
  let holders: HorizonHolder[] = []
  const pending: ((r: StorageHealthReading) => void)[] = []
  let gated = false
  let reads = 0
  const reading = (): StorageHealthReading => ({
    checkedAt: clock.now(),
    database: 'db',
    schema: 'conveyor',
    tables: [],
    holders,
  })
  const store = {
    capabilities: { storageHealth: true },
    storageHealth: () => {
      reads++
      if (gated) return new Promise<StorageHealthReading>((resolve) => pending.push(resolve))
      return Promise.resolve(reading())
    },
  } as unknown as JobStore
  const monitor = new StorageHealthMonitor({
    store,
    clock,
    settings: { cacheMs: 1000, horizonWarnAfterMs: 60_000, deadTuplesWarnAt: 1_000_000 },
  })
  return {
    clock,
    monitor,
    pending,
    reading,
    get reads() {
      return reads
    },
    gate() {
      gated = true
    },
    setHolders(h: HorizonHolder[]) {
      holders = h
    },
  }
}

it('shares the reading in flight among callers that accept any age, and reads anew for maxAgeMs 0', async () => {
  const t = setup()
  t.gate()
  const a = t.monitor.storageHealth()
  const b = t.monitor.storageHealth()
  await Promise.resolve()
  expect(t.reads).toBe(1)
  const c = t.monitor.storageHealth({ maxAgeMs: 0 })
  await Promise.resolve()
  expect(t.reads).toBe(2)
  for (const resolve of t.pending) resolve(t.reading())
  await Promise.all([a, b, c])
})

it('ages a holder without a start time from when it was first seen, each holder on its own, forgetting one unseen for an hour', async () => {
  const t = setup()
  const heldMs = async () =>
    Object.fromEntries(
      (await t.monitor.storageHealth({ maxAgeMs: 0 }))!.holders.map((h) => [h.name, h.heldMs]),
    )
  t.setHolders([slot('a')])
  expect(await heldMs()).toEqual({ a: 0 })
  t.clock.advance(10_000)
  t.setHolders([slot('a'), slot('b')])
  expect(await heldMs()).toEqual({ a: 10_000, b: 0 })
  // 'a' unseen for exactly an hour is remembered; 'b' unseen for longer is forgotten.
  t.setHolders([])
  await heldMs()
  t.clock.advance(3_600_000)
  t.setHolders([slot('a')])
  expect(await heldMs()).toEqual({ a: 3_610_000 })
  t.clock.advance(1)
  t.setHolders([slot('b')])
  expect(await heldMs()).toEqual({ b: 0 })
})

it('checks its options, naming them', async () => {
  const t = setup()
  await expect(t.monitor.storageHealth({ age: 1 } as never)).rejects.toThrow(/storageHealth options/)
})
