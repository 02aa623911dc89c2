// The application's tests (node:test), loading Conveyor with require(): a producer unit test on the
// memory queue, a Postgres worker (DATABASE_URL and CONVEYOR_SCHEMA given by the package test) and
// the admin page in its own Fastify.
import assert = require('node:assert/strict')
import test = require('node:test')
import admin = require('conveyor-jobs/admin')
import memory = require('conveyor-jobs/memory')
import postgres = require('conveyor-jobs/postgres')
import fastify = require('fastify')
import pg = require('pg')
import app = require('./app.js')

test('signing up queues a welcome email one minute later', async () => {
  const queue = memory.createMemoryQueue()
  await app.signUp(queue, { id: 7, email: 'ada@example.com' })
  queue.assert.queued(app.sendWelcome, { userId: 7 }, { runAt: queue.clock.now() + 60_000 })
  queue.assert.queuedTotal(1)

  const sent: string[] = []
  queue.register(app.sendWelcome, async ({ email }) => {
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
  const queue = postgres.createPostgresQueue({ pool, schema })
  await queue.migrate()
  const done = new Promise<string>((resolve) => {
    queue.register(app.sendWelcome, async ({ email }) => resolve(email))
  })
  await queue.start()
  await queue.enqueue(app.sendWelcome, { userId: 1, email: 'pg@example.com' })
  assert.equal(await done, 'pg@example.com')
  await queue.shutdown()
  await pool.end()
})

test('the admin page mounts in the application Fastify', async () => {
  const server = fastify()
  await server.register(admin.adminPlugin, {
    prefix: '/admin',
    queue: memory.createMemoryQueue(),
    authorize: () => true,
  })
  const page = await server.inject({ url: '/admin/' })
  assert.equal(page.statusCode, 200)
  await server.close()
})
