import { defineJob } from 'conveyor-jobs'
import { createPostgresQueue } from 'conveyor-jobs/postgres'
import pg from 'pg'
import { expect } from 'vitest'
import { exampleDatabase, testWithPostgres } from './example-database.js'

const sendReceipt = defineJob<{ orderId: number }>({ kind: 'send-receipt' })

testWithPostgres('the job exists if and only if the transaction commits', async () => {
  const { connectionString, schema } = exampleDatabase()
  const pool = new pg.Pool({ connectionString })
  const queue = createPostgresQueue({ pool, schema })
  await queue.migrate()
  await pool.query(`CREATE TABLE ${schema}.orders (id serial PRIMARY KEY, total int)`)

  async function placeOrder(total: number, fail: boolean) {
    const client = await pool.connect()
    try {
      await client.query('BEGIN')
      const { rows } = await client.query(`INSERT INTO ${schema}.orders (total) VALUES ($1) RETURNING id`, [
        total,
      ])
      await queue.enqueue(sendReceipt, { orderId: rows[0].id }, { tx: client }) // same transaction
      if (fail) throw new Error('payment declined')
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK')
      throw error
    } finally {
      client.release()
    }
  }

  await placeOrder(100, false)
  await expect(placeOrder(200, true)).rejects.toThrow('payment declined')

  const jobs = await queue.listJobs({ kind: 'send-receipt' })
  expect(jobs.map((j) => j.payload)).toEqual([{ orderId: 1 }]) // the rolled-back order has no job

  await queue.shutdown()
  await pool.end()
})
