import { ADMIN_MAX_PARAM_LENGTH, adminPlugin } from 'conveyor-jobs/admin'
import { createMemoryQueue } from 'conveyor-jobs/memory'
import Fastify from 'fastify'
import { expect, test } from 'vitest'

test('the admin page mounts under a prefix behind your authorization', async () => {
  const queue = createMemoryQueue() // or your createPostgresQueue(...)
  const app = Fastify({ maxParamLength: ADMIN_MAX_PARAM_LENGTH }) // names up to 128 chars in paths
  await app.register(adminPlugin, {
    prefix: '/admin',
    queue,
    authorize: (request) => request.headers['x-user-role'] === 'ops', // your auth
    readOnly: false,
  })

  const page = await app.inject({ url: '/admin/', headers: { 'x-user-role': 'ops' } })
  expect(page.statusCode).toBe(200)
  expect((await app.inject({ url: '/admin/' })).statusCode).toBe(403)
  await app.close()
})
