/**
 * `withTransaction(tx, fn)`: the ambient transaction of a Postgres queue's enqueues, scoped to the
 * callback's async context (nested and concurrent callbacks keep their own; nothing leaks out).
 */
import { defineJob } from 'conveyor-jobs'
import { createMemoryQueue } from 'conveyor-jobs/memory'
import { createPostgresQueue, type PostgresQueue, withTransaction } from 'conveyor-jobs/postgres'
import type pg from 'pg'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../src/core/domain/errors.js'
import type { TransactionHandle } from '../../src/core/ports/store.js'
import { nextTurn } from '../support/wait.js'
import { describePostgres, useStore } from './fixture.js'

const note = defineJob<{ n: number }>({ kind: 'note' })

/** A `pg` client inside BEGIN, wrapped to count the enqueue statements run through it. */
interface OpenTransaction {
  readonly handle: TransactionHandle
  readonly statements: () => number
  end(commit: boolean): Promise<void>
}

describePostgres('withTransaction (ambient transaction)', () => {
  const db = useStore()
  let queue: PostgresQueue
  const opened: pg.PoolClient[] = []
  beforeEach(() => {
    queue = createPostgresQueue({ pool: db.pool, schema: db.schema })
  })
  afterEach(async () => {
    // Destroyed, not returned: a failed test may leave its transaction open (and its locks held).
    for (const client of opened.splice(0)) client.release(true)
    await queue.shutdown()
  })

  async function begin(): Promise<OpenTransaction> {
    const client = await db.pool.connect()
    opened.push(client)
    await client.query('BEGIN')
    let count = 0
    return {
      handle: {
        query: (text, values) => {
          // Not counted: the queue's clock reads the database's time once, through the first
          // enqueue's transaction (see database-clock.ts).
          if (!text.includes('clock_timestamp()')) count++
          return client.query(text, values)
        },
      },
      statements: () => count,
      end: async (commit) => void (await client.query(commit ? 'COMMIT' : 'ROLLBACK')),
    }
  }
  const payloads = async () =>
    (await queue.listJobs()).map((j) => (j.payload as { n: number }).n).sort((a, b) => a - b)

  it('enqueue and enqueueMany without tx run in the ambient transaction', async () => {
    const t = await begin()
    await withTransaction(t.handle, async () => {
      await queue.enqueue(note, { n: 1 })
      await queue.enqueueMany([{ job: note, payload: { n: 2 } }])
      await queue.enqueue(note, { n: 3 }, { priority: 1 }) // options without tx
    })
    expect(t.statements()).toBe(3)
    expect(await payloads()).toEqual([]) // not committed
    await t.end(true)
    expect(await payloads()).toEqual([1, 2, 3])
  })

  it('is ignored outside the callback, and after it returns', async () => {
    const t = await begin()
    await queue.enqueue(note, { n: 1 })
    await withTransaction(t.handle, () => queue.enqueue(note, { n: 2 }))
    await queue.enqueue(note, { n: 3 })
    expect(t.statements()).toBe(1)
    await t.end(false)
    expect(await payloads()).toEqual([1, 3])
  })

  it('an explicit tx wins over the ambient one', async () => {
    const ambient = await begin()
    const explicit = await begin()
    await withTransaction(ambient.handle, async () => {
      await queue.enqueue(note, { n: 1 }, { tx: explicit.handle })
      await queue.enqueueMany([{ job: note, payload: { n: 2 } }], { tx: explicit.handle })
    })
    expect([ambient.statements(), explicit.statements()]).toEqual([0, 2])
    await ambient.end(true)
    await explicit.end(false)
    expect(await payloads()).toEqual([])
  })

  it('nested callbacks: the inner transaction holds inside it, the outer again after it', async () => {
    const outer = await begin()
    const inner = await begin()
    await withTransaction(outer.handle, async () => {
      await queue.enqueue(note, { n: 1 })
      await withTransaction(inner.handle, () => queue.enqueue(note, { n: 2 }))
      await queue.enqueue(note, { n: 3 })
    })
    expect([outer.statements(), inner.statements()]).toEqual([2, 1])
    await inner.end(false)
    await outer.end(true)
    expect(await payloads()).toEqual([1, 3])
  })

  it('concurrent callbacks do not see each other’s transaction', async () => {
    const a = await begin()
    const b = await begin()
    const producer = (first: number) => async () => {
      for (let n = first; n < first + 3; n++) {
        await nextTurn() // interleave the two callbacks
        await queue.enqueue(note, { n })
      }
    }
    await Promise.all([withTransaction(a.handle, producer(10)), withTransaction(b.handle, producer(20))])
    expect([a.statements(), b.statements()]).toEqual([3, 3])
    await a.end(true)
    await b.end(false)
    expect(await payloads()).toEqual([10, 11, 12])
  })

  it('returns the value of the callback and passes its error on', async () => {
    const t = await begin()
    await expect(withTransaction(t.handle, () => 42)).resolves.toBe(42)
    await expect(
      withTransaction(t.handle, () => {
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    await t.end(false)
  })
})

it('withTransaction rejects what is not a transaction handle, naming the adapter to use', async () => {
  const cases: [unknown, RegExp][] = [
    [{}, /needs a transaction handle with a query\(text, values\) method/],
    [null, /got null/],
    [
      { $queryRawUnsafe: () => {} },
      /looks like a Prisma transaction: wrap it with adaptPrismaTransaction\(tx\)/,
    ],
    [Object.assign(() => {}, { unsafe: () => {}, savepoint: () => {} }), /adaptPostgresJsTransaction\(sql\)/],
  ]
  for (const [value, message] of cases) {
    const call = withTransaction(value as TransactionHandle, async () => {})
    await expect(call).rejects.toBeInstanceOf(InvalidArgumentError)
    await expect(call).rejects.toThrow(message)
  }
  await expect(withTransaction({ query: async () => ({ rows: [] }) }, 'fn' as never)).rejects.toThrow(
    /needs a function to run/,
  )
})

it('the memory adapter ignores the ambient transaction: there, pass { tx } explicitly', async () => {
  const queue = createMemoryQueue()
  const rolledBack = queue.transaction(async (tx) => {
    await withTransaction(tx, () => queue.enqueue(note, { n: 1 })) // stored at once, outside tx
    await queue.enqueue(note, { n: 2 }, { tx }) // buffered in tx, dropped by the rollback
    throw new Error('rollback')
  })
  await expect(rolledBack).rejects.toThrow('rollback')
  expect(queue.all(note).map((j) => j.payload)).toEqual([{ n: 1 }])
})
