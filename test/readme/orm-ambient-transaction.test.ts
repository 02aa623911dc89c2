import { defineJob } from 'conveyor-jobs'
import { adaptKnexTransaction, createPostgresQueue, withTransaction } from 'conveyor-jobs/postgres'
import knex from 'knex'
import { expect } from 'vitest'
import { exampleDatabase, testWithPostgres } from './example-database.js'

const sendReceipt = defineJob<{ orderId: number }>({ kind: 'send-receipt' })

testWithPostgres('withTransaction: enqueues deep in the call tree join the transaction', async () => {
  const { connectionString, schema } = exampleDatabase()
  const queue = createPostgresQueue({ connectionString, schema })
  await queue.migrate()
  const db = knex({ client: 'pg', connection: connectionString, searchPath: [schema] })
  await db.schema.createTable('orders', (t) => {
    t.increments('id')
    t.integer('total')
  })

  // Producer code that knows nothing of Knex or of the transaction:
  const notifyCustomer = (orderId: number) => queue.enqueue(sendReceipt, { orderId })

  async function placeOrder(total: number, fail: boolean) {
    await db.transaction((trx) =>
      withTransaction(adaptKnexTransaction(trx), async () => {
        const [order] = await trx('orders').insert({ total }).returning('id')
        await notifyCustomer(order.id) // runs in trx: no { tx } needed
        if (fail) throw new Error('payment declined') // rolls back the order and its job
      }),
    )
  }

  await placeOrder(100, false)
  await expect(placeOrder(200, true)).rejects.toThrow('payment declined')

  const jobs = await queue.listJobs({ kind: 'send-receipt' })
  expect(jobs.map((j) => j.payload)).toEqual([{ orderId: 1 }]) // the rolled-back order has no job

  await queue.shutdown()
  await db.destroy()
})
