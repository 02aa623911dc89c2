/**
 * The JSON API's guard and limits on every adapter: API tokens and `authorize` (401 otherwise),
 * CSRF for browser sessions, cross-site refusal, read-only mode, malformed and oversize requests,
 * server errors without internals, and mounting under any prefix (also in the standalone server).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createAdminServer } from '../../src/admin/index.js'
import type { CoreQueue } from '../../src/core/create-queue.js'
import { StorageUnavailableError } from '../../src/core/domain/errors.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { ApiClient } from './api-client.js'
import { adapters, adminApp, Client } from './helpers.js'

const TOKEN = 'test-token-0123456789abcdef0123456789abcdef'
const OTHER = 'another-token-0123456789abcdef0123456789ab'
const note = defineJob<Record<string, unknown>>({ kind: 'note.save', queue: 'notes' })

/** Every route that changes state, with a body it accepts. */
const CHANGES = (id: string): [string, string, unknown?][] => [
  ['PATCH', `/jobs/${id}`, { priority: 1 }],
  ['POST', `/jobs/${id}/retry`],
  ['POST', `/jobs/${id}/run`],
  ['POST', `/jobs/${id}/cancel`],
  ['DELETE', `/jobs/${id}`],
  ['POST', '/jobs/actions/delete', { queue: 'notes' }],
  ['POST', '/queues/notes/pause'],
  ['POST', '/queues/notes/resume'],
  ['PUT', '/schedules/s1', { expression: '@daily', kind: 'note.save', payload: {} }],
  ['DELETE', '/schedules/s1'],
]

