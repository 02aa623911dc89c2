import { defineJob } from 'conveyor-jobs'
import { createPostgresQueue } from 'conveyor-jobs/postgres'
import pg from 'pg'
import { expect } from 'vitest'
import { exampleDatabase, testWithPostgres } from './example-database.js'

const resizeImage = defineJob<{ url: string; width: number }>({ kind: 'resize-image', maxAttempts: 5 })

testWithPostgres('a Postgres worker runs enqueued jobs', async () => {
  const { connectionString, schema } = exampleDatabase() // e.g. process.env.DATABASE_URL and 'conveyor'
  const pool = new pg.Pool({ connectionString })
  const queue = createPostgresQueue({ pool, schema, queues: { default: { concurrency: 10 } } })
  await queue.migrate() // once per deploy; safe when many processes start at once

  const done = new Promise<string>((resolve) => {
    queue.register(resizeImage, async ({ url, width }, ctx) => {
      ctx.log.info('resizing', { url, width })
      resolve(`${url}@${width}`)
    })
  })
  await queue.start()

  await queue.enqueue(resizeImage, { url: 'https://example.com/a.png', width: 640 })
  expect(await done).toBe('https://example.com/a.png@640')

  await queue.shutdown() // stops claiming, lets running jobs finish, returns the rest
  await pool.end()
})
