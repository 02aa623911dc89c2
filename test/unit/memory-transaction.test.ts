import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { MemoryTransaction } from '../../src/adapters/memory/memory-transaction.js'
import { InvalidArgumentError, InvalidOptionsError } from '../../src/core/domain/errors.js'
import type { NewJob, TransactionHandle } from '../../src/core/ports/store.js'
import { newJobBuilder } from '../support/new-job.js'

const NOW = 1_000_000

/** A fully resolved row to insert, with test defaults. */
const newJob = newJobBuilder({ kind: 'work', runAt: NOW })

async function enqueue(store: MemoryStore, tx: TransactionHandle | undefined, ...rows: Partial<NewJob>[]) {
  return store.insertJobs({ jobs: rows.map(newJob), now: NOW, tx })
}

const ids = (store: MemoryStore): string[] => store.allJobs().map((j) => j.id)

describe('MemoryTransaction', () => {
  it('makes jobs visible only on commit, with the ids given at enqueue', async () => {
    const store = new MemoryStore()
    const tx = new MemoryTransaction()
    const [outcome] = await enqueue(store, tx, { payload: 'in tx' })
    expect(outcome).toMatchObject({ duplicate: false, job: { id: '1', state: 'available' } })
    await enqueue(store, undefined, {})
    expect(ids(store)).toEqual(['2'])
    expect(await store.getJob({ id: '1' })).toBeNull()
    await tx.commit()
    expect(tx.state).toBe('committed')
    expect(ids(store)).toEqual(['1', '2'])
    expect((await store.listJobs({ filter: {}, limit: 10 })).map((j) => j.id)).toEqual(['2', '1'])
  })

  it('discards jobs on rollback', async () => {
    const store = new MemoryStore()
    const tx = new MemoryTransaction()
    await enqueue(store, tx, {}, {})
    await tx.rollback()
    expect(tx.state).toBe('rolledBack')
    expect(store.allJobs()).toEqual([])
  })

  it('understands BEGIN, COMMIT and ROLLBACK statements and answers anything else with no rows', async () => {
    const store = new MemoryStore()
    const tx = new MemoryTransaction()
    expect(await tx.query('SELECT 1', [])).toEqual({ rows: [], rowCount: 0 })
    await enqueue(store, tx, {})
    await tx.query('rollback')
    expect(tx.state).toBe('rolledBack')
    await tx.query('begin;')
    expect(tx.state).toBe('open')
    await enqueue(store, tx, {})
    await tx.query('COMMIT')
    expect(ids(store)).toEqual(['2'])
  })

  it('refuses to enqueue into, commit or roll back a transaction that has ended', async () => {
    const store = new MemoryStore()
    const tx = new MemoryTransaction()
    await tx.commit()
    await expect(enqueue(store, tx, {})).rejects.toThrow(InvalidArgumentError)
    await expect(tx.commit()).rejects.toThrow(/already committed/)
    await expect(tx.rollback()).rejects.toThrow(InvalidArgumentError)
  })

  it('checks unique keys against the store and the transaction at enqueue, and drops late duplicates at commit', async () => {
    const store = new MemoryStore()
    await enqueue(store, undefined, { uniqueKey: 'stored' })
    const tx = new MemoryTransaction()
    const outcomes = await enqueue(
      store,
      tx,
      { uniqueKey: 'stored' },
      { uniqueKey: 'mine' },
      { uniqueKey: 'mine' },
      { uniqueKey: 'late' },
    )
    expect(outcomes.map((o) => [o.job.id, o.duplicate])).toEqual([
      ['1', true],
      ['2', false],
      ['2', true],
      ['3', false],
    ])
    await enqueue(store, undefined, { uniqueKey: 'late' })
    await tx.commit()
    expect(store.allJobs().map((j) => [j.id, j.uniqueKey])).toEqual([
      ['1', 'stored'],
      ['2', 'mine'],
      ['4', 'late'],
    ])
  })

  it('lets a job depend on a job enqueued earlier in the same transaction, but not on unknown ids', async () => {
    const store = new MemoryStore()
    const tx = new MemoryTransaction()
    await enqueue(store, tx, {})
    await enqueue(store, tx, { dependsOn: ['1'] })
    await expect(enqueue(store, tx, { dependsOn: ['9'] })).rejects.toThrow(InvalidOptionsError)
    await tx.commit()
    expect(store.allJobs().map((j) => [j.id, j.state])).toEqual([
      ['1', 'available'],
      ['2', 'available'],
    ])
  })

  it('commits nothing when the store was reset while the transaction was open', async () => {
    const store = new MemoryStore()
    const tx = new MemoryTransaction()
    await enqueue(store, tx, {})
    store.reset()
    await tx.commit()
    expect(store.allJobs()).toEqual([])
  })

  it('inserts at once with a transaction handle it cannot see the commit of', async () => {
    const store = new MemoryStore()
    const foreign: TransactionHandle = { query: async () => ({ rows: [] }) }
    await enqueue(store, foreign, {})
    expect(ids(store)).toEqual(['1'])
  })
})