for (const adapter of adapters) {
  describe.skipIf(adapter.skip !== null)(`admin API guard and limits on ${adapter.name}`, () => {
    let queue: CoreQueue
    let close: () => Promise<void>

    beforeEach(async () => {
      ;({ queue, close } = await adapter.create())
      queue.register(note, () => {})
    })

    afterEach(async () => {
      await close()
    })

    it('lets in a valid API token or an authorized request; 401 in the error shape otherwise', async () => {
      const app = await adminApp(queue, {
        apiTokens: [TOKEN, OTHER],
        authorize: (request) => request.headers['x-user'] === 'ops',
      })
      const call = (headers: Record<string, string>) => new ApiClient(app, { headers }).get('/queues')
      const refusedHeaders: Record<string, string>[] = [
        {},
        { authorization: 'Bearer wrong-token' },
        { authorization: `Basic ${TOKEN}` },
        { authorization: `Bearer ${TOKEN}x` },
      ]
      for (const headers of refusedHeaders) {
        const refused = await call(headers)
        expect(refused.status, JSON.stringify(headers)).toBe(401)
        expect(refused.body.error.code).toBe('UNAUTHORIZED')
        expect(refused.headers['www-authenticate']).toBe('Bearer realm="conveyor"')
      }
      // Nothing is revealed before authorization, not even which routes exist.
      const unknownRoute = await app.inject({ url: '/admin/api/v1/nothing/here' })
      expect(unknownRoute.statusCode).toBe(401)
      expect(unknownRoute.json().error.code).toBe('UNAUTHORIZED')
      expect((await call({ authorization: `Bearer ${TOKEN}` })).status).toBe(200)
      expect((await call({ authorization: `bearer ${OTHER}` })).status).toBe(200)
      expect((await call({ 'x-user': 'ops' })).status).toBe(200)
      // A token opens the API only: the HTML pages still ask `authorize`.
      const page = await app.inject({ url: '/admin/', headers: { authorization: `Bearer ${TOKEN}` } })
      expect(page.statusCode).toBe(403)
      expect(page.headers['content-type']).toMatch(/^text\/html/)
      await app.close()
    })

    it('answers 500 without details when authorize throws, and checks tokens with a function', async () => {
      const app = await adminApp(queue, {
        apiTokens: (token) => token === 'from-my-vault',
        authorize: () => {
          throw new Error('session store at redis://secret-host is down')
        },
      })
      const api = new ApiClient(app, { headers: { authorization: 'Bearer from-my-vault' } })
      expect((await api.get('/queues')).status).toBe(200) // (and reads the document for the next client)
      const failed = await new ApiClient(app).get('/queues')
      expect(failed.status).toBe(500)
      expect(failed.body.error.code).toBe('INTERNAL_ERROR')
      expect(failed.raw.body).not.toContain('secret-host')
      await app.close()
    })

    it('needs the CSRF header on changes from a browser session; a bearer token needs none', async () => {
      const job = await queue.enqueue(note, { n: 1 }, { delayMs: 60_000 })
      const app = await adminApp(queue, { apiTokens: [TOKEN] })
      const browser = new Client(app)
      const session = await browser.get('/admin/api/v1/csrf-token')
      expect(session.statusCode).toBe(200)
      const { token, header } = JSON.parse(session.body) as { token: string; header: string }
      expect(header).toBe('x-csrf-token')
      const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
      const as = (headers: Record<string, string>) => new ApiClient(app, { headers })

      const refusals: [Record<string, string>, string][] = [
        [{ cookie }, 'CSRF_TOKEN_INVALID'], // no header
        [{ cookie, 'x-csrf-token': `${token.slice(0, -2)}AA` }, 'CSRF_TOKEN_INVALID'], // forged
        [{ 'x-csrf-token': token }, 'CSRF_TOKEN_INVALID'], // no cookie
        [
          { cookie: 'conveyor_admin_csrf=another-browsers-seed-0123456789abcdef', 'x-csrf-token': token },
          'CSRF_TOKEN_INVALID',
        ],
        [{ cookie, 'x-csrf-token': token, 'sec-fetch-site': 'cross-site' }, 'CROSS_SITE_REFUSED'],
      ]
      for (const [headers, code] of refusals) {
        const refused = await as(headers).post(`/jobs/${job.id}/run`)
        expect(refused.status, JSON.stringify(headers)).toBe(403)
        expect(refused.body.error.code).toBe(code)
      }
      expect((await queue.getJob(job.id))?.state).toBe('scheduled')
      // Reading needs no token.
      expect((await as({ cookie }).get(`/jobs/${job.id}`)).status).toBe(200)

      const ran = await as({ cookie, 'x-csrf-token': token, 'sec-fetch-site': 'same-origin' }).post(
        `/jobs/${job.id}/run`,
      )
      expect(ran.status).toBe(200)
      expect(ran.body.job.state).toBe('available')
      // The HTML pages' token is the same token.
      await browser.get(`/admin/jobs/${job.id}`)
      expect(browser.csrf()).toBe(token)

      const machine = await as({ authorization: `Bearer ${TOKEN}`, 'sec-fetch-site': 'cross-site' }).post(
        `/jobs/${job.id}/cancel`,
      )
      expect(machine.status).toBe(200)
      expect(machine.body.job.state).toBe('cancelled')
      await app.close()
    })

    it('refuses every change with 403 READ_ONLY in read-only mode, and still answers reads', async () => {
      const job = await queue.enqueue(note, { n: 1 })
      const app = await adminApp(queue, { apiTokens: [TOKEN], readOnly: true })
      const api = new ApiClient(app, { headers: { authorization: `Bearer ${TOKEN}` } })
      for (const [method, path, body] of CHANGES(job.id)) {
        const refused = await api.call(method, path, body === undefined ? {} : { body })
        expect(refused.status, `${method} ${path}`).toBe(403)
        expect(refused.body.error.code).toBe('READ_ONLY')
      }
      expect(await queue.getJob(job.id)).toMatchObject({ state: 'available', priority: 0 })
      expect((await queue.stats())[0]?.paused).toBe(false)
      expect((await api.get('/jobs')).body.jobs).toHaveLength(1)
      expect((await api.get('/csrf-token')).body.readOnly).toBe(true)
      await app.close()
    })

    it('answers malformed, unsupported and oversize requests in the error shape', async () => {
      const job = await queue.enqueue(note, { n: 1 })
      const app = await adminApp(queue, { apiTokens: [TOKEN] })
      const api = new ApiClient(app, { headers: { authorization: `Bearer ${TOKEN}` } })
      const send = (payload: string, contentType: string) =>
        api.patch(`/jobs/${job.id}`, { payload, headers: { 'content-type': contentType } })

      const cases: [Promise<unknown>, number, string][] = [
        [send('{"priority": 1', 'application/json'), 400, 'INVALID_JSON'],
        [send('', 'application/json'), 400, 'INVALID_JSON'],
        [send('{"priority": 1}', 'text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
        [send('priority=1', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
        [
          send(JSON.stringify({ payload: { text: 'x'.repeat(70_000) } }), 'application/json'),
          413,
          'BODY_TOO_LARGE',
        ],
        [api.get(`/jobs?q=${'x'.repeat(5000)}`), 414, 'URI_TOO_LONG'],
        [api.get('/nothing/here'), 404, 'ROUTE_NOT_FOUND'],
        [api.post('/jobs/actions/explode', { body: { queue: 'notes' } }), 404, 'ROUTE_NOT_FOUND'],
        [api.get('/jobs/not-a-number'), 400, 'VALIDATION_FAILED'],
      ]
      for (const [pending, status, code] of cases) {
        const answer = (await pending) as {
          status: number
          body: { error: { code: string; message: string } }
        }
        expect(answer.status, code).toBe(status)
        expect(answer.body.error.code).toBe(code)
        expect(answer.body.error.message.length).toBeGreaterThan(10)
      }
      expect((await queue.getJob(job.id))?.priority).toBe(0)
      await app.close()
    })

    it('never shows internals of a failing queue; an unreachable store answers 503', async () => {
      const failing = (error: Error): CoreQueue =>
        new Proxy(queue, {
          get(target, key, receiver) {
            if (key === 'listJobs' || key === 'stats') return () => Promise.reject(error)
            return Reflect.get(target, key, receiver)
          },
        })
      const broken = await adminApp(failing(new Error('password=hunter2 at db.internal')), {
        apiTokens: [TOKEN],
      })
      const api = new ApiClient(broken, { headers: { authorization: `Bearer ${TOKEN}` } })
      for (const path of ['/jobs', '/queues']) {
        const answer = await api.get(path)
        expect(answer.status).toBe(500)
        expect(answer.body.error).toEqual({
          code: 'INTERNAL_ERROR',
          message: 'The request failed. The server log has the details.',
        })
        expect(answer.raw.body).not.toContain('hunter2')
      }
      await broken.close()
      const down = await adminApp(
        failing(new StorageUnavailableError('connect ECONNREFUSED 10.0.0.7:5432')),
        {
          apiTokens: [TOKEN],
        },
      )
      const answer = await new ApiClient(down, { headers: { authorization: `Bearer ${TOKEN}` } }).get('/jobs')
      expect(answer.status).toBe(503)
      expect(answer.body.error.code).toBe('STORAGE_UNAVAILABLE')
      expect(answer.raw.body).not.toContain('10.0.0.7')
      await down.close()
    })

    it('works under any prefix, and in the standalone server with basic authentication', async () => {
      for (const prefix of ['/', '/ops/admin']) {
        const app = await adminApp(queue, { prefix, apiTokens: [TOKEN] })
        const api = new ApiClient(app, {
          prefix: prefix === '/' ? '' : prefix,
          headers: { authorization: `Bearer ${TOKEN}` },
        })
        expect((await api.get('/queues')).status).toBe(200)
        expect((await api.document()).servers[0]?.url).toBe(`${prefix === '/' ? '' : prefix}/api/v1`)
        await app.close()
      }
      const server = createAdminServer({
        queue,
        basicAuth: { username: 'ops', password: 'correct horse' },
        apiTokens: [TOKEN],
        prefix: '/admin',
      })
      await server.ready()
      const basic = `Basic ${Buffer.from('ops:correct horse').toString('base64')}`
      expect((await new ApiClient(server, { headers: { authorization: basic } }).get('/queues')).status).toBe(
        200,
      )
      expect(
        (await new ApiClient(server, { headers: { authorization: `Bearer ${TOKEN}` } }).get('/queues'))
          .status,
      ).toBe(200)
      const wrong = await server.inject({
        url: '/admin/api/v1/queues',
        headers: { authorization: 'Bearer nope' },
      })
      expect(wrong.statusCode).toBe(401)
      // The token opens only the API, not the pages.
      const page = await server.inject({ url: '/admin/', headers: { authorization: `Bearer ${TOKEN}` } })
      expect(page.statusCode).toBe(401)
      await server.close()
    })
  })
}
