import { describe, expect, it, vi } from 'vitest'
import { createMemoryQueue } from '../../src/adapters/memory/index.js'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { createQueue } from '../../src/core/create-queue.js'
import { InvalidArgumentError } from '../../src/core/domain/errors.js'
import {
  assessStorageHealth,
  formatDuration,
  type HorizonHolder,
  type StorageHealthReading,
  type TableHealth,
} from '../../src/core/domain/storage-health.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import { type JobStore, storageHealthOf } from '../../src/core/ports/store.js'

const T0 = Date.UTC(2030, 0, 1)

const table = (name: string, deadTuples: number): TableHealth => ({
  name,
  liveTuples: 100,
  deadTuples,
  totalBytes: 81_920,
  indexBytes: 40_960,
  lastVacuumAt: null,
  lastAutovacuumAt: null,
})

const session = (pid: number, startedAgoMs: number, fields: Partial<HorizonHolder> = {}): HorizonHolder => ({
  kind: 'session',
  pid,
  name: 'psql',
  state: 'idle in transaction',
  user: 'app',
  database: 'app',
  xmin: String(1000 + pid),
  xminAge: 50,
  transactionStartedAt: T0 - startedAgoMs,
  queryStartedAt: T0 - startedAgoMs,
  query: 'SELECT txid_current()',
  ...fields,
})

const reading = (holders: HorizonHolder[], tables = [table('jobs', 10_000)]): StorageHealthReading => ({
  checkedAt: T0,
  database: 'app',
  schema: 'conveyor',
  tables,
  holders,
})

const thresholds = { horizonWarnAfterMs: 30_000, deadTuplesWarnAt: 10_000 }
const never = () => {
  throw new Error('only holders without a start time ask when they were first seen')
}

describe('assessStorageHealth: the heldHorizon rule', () => {
  it('fires from both thresholds on, naming the holder held longest, the table and how to end it', () => {
    const health = assessStorageHealth(
      reading(
        [session(7, 5_000, { xminAge: 90 }), session(8, 30_000)],
        [table('jobs', 10_000), table('queues', 3)],
      ),
      thresholds,
      never,
    )
    expect(health.oldestTransactionAgeMs).toBe(30_000)
    expect(health.holders.map((h) => h.heldMs)).toEqual([5_000, 30_000])
    expect(health.warnings).toHaveLength(1)
    const [warning] = health.warnings
    expect(warning).toMatchObject({ rule: 'heldHorizon', table: 'jobs', holder: { pid: 8 } })
    expect(warning!.message).toBe(
      'Session pid 8 (application "psql", user "app", idle in transaction) has held the xmin horizon for 30 s, ' +
        'and conveyor.jobs has 10,000 dead row versions that VACUUM cannot remove meanwhile: claims walk them, ' +
        'so pickup slows and database CPU rises. End its transaction in the application, or end the session: ' +
        'SELECT pg_terminate_backend(8); (idle_in_transaction_session_timeout ends such sessions on its own).',
    )
  })

  it('stays silent below either threshold, and with nothing holding the horizon', () => {
    expect(assessStorageHealth(reading([session(8, 29_999)]), thresholds, never).warnings).toEqual([])
    const fewDead = reading([session(8, 60_000)], [table('jobs', 9_999)])
    expect(assessStorageHealth(fewDead, thresholds, never).warnings).toEqual([])
    const none = assessStorageHealth(reading([], [table('jobs', 1e6)]), thresholds, never)
    expect(none.warnings).toEqual([])
    expect(none.oldestTransactionAgeMs).toBe(0)
  })

  it('ages a replication slot from when it was first seen at its xmin, and says how to drop it', () => {
    const slot: HorizonHolder = {
      ...session(0, 0),
      kind: 'replicationSlot',
      pid: null,
      name: "stand'by",
      state: 'inactive',
      transactionStartedAt: null,
      queryStartedAt: null,
      query: null,
    }
    const health = assessStorageHealth(reading([slot]), thresholds, () => T0 - 45_000)
    expect(health.holders[0]?.heldMs).toBe(45_000)
    expect(health.warnings[0]?.message).toMatch(/^Replication slot "stand'by" \(inactive\) has held/)
    expect(health.warnings[0]?.message).toContain("SELECT pg_drop_replication_slot('stand''by');")
  })

  it('names the table with the most dead rows and the holder held longest, wherever they are listed', () => {
    const health = assessStorageHealth(
      reading([session(8, 60_000), session(7, 40_000)], [table('queues', 10_000), table('jobs', 20_000)]),
      thresholds,
      never,
    )
    expect(health.warnings).toHaveLength(1)
    expect(health.warnings[0]).toMatchObject({ table: 'jobs', holder: { pid: 8 } })
  })

  it('stays silent with a long holder but no tables read', () => {
    expect(assessStorageHealth(reading([session(8, 60_000)], []), thresholds, never).warnings).toEqual([])
  })

  it('leaves out the details a holder does not have', () => {
    const slot: HorizonHolder = {
      ...session(0, 0),
      kind: 'replicationSlot',
      pid: 12,
      name: 'replica',
      state: '',
      transactionStartedAt: T0 - 60_000,
    }
    expect(assessStorageHealth(reading([slot]), thresholds, never).warnings[0]?.message).toMatch(
      /^Replication slot "replica" \(used by pid 12\) has held/,
    )
    const quiet = { ...slot, state: 'active', pid: null }
    expect(assessStorageHealth(reading([quiet]), thresholds, never).warnings[0]?.message).toMatch(
      /^Replication slot "replica" \(active\) has held/,
    )
  })

  it('tells how to finish a prepared transaction', () => {
    const prepared: HorizonHolder = {
      ...session(0, 60_000),
      kind: 'preparedTransaction',
      pid: null,
      name: 'tx-42',
      state: 'prepared',
      queryStartedAt: null,
      query: null,
    }
    const [warning] = assessStorageHealth(reading([prepared]), thresholds, never).warnings
    expect(warning?.message).toMatch(
      /^Prepared transaction "tx-42" \(owner "app"\) has held the xmin horizon for 1 min 0 s/,
    )
    expect(warning?.message).toContain("ROLLBACK PREPARED 'tx-42';")
  })

  it('formats durations', () => {
    expect([999, 1000, 59_999, 60_000, 3_599_000, 3_600_000, 3_723_000].map(formatDuration)).toEqual([
      '999 ms',
      '1 s',
      '59 s',
      '1 min 0 s',
      '59 min 59 s',
      '1 h 0 min',
      '1 h 2 min',
    ])
  })
})

