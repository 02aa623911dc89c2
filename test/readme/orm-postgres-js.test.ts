import { defineJob } from 'conveyor-jobs'
import { adaptPostgresJsTransaction, createPostgresQueue } from 'conveyor-jobs/postgres'
import postgres from 'postgres'
import { expect } from 'vitest'
import { exampleDatabase, testWithPostgres } from './example-database.js'

const sendReceipt = defineJob<{ orderId: number }>({ kind: 'send-receipt' })

testWithPostgres('postgres.js: the job exists if and only if the transaction commits', async () => {
  const { connectionString, schema } = exampleDatabase()
  const queue = createPostgresQueue({ connectionString, schema })
  await queue.migrate()
  const sql = postgres(connectionString, { connection: { search_path: schema } })
  await sql`CREATE TABLE orders (id serial PRIMARY KEY, total int)`

  async function placeOrder(total: number, fail: boolean) {
    await sql.begin(async (sql) => {
      const [order] = await sql`INSERT INTO orders ${sql({ total })} RETURNING id`
      await queue.enqueue(sendReceipt, { orderId: order!.id }, { tx: adaptPostgresJsTransaction(sql) })
      if (fail) throw new Error('payment declined') // rolls back the order and its job
    })
  }

  await placeOrder(100, false)
  await expect(placeOrder(200, true)).rejects.toThrow('payment declined')

  const jobs = await queue.listJobs({ kind: 'send-receipt' })
  expect(jobs.map((j) => j.payload)).toEqual([{ orderId: 1 }]) // the rolled-back order has no job
  expect(await sql`SELECT total FROM orders`).toEqual([{ total: 100 }])

  await queue.shutdown()
  await sql.end()
})
