import { defineJob } from 'conveyor-jobs'
import { adminPlugin } from 'conveyor-jobs/admin'
import { createMemoryQueue } from 'conveyor-jobs/memory'
import Fastify from 'fastify'
import { expect, test } from 'vitest'

test('other services manage jobs through the JSON API with a token', async () => {
  const sendEmail = defineJob<{ to: string }>({ kind: 'send-email' })
  const queue = createMemoryQueue() // or your createPostgresQueue(...)
  const token = 'a-long-random-token-for-the-billing-service' // from your secret store
  const app = Fastify()
  await app.register(adminPlugin, {
    prefix: '/admin',
    queue,
    authorize: (request) => request.headers['x-user-role'] === 'ops', // people (pages and API)
    apiTokens: [token], // machines
    jobs: [sendEmail], // validates payloads written through the API
  })
  const job = await queue.enqueue(sendEmail, { to: 'a@b.c' }, { delayMs: 60_000 })
  const headers = { authorization: `Bearer ${token}` }

  const found = await app.inject({ url: '/admin/api/v1/jobs?kind=send-email&state=scheduled', headers })
  expect(found.json().jobs[0].id).toBe(job.id)

  const changed = await app.inject({
    method: 'PATCH',
    url: `/admin/api/v1/jobs/${job.id}`,
    headers,
    payload: { priority: -5, payload: { to: 'b@c.d' } },
  })
  expect(changed.json().job).toMatchObject({ priority: -5, payload: { to: 'b@c.d' } })

  const missing = await app.inject({ method: 'POST', url: '/admin/api/v1/jobs/999/retry', headers })
  expect(missing.statusCode).toBe(404)
  expect(missing.json().error.code).toBe('JOB_NOT_FOUND')
  await app.close()
})
