// The application's tests (node:test): a producer unit test on the memory queue, a Postgres worker
// (DATABASE_URL and CONVEYOR_SCHEMA given by the package test) and the admin page in its own Fastify.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { adminPlugin } from 'conveyor-jobs/admin'
import { createMemoryQueue } from 'conveyor-jobs/memory'
import { createPostgresQueue } from 'conveyor-jobs/postgres'
import Fastify from 'fastify'
import pg from 'pg'
import { sendWelcome, signUp } from './app.js'

test('signing up queues a welcome email one minute later', async () => {
  const queue = createMemoryQueue()
  await signUp(queue, { id: 7, email: 'ada@example.com' })
  queue.assert.queued(sendWelcome, { userId: 7 }, { runAt: queue.clock.now() + 60_000 })
  queue.assert.queuedTotal(1)

  const sent: string[] = []
  queue.register(sendWelcome, async ({ email }) => {
    sent.push(email)
  })
  queue.clock.advance(60_000)
  assert.equal((await queue.drain()).succeeded, 1)
  assert.deepEqual(sent, ['ada@example.com'])
  queue.assert.empty()
})

test('a Postgres worker runs an enqueued job', async (t) => {
  const connectionString = process.env.DATABASE_URL
  const schema = process.env.CONVEYOR_SCHEMA
  if (!connectionString || !schema) return t.skip('no PostgreSQL')
  const pool = new pg.Pool({ connectionString })
  const queue = createPostgresQueue({ pool, schema })
  await queue.migrate()
  const done = new Promise<string>((resolve) => {
    queue.register(sendWelcome, async ({ email }) => resolve(email))
  })
  await queue.start()
  await queue.enqueue(sendWelcome, { userId: 1, email: 'pg@example.com' })
  assert.equal(await done, 'pg@example.com')
  await queue.shutdown()
  await pool.end()
})

test('the admin page mounts in the application Fastify', async () => {
  const app = Fastify()
  await app.register(adminPlugin, { prefix: '/admin', queue: createMemoryQueue(), authorize: () => true })
  const page = await app.inject({ url: '/admin/' })
  assert.equal(page.statusCode, 200)
  await app.close()
})
