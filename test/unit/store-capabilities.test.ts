import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { InvalidArgumentError } from '../../src/core/domain/errors.js'
import { type JobStore, transactionalExecutionOf } from '../../src/core/ports/store.js'

/** A memory store that claims the given capability and has the given transaction methods. */
function storeWith(flag: boolean, methods: Partial<JobStore>): JobStore {
  const store = new MemoryStore()
  Object.defineProperty(store, 'capabilities', {
    value: { ...store.capabilities, transactionalExecution: flag },
  })
  return Object.assign(store, methods)
}

describe('transactionalExecutionOf', () => {
  it('is null when the store does not have transactional execution, even with the methods', () => {
    expect(transactionalExecutionOf(new MemoryStore())).toBeNull()
    const run = async () => 1 as never
    expect(
      transactionalExecutionOf(storeWith(false, { runInTransaction: run, completeInTransaction: run })),
    ).toBeNull()
  })

  it('hands out both methods bound to the store when the flag is set', async () => {
    const store = storeWith(true, {
      async runInTransaction(this: JobStore, fn) {
        expect(this).toBe(store)
        return (await fn({ query: async () => undefined })).value
      },
      async completeInTransaction(this: JobStore) {
        expect(this).toBe(store)
        return true
      },
    })
    const tx = transactionalExecutionOf(store)!
    expect(await tx.runInTransaction(async () => ({ commit: true, value: 7 }))).toBe(7)
    expect(
      await tx.completeInTransaction({
        completion: { id: '1', outcome: 'released' },
        now: 0,
        tx: { query: async () => 0 },
      }),
    ).toBe(true)
  })

  it('throws a typed error saying what to fix when the flag is set but a method is missing', () => {
    const store = storeWith(true, { runInTransaction: async () => 1 as never })
    expect(() => transactionalExecutionOf(store)).toThrow(InvalidArgumentError)
    expect(() => transactionalExecutionOf(store)).toThrow(/completeInTransaction/)
    const other = storeWith(true, { completeInTransaction: async () => true })
    expect(() => transactionalExecutionOf(other)).toThrow(InvalidArgumentError)
  })
})
