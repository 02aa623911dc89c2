import { defineJob } from 'conveyor-jobs'
import { adaptKyselyTransaction, createPostgresQueue } from 'conveyor-jobs/postgres'
import { type Generated, Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { expect } from 'vitest'
import { exampleDatabase, testWithPostgres } from './example-database.js'

const sendReceipt = defineJob<{ orderId: number }>({ kind: 'send-receipt' })

interface Database {
  orders: { id: Generated<number>; total: number }
}

testWithPostgres('Kysely: the job exists if and only if the transaction commits', async () => {
  const { connectionString, schema } = exampleDatabase()
  const queue = createPostgresQueue({ connectionString, schema })
  await queue.migrate()
  const pool = new pg.Pool({ connectionString, options: `-c search_path=${schema}` })
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  await db.schema
    .createTable('orders')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('total', 'integer')
    .execute()

  async function placeOrder(total: number, fail: boolean) {
    await db.transaction().execute(async (trx) => {
      const order = await trx.insertInto('orders').values({ total }).returning('id').executeTakeFirstOrThrow()
      await queue.enqueue(sendReceipt, { orderId: order.id }, { tx: adaptKyselyTransaction(trx) })
      if (fail) throw new Error('payment declined') // rolls back the order and its job
    })
  }

  await placeOrder(100, false)
  await expect(placeOrder(200, true)).rejects.toThrow('payment declined')

  const jobs = await queue.listJobs({ kind: 'send-receipt' })
  expect(jobs.map((j) => j.payload)).toEqual([{ orderId: 1 }]) // the rolled-back order has no job
  expect(await db.selectFrom('orders').select('total').execute()).toEqual([{ total: 100 }])

  await queue.shutdown()
  await db.destroy()
})
