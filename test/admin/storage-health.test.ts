/**
 * Storage health on the admin page and the JSON API: a session holding the xmin horizon is listed on
 * the overview and in `GET /api/v1/storage/health`, with the warning; the memory queue has neither.
 */
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryQueue } from '../../src/adapters/memory/index.js'
import { databaseUrl, describePostgres } from '../postgres/fixture.js'
import { ApiClient } from './api-client.js'
import { adapters, adminApp, Client } from './helpers.js'

const TOKEN = 'test-token-0123456789abcdef0123456789abcdef'

describe('storage health on the admin page of the memory queue', () => {
  it('answers null on the API and shows no section on the overview', async () => {
    const queue = createMemoryQueue()
    const app = await adminApp(queue, { apiTokens: [TOKEN] })
    try {
      const api = new ApiClient(app, { headers: { authorization: `Bearer ${TOKEN}` } })
      const answer = await api.get('/storage/health')
      expect(answer.status).toBe(200)
      expect(answer.body).toEqual({ storageHealth: null })
      const page = await new Client(app).get('/admin/')
      expect(page.statusCode).toBe(200)
      expect(page.body).not.toContain('Storage health')
    } finally {
      await app.close()
    }
  })
})

describePostgres('storage health on the admin page on PostgreSQL', () => {
  let app: FastifyInstance | undefined
  let close: (() => Promise<void>) | undefined
  afterEach(async () => {
    await app?.close()
    await close?.()
  })

  it('lists the session holding the horizon with the warning, on the overview and the API', async () => {
    const postgres = adapters.find((a) => a.name === 'postgres')!
    const made = await postgres.create(undefined, {
      storageHealth: { horizonWarnAfterMs: 0, deadTuplesWarnAt: 0, cacheMs: 0 },
    })
    close = made.close
    app = await adminApp(made.queue, { apiTokens: [TOKEN] })
    const holder = new pg.Client({ connectionString: databaseUrl(), application_name: 'admin-holder' })
    await holder.connect()
    try {
      await holder.query('BEGIN')
      await holder.query('SELECT txid_current()')
      const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid

      const api = new ApiClient(app, { headers: { authorization: `Bearer ${TOKEN}` } })
      const answer = await api.get('/storage/health')
      expect(answer.status).toBe(200)
      const health = answer.body.storageHealth
      expect(health.schema).toMatch(/^conveyor_admin_/)
      expect(health.tables.map((t: { name: string }) => t.name)).toEqual(
        expect.arrayContaining(['jobs', 'queues', 'schedules']),
      )
      expect(health.holders).toContainEqual(
        expect.objectContaining({
          kind: 'session',
          pid,
          name: 'admin-holder',
          state: 'idle in transaction',
          transactionStartedAt: expect.stringMatching(/Z$/),
        }),
      )
      expect(health.thresholds).toEqual({ horizonWarnAfterMs: 0, deadTuplesWarnAt: 0 })
      // With both thresholds at 0, any holder fires the rule (on a shared server, perhaps another's).
      expect(health.warnings).toHaveLength(1)
      expect(health.warnings[0].message).toMatch(
        /has held the xmin horizon for .*pg_terminate_backend|PREPARED|slot/,
      )

      const page = await new Client(app).get('/admin/')
      expect(page.statusCode).toBe(200)
      expect(page.body).toContain('<h2>Storage health</h2>')
      expect(page.body).toContain(`data-pid="${pid}"`)
      expect(page.body).toContain('admin-holder')
      expect(page.body).toMatch(/role="alert" data-rule="heldHorizon"><strong>Held xmin horizon\.<\/strong>/)
      expect(page.body).toContain(`${health.schema}.jobs`)
    } finally {
      await holder.query('ROLLBACK')
      await holder.end()
    }
  })
})
