import { defineJob } from 'conveyor-jobs'
import { adaptKnexTransaction, createPostgresQueue } from 'conveyor-jobs/postgres'
import knex from 'knex'
import { expect } from 'vitest'
import { exampleDatabase, testWithPostgres } from './example-database.js'

const sendReceipt = defineJob<{ orderId: number }>({ kind: 'send-receipt' })

testWithPostgres('Knex: the job exists if and only if the transaction commits', async () => {
  const { connectionString, schema } = exampleDatabase()
  const queue = createPostgresQueue({ connectionString, schema })
  await queue.migrate()
  const db = knex({ client: 'pg', connection: connectionString, searchPath: [schema] })
  await db.schema.createTable('orders', (t) => {
    t.increments('id')
    t.integer('total')
  })

  async function placeOrder(total: number, fail: boolean) {
    await db.transaction(async (trx) => {
      const [order] = await trx('orders').insert({ total }).returning('id')
      await queue.enqueue(sendReceipt, { orderId: order.id }, { tx: adaptKnexTransaction(trx) })
      if (fail) throw new Error('payment declined') // rolls back the order and its job
    })
  }

  await placeOrder(100, false)
  await expect(placeOrder(200, true)).rejects.toThrow('payment declined')

  const jobs = await queue.listJobs({ kind: 'send-receipt' })
  expect(jobs.map((j) => j.payload)).toEqual([{ orderId: 1 }]) // the rolled-back order has no job
  expect(await db('orders').pluck('total')).toEqual([100])

  await queue.shutdown()
  await db.destroy()
})
