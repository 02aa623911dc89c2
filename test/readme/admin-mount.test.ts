import { ADMIN_MAX_PARAM_LENGTH, adminPlugin } from 'conveyor-jobs/admin'
import { createMemoryQueue } from 'conveyor-jobs/memory'
import Fastify from 'fastify'
import { expect, test } from 'vitest'

test('the admin page mounts under a prefix behind your authorization', async () => {
  const queue = createMemoryQueue() // or your createPostgresQueue(...)
  // Names of up to 128 characters in paths (384 once percent-encoded); Fastify < 5.5: top-level maxParamLength.
  const app = Fastify({ routerOptions: { maxParamLength: ADMIN_MAX_PARAM_LENGTH } })
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
