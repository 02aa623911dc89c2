import Fastify from 'fastify'
import { Registry } from 'prom-client'
import { expect, it } from 'vitest'
import { createMemoryQueue } from '../../src/adapters/memory/index.js'
import { adminPlugin } from '../../src/admin/index.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { createMetrics, metricsHandler } from '../../src/instrumentation/index.js'

it('serves Prometheus metrics at /metrics behind authorize', async () => {
  const queue = createMemoryQueue()
  const registry = new Registry()
  createMetrics({ queue, registry })
  await queue.enqueue(defineJob({ kind: 'ping', queue: 'pings' }), {})
  const app = Fastify()
  await app.register(adminPlugin, {
    prefix: '/admin',
    queue,
    authorize: (request) => request.headers.authorization === 'Bearer scrape',
    metrics: metricsHandler(registry),
  })
  const ok = await app.inject({ url: '/admin/metrics', headers: { authorization: 'Bearer scrape' } })
  expect(ok.statusCode).toBe(200)
  expect(ok.headers['content-type']).toContain('text/plain')
  expect(ok.body).toContain('conveyor_jobs_enqueued_total{queue="pings",kind="ping"} 1')
  expect(ok.body).toContain('conveyor_jobs{queue="pings",state="available"} 1')
  expect((await app.inject({ url: '/admin/metrics' })).statusCode).toBe(403)
  await app.close()
})

it('lets a scraper in with an API token, without authorize (metrics are read-only)', async () => {
  const queue = createMemoryQueue()
  const registry = new Registry()
  createMetrics({ queue, registry })
  const app = Fastify()
  const token = 'scrape-token-0123456789abcdef0123456789abcdef'
  await app.register(adminPlugin, {
    prefix: '/admin',
    queue,
    authorize: () => false,
    apiTokens: [token],
    metrics: metricsHandler(registry),
  })
  const ok = await app.inject({ url: '/admin/metrics', headers: { authorization: `Bearer ${token}` } })
  expect(ok.statusCode).toBe(200)
  expect(ok.body).toContain('conveyor_jobs_enqueued_total')
  for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789abcdef0123456789ab' }])
    expect((await app.inject({ url: '/admin/metrics', headers })).statusCode).toBe(403)
  // A token opens the metrics and the API, not the pages.
  expect(
    (await app.inject({ url: '/admin/', headers: { authorization: `Bearer ${token}` } })).statusCode,
  ).toBe(403)
  await app.close()
})