/** A memory store that says it reads storage health, with `read` as its reading. */
function healthStore(read: () => Promise<StorageHealthReading>): JobStore {
  const store = new MemoryStore()
  Object.defineProperty(store, 'capabilities', { value: { ...store.capabilities, storageHealth: true } })
  return Object.assign(store, { storageHealth: read })
}

describe('Queue.storageHealth', () => {
  it('is null on the memory queue, whose store cannot read it', async () => {
    expect(storageHealthOf(new MemoryStore())).toBeNull()
    expect(await createMemoryQueue().storageHealth()).toBeNull()
  })

  it('reuses a reading for cacheMs, shares one read in flight, and reads again on maxAgeMs: 0', async () => {
    const clock = new ManualClock(T0)
    const read = vi.fn(async () => reading([session(8, 60_000)]))
    const queue = createQueue(healthStore(read), { clock, storageHealth: { cacheMs: 5000 } })
    const [a, b] = await Promise.all([queue.storageHealth(), queue.storageHealth()])
    expect(read).toHaveBeenCalledTimes(1)
    expect(b).toBe(a)
    clock.advance(4999)
    expect(await queue.storageHealth()).toBe(a)
    expect(read).toHaveBeenCalledTimes(1)
    clock.advance(1)
    await queue.storageHealth()
    expect(read).toHaveBeenCalledTimes(2)
    await queue.storageHealth({ maxAgeMs: 0 })
    expect(read).toHaveBeenCalledTimes(3)
    expect(a?.warnings.map((w) => w.rule)).toEqual(['heldHorizon'])
  })

  it('applies the queue thresholds, and remembers a slot across readings to age it', async () => {
    const clock = new ManualClock(T0)
    let checkedAt = T0
    const slot: HorizonHolder = {
      ...session(0, 0),
      kind: 'replicationSlot',
      name: 'replica',
      transactionStartedAt: null,
    }
    const read = async () => ({ ...reading([slot]), checkedAt })
    const queue = createQueue(healthStore(read), {
      clock,
      storageHealth: { horizonWarnAfterMs: 10_000, deadTuplesWarnAt: 1, cacheMs: 0 },
    })
    expect((await queue.storageHealth())?.warnings).toEqual([])
    checkedAt += 10_000
    const later = await queue.storageHealth()
    expect(later?.holders[0]?.heldMs).toBe(10_000)
    expect(later?.warnings[0]?.holder.name).toBe('replica')
    expect(later?.thresholds).toEqual({ horizonWarnAfterMs: 10_000, deadTuplesWarnAt: 1 })
  })

  it('refuses bad options with a typed error that names them', async () => {
    const store = healthStore(async () => reading([]))
    expect(() => createQueue(store, { storageHealth: { horizonWarnAfterMs: -1 } })).toThrow(
      /storageHealth\.horizonWarnAfterMs/,
    )
    expect(() => createQueue(store, { storageHealth: { deadTuples: 5 } as never })).toThrow(
      InvalidArgumentError,
    )
    const queue = createQueue(store)
    await expect(queue.storageHealth({ maxAgeMs: 1.5 })).rejects.toThrow(/maxAgeMs/)
    await expect(queue.storageHealth({ fresh: true } as never)).rejects.toThrow(InvalidArgumentError)
  })

  it('throws when the store claims the capability without the method', () => {
    const store = new MemoryStore()
    Object.defineProperty(store, 'capabilities', { value: { ...store.capabilities, storageHealth: true } })
    expect(() => storageHealthOf(store)).toThrow(/lacks the storageHealth\(\) method/)
  })
})
