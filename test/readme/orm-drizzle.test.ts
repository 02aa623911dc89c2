import { defineJob } from 'conveyor-jobs'
import { adaptDrizzleTransaction, createPostgresQueue } from 'conveyor-jobs/postgres'
import { drizzle } from 'drizzle-orm/node-postgres'
import { integer, pgTable, serial } from 'drizzle-orm/pg-core'
import pg from 'pg'
import { expect } from 'vitest'
import { exampleDatabase, testWithPostgres } from './example-database.js'

const sendReceipt = defineJob<{ orderId: number }>({ kind: 'send-receipt' })
const orders = pgTable('orders', { id: serial('id').primaryKey(), total: integer('total') })

testWithPostgres('Drizzle: the job exists if and only if the transaction commits', async () => {
  const { connectionString, schema } = exampleDatabase()
  const queue = createPostgresQueue({ connectionString, schema })
  await queue.migrate()
  const pool = new pg.Pool({ connectionString, options: `-c search_path=${schema}` })
  const db = drizzle(pool)
  await pool.query('CREATE TABLE orders (id serial PRIMARY KEY, total int)')

  async function placeOrder(total: number, fail: boolean) {
    await db.transaction(async (tx) => {
      const [order] = await tx.insert(orders).values({ total }).returning({ id: orders.id })
      await queue.enqueue(sendReceipt, { orderId: order!.id }, { tx: adaptDrizzleTransaction(tx) })
      if (fail) throw new Error('payment declined') // rolls back the order and its job
    })
  }

  await placeOrder(100, false)
  await expect(placeOrder(200, true)).rejects.toThrow('payment declined')

  const jobs = await queue.listJobs({ kind: 'send-receipt' })
  expect(jobs.map((j) => j.payload)).toEqual([{ orderId: 1 }]) // the rolled-back order has no job
  expect(await db.select({ total: orders.total }).from(orders)).toEqual([{ total: 100 }])

  await queue.shutdown()
  await pool.end()
})
