/**
 * Transactional enqueue with the clients applications use: one list of cases, run on real
 * PostgreSQL through `pg` itself and through each adapter (Knex, Kysely, Drizzle on node-postgres,
 * Prisma 7 on `@prisma/adapter-pg`, postgres.js). Each client runs in a configuration that would
 * break a naive adapter: Kysely with `CamelCasePlugin`, postgres.js with `transform: postgres.camel`.
 */
import { defineJob } from 'conveyor-jobs'
import {
  adaptDrizzleTransaction,
  adaptKnexTransaction,
  adaptKyselyTransaction,
  adaptPostgresJsTransaction,
  adaptPrismaTransaction,
  createPostgresQueue,
  type PostgresQueue,
  withTransaction,
} from 'conveyor-jobs/postgres'
import { drizzle } from 'drizzle-orm/node-postgres'
import { integer, pgSchema, serial } from 'drizzle-orm/pg-core'
import knex from 'knex'
import { CamelCasePlugin, type Generated, Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import postgres from 'postgres'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { quoteIdentifier } from '../../src/adapters/postgres/schema-name.js'
import { InvalidArgumentError } from '../../src/core/domain/errors.js'
import type { TransactionHandle } from '../../src/core/ports/store.js'
import { type GeneratedPrisma, generatePrismaClient } from '../support/prisma-client.js'
import { waitFor } from '../support/wait.js'
import { databaseUrl, describePostgres, useStore } from './fixture.js'

/** What a case gets inside the client's transaction. */
interface InTransaction {
  /** The client's transaction, adapted for `{ tx }`. */
  readonly tx: TransactionHandle
  /** Inserts the application's own row (an order) with the client's own API. */
  insertOrder(total: number): Promise<unknown>
}

/** A client opened on the test database. */
interface OpenClient {
  /** Runs `fn` in a transaction of the client: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (t: InTransaction) => Promise<T>): Promise<T>
  /** Calls the adapter on the client itself instead of a transaction (a mistake it must reject); none for pg. */
  adaptRoot?(): unknown
  /** Calls the adapter on something that is not a client at all; none for pg. */
  adaptOther?(value: unknown): unknown
  close(): Promise<void>
}

interface Client {
  readonly name: string
  open(url: string, schema: string): Promise<OpenClient>
}

let prisma: GeneratedPrisma | undefined

const clients: Client[] = [
  {
    name: 'pg',
    async open(url, schema) {
      const pool = new pg.Pool({ connectionString: url, max: 2 })
      return {
        async transaction(fn) {
          const client = await pool.connect()
          try {
            await client.query('BEGIN')
            const insertOrder = (total: number) =>
              client.query(`INSERT INTO ${quoteIdentifier(schema)}.orders (total) VALUES ($1)`, [total])
            const value = await fn({ tx: client, insertOrder })
            await client.query('COMMIT')
            return value
          } catch (error) {
            await client.query('ROLLBACK')
            throw error
          } finally {
            client.release()
          }
        },
        close: () => pool.end(),
      }
    },
  },
  {
    name: 'Knex',
    async open(url, schema) {
      const db = knex({ client: 'pg', connection: url, pool: { min: 0, max: 2 } })
      return {
        transaction: (fn) =>
          db.transaction((trx) =>
            fn({
              tx: adaptKnexTransaction(trx),
              insertOrder: (total) => trx.withSchema(schema).insert({ total }).into('orders'),
            }),
          ),
        adaptRoot: () => adaptKnexTransaction(db),
        adaptOther: (value) => adaptKnexTransaction(value as never),
        close: () => db.destroy(),
      }
    },
  },
  {
    name: 'Kysely',
    async open(url, schema) {
      const db = new Kysely<{ orders: { id: Generated<number>; total: number } }>({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 2 }) }),
        plugins: [new CamelCasePlugin()],
      })
      return {
        transaction: (fn) =>
          db.transaction().execute((trx) =>
            fn({
              tx: adaptKyselyTransaction(trx),
              insertOrder: (total) => trx.withSchema(schema).insertInto('orders').values({ total }).execute(),
            }),
          ),
        adaptRoot: () => adaptKyselyTransaction(db),
        adaptOther: (value) => adaptKyselyTransaction(value as never),
        close: () => db.destroy(),
      }
    },
  },
  {
    name: 'Drizzle (node-postgres)',
    async open(url, schema) {
      const pool = new pg.Pool({ connectionString: url, max: 2 })
      const db = drizzle(pool)
      const orders = pgSchema(schema).table('orders', {
        id: serial('id').primaryKey(),
        total: integer('total').notNull(),
      })
      return {
        transaction: (fn) =>
          db.transaction((tx) =>
            fn({
              tx: adaptDrizzleTransaction(tx),
              insertOrder: (total) => tx.insert(orders).values({ total }),
            }),
          ),
        adaptRoot: () => adaptDrizzleTransaction(db as never),
        adaptOther: (value) => adaptDrizzleTransaction(value as never),
        close: () => pool.end(),
      }
    },
  },
  {
    name: 'Prisma 7 (@prisma/adapter-pg)',
    async open(url, schema) {
      const client = prisma!.connect(url, schema)
      return {
        transaction: (fn) =>
          client.$transaction((tx) =>
            fn({
              tx: adaptPrismaTransaction(tx),
              insertOrder: (total) => tx.order.create({ data: { total } }),
            }),
          ),
        adaptRoot: () => adaptPrismaTransaction(client as never),
        adaptOther: (value) => adaptPrismaTransaction(value as never),
        close: () => client.$disconnect(),
      }
    },
  },
  {
    name: 'postgres.js',
    async open(url, schema) {
      const sql = postgres(url, { max: 2, transform: postgres.camel, onnotice: () => {} })
      return {
        transaction: async (fn) =>
          (await sql.begin((tx) =>
            fn({
              tx: adaptPostgresJsTransaction(tx),
              insertOrder: (total) => tx`INSERT INTO ${tx(schema)}.orders ${tx({ total })}`,
            }),
          )) as never,
        adaptRoot: () => adaptPostgresJsTransaction(sql as never),
        adaptOther: (value) => adaptPostgresJsTransaction(value as never),
        close: () => sql.end(),
      }
    },
  },
]

const sendReceipt = defineJob<{ orderId: number; note?: string }>({ kind: 'send-receipt' })
const other = defineJob<{ tags: string[]; nested: { a: number[] } }>({ kind: 'other' })

describePostgres('transactional enqueue with application clients', () => {
  const db = useStore()
  let orders: string

  beforeAll(async () => {
    orders = `${quoteIdentifier(db.schema)}.orders`
    await db.pool.query(`CREATE TABLE ${orders} (id serial PRIMARY KEY, total int NOT NULL)`)
    prisma = await generatePrismaClient()
  }, 120_000)
  afterAll(async () => {
    await prisma?.remove()
  })

  const orderTotals = async () =>
    (await db.pool.query<{ total: number }>(`SELECT total FROM ${orders} ORDER BY id`)).rows.map(
      (r) => r.total,
    )

  describe.each(clients)('$name', (client) => {
    let open: OpenClient
    let queue: PostgresQueue
    beforeEach(async () => {
      await db.pool.query(`TRUNCATE ${orders}`)
      open = await client.open(databaseUrl(), db.schema)
      queue = createPostgresQueue({ pool: db.pool, schema: db.schema })
    })
    afterEach(async () => {
      await queue.shutdown()
      await open.close()
    })

    it('commit: the job and the order are stored, and a worker runs the job', async () => {
      const id = await open.transaction(async ({ tx, insertOrder }) => {
        await insertOrder(100)
        return (await queue.enqueue(sendReceipt, { orderId: 1, note: `it's "quoted" ✓` }, { tx })).id
      })
      expect(await orderTotals()).toEqual([100])
      expect(await queue.getJob(id)).toMatchObject({
        state: 'available',
        payload: { orderId: 1, note: `it's "quoted" ✓` },
      })
      const ran: unknown[] = []
      queue.register(sendReceipt, async (payload) => {
        ran.push(payload)
      })
      await queue.start()
      await waitFor(async () => (await queue.getJob(id))?.state === 'succeeded')
      expect(ran).toEqual([{ orderId: 1, note: `it's "quoted" ✓` }])
    })

    it('throw: neither the job nor the order is stored', async () => {
      const failed = open.transaction(async ({ tx, insertOrder }) => {
        await insertOrder(200)
        await queue.enqueue(sendReceipt, { orderId: 2 }, { tx })
        throw new Error('payment declined')
      })
      await expect(failed).rejects.toThrow('payment declined')
      expect(await orderTotals()).toEqual([])
      expect(await queue.listJobs()).toEqual([])
    })

    it('the job is invisible to other connections until the commit', async () => {
      const id = await open.transaction(async ({ tx }) => {
        const { id } = await queue.enqueue(sendReceipt, { orderId: 3 }, { tx })
        expect(await queue.getJob(id)).toBeNull() // the pool's connection does not see it yet
        expect(await queue.listJobs()).toEqual([])
        return id
      })
      expect((await queue.getJob(id))?.state).toBe('available')
    })

    it('enqueueMany: every column type goes through the client intact', async () => {
      const later = new Date(Date.now() + 3_600_000)
      const results = await open.transaction(async ({ tx, insertOrder }) => {
        await insertOrder(300)
        return queue.enqueueMany(
          [
            {
              job: sendReceipt,
              payload: { orderId: 4, note: 'a {brace}, "quote", back\\slash, NULL' },
              options: { priority: 3, metadata: { source: 'checkout', n: 1 }, tags: ['a b', 'c,"d"'] },
            },
            { job: other, payload: { tags: ['x'], nested: { a: [1, 2] } }, options: { runAt: later } },
            { job: sendReceipt, payload: { orderId: 5 }, options: { uniqueKey: 'order-5', groupKey: 'g' } },
          ],
          { tx },
        )
      })
      expect(results.map((r) => [r.state, r.duplicate])).toEqual([
        ['available', false],
        ['scheduled', false],
        ['available', false],
      ])
      const [a, b, c] = await Promise.all(results.map((r) => queue.getJob(r.id)))
      expect(a).toMatchObject({
        payload: { orderId: 4, note: 'a {brace}, "quote", back\\slash, NULL' },
        priority: 3,
        metadata: { source: 'checkout', n: 1 },
        tags: ['a b', 'c,"d"'],
      })
      expect(b).toMatchObject({ payload: { tags: ['x'], nested: { a: [1, 2] } }, state: 'scheduled' })
      expect(b?.runAt).toBe(later.getTime())
      expect(c).toMatchObject({ uniqueKey: 'order-5', groupKey: 'g' })
      expect(await orderTotals()).toEqual([300])
    })

    it('a unique key: the second enqueue in the transaction returns the first job', async () => {
      const [first, second, many] = await open.transaction(async ({ tx }) => {
        const options = { tx, uniqueKey: 'order-6', tags: ['t'] }
        const first = await queue.enqueue(sendReceipt, { orderId: 6 }, options)
        const second = await queue.enqueue(sendReceipt, { orderId: 6 }, options)
        const many = await queue.enqueueMany(
          [
            { job: sendReceipt, payload: { orderId: 6 }, options: { uniqueKey: 'order-6' } },
            { job: sendReceipt, payload: { orderId: 7 }, options: { uniqueKey: 'order-7' } },
          ],
          { tx },
        )
        return [first, second, many] as const
      })
      // The duplicates are read back from the first job's row (every column name through the client).
      expect(second).toEqual({ ...first, duplicate: true })
      expect(many[0]).toEqual({ ...first, duplicate: true })
      expect(many[1]!.duplicate).toBe(false)
      expect((await queue.listJobs()).map((j) => j.uniqueKey).sort()).toEqual(['order-6', 'order-7'])
    })

    it('dependencies: a job that depends on one enqueued in the same transaction', async () => {
      const [parent, child] = await open.transaction(async ({ tx }) => {
        const parent = await queue.enqueue(sendReceipt, { orderId: 8 }, { tx })
        const child = await queue.enqueue(
          other,
          { tags: [], nested: { a: [] } },
          { tx, dependsOn: [parent.id] },
        )
        return [parent, child] as const
      })
      expect((await queue.getJob(child.id))?.dependsOn).toEqual([parent.id])
    })

    it('withTransaction: enqueues without tx run in the ambient transaction', async () => {
      const placeOrder = async (orderId: number) => queue.enqueue(sendReceipt, { orderId }) // no tx here
      const rolledBack = open.transaction(async ({ tx, insertOrder }) => {
        await insertOrder(900)
        await withTransaction(tx, () => placeOrder(9))
        throw new Error('declined')
      })
      await expect(rolledBack).rejects.toThrow('declined')
      expect(await queue.listJobs()).toEqual([])
      await open.transaction(async ({ tx, insertOrder }) => {
        await insertOrder(1000)
        await withTransaction(tx, async () => {
          const { id } = await placeOrder(10)
          expect(await queue.getJob(id)).toBeNull() // not committed yet
          await queue.enqueueMany([{ job: sendReceipt, payload: { orderId: 11 } }])
        })
      })
      const payloads = (await queue.listJobs()).map((j) => j.payload as { orderId: number })
      expect(payloads.sort((x, y) => x.orderId - y.orderId)).toEqual([{ orderId: 10 }, { orderId: 11 }])
      expect(await orderTotals()).toEqual([1000])
    })

    // pg's client is the handle itself: there is no adapter to give a wrong value to.
    if (client.name !== 'pg')
      it('rejects what is not an open transaction of this client, saying what to pass', () => {
        for (const call of [
          () => open.adaptRoot!(),
          () => open.adaptOther!({}),
          () => open.adaptOther!(null),
        ]) {
          expect(call).toThrow(InvalidArgumentError)
          expect(call).toThrow(/needs the transaction that .* passes to its callback/)
        }
        expect(open.adaptRoot).toThrow(/so the job would be enqueued outside it/)
      })
  })
})
