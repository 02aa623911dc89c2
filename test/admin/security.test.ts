/**
 * The admin page's safety: the authorize gate, CSRF tokens, escaping of user data, read-only mode,
 * security headers, safe redirects, signed flash messages, and no internals in error pages.
 */
import Fastify from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { adminPlugin } from '../../src/admin/index.js'
import type { CoreQueue } from '../../src/core/create-queue.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import type { Queue } from '../../src/core/ports/queue.js'
import { adapters, adminApp, Client, flashOf } from './helpers.js'

const note = defineJob<Record<string, unknown>>({ kind: 'note.save', queue: 'notes', maxAttempts: 1 })
const XSS = '</pre><script>alert(1)</script><img src=x onerror=alert(2)>'

let queue: CoreQueue
let close: () => Promise<void>

beforeEach(async () => {
  const memory = adapters[0]
  if (!memory) throw new Error('no memory adapter')
  ;({ queue, close } = await memory.create())
})

afterEach(async () => {
  await close()
})

describe('authorize', () => {
  it('refuses with 403 and shows nothing of the data when it returns false', async () => {
    const job = await queue.enqueue(note, { secret: 'top-secret-payload' })
    const app = await adminApp(queue, { authorize: (request) => request.headers['x-user'] === 'admin' })
    for (const url of [
      '/admin/',
      '/admin/jobs',
      `/admin/jobs/${job.id}`,
      '/admin/schedules',
      '/admin/nope',
    ]) {
      const page = await app.inject(url)
      expect(page.statusCode, url).toBe(403)
      expect(page.body).not.toContain('notes')
      expect(page.body).not.toContain('top-secret-payload')
      expect(page.headers['x-frame-options']).toBe('DENY')
      expect(page.headers['set-cookie']).toBeUndefined()
    }
    const post = await app.inject({
      method: 'POST',
      url: `/admin/jobs/${job.id}/delete`,
      payload: 'confirmed=1',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(post.statusCode).toBe(403)
    expect(await queue.getJob(job.id)).not.toBeNull()
    expect((await app.inject({ url: '/admin/', headers: { 'x-user': 'admin' } })).statusCode).toBe(200)
  })

  it('answers 500 without details when it throws, and accepts async checks', async () => {
    const failing = await adminApp(queue, {
      authorize: () => {
        throw new Error('identity provider down at 10.0.0.7')
      },
    })
    const page = await failing.inject('/admin/')
    expect(page.statusCode).toBe(500)
    expect(page.body).not.toContain('10.0.0.7')
    expect(page.body).not.toMatch(/\bat \S+ \(/) // no stack frames
    const asyncApp = await adminApp(queue, { authorize: async (request) => request.url.endsWith('/jobs') })
    expect((await asyncApp.inject('/admin/jobs')).statusCode).toBe(200)
    expect((await asyncApp.inject('/admin/schedules')).statusCode).toBe(403)
  })

  it('is required, and other options are checked at registration', async () => {
    const register = (options: object) =>
      Fastify()
        .register(adminPlugin, { queue, ...options } as never)
        .ready()
    await expect(register({})).rejects.toThrow(/`authorize\(request\)` is required/)
    await expect(register({ authorize: () => true, secret: 'short' })).rejects.toThrow(
      /at least 32 characters/,
    )
    await expect(register({ authorize: () => true, pageSize: 0 })).rejects.toThrow(/pageSize/)
    await expect(register({ authorize: () => true, queue: {} })).rejects.toThrow(/must be a Conveyor queue/)
  })
})

describe('CSRF', () => {
  const form = { 'content-type': 'application/x-www-form-urlencoded' }

  it('refuses posts without a token, with a forged one, or with another browser’s', async () => {
    const job = await queue.enqueue(note, { n: 1 }, { delayMs: 60_000 })
    const app = await adminApp(queue)
    const client = new Client(app)
    await client.get(`/admin/jobs/${job.id}`)
    const seed = client.cookies.get('conveyor_admin_csrf') ?? ''
    expect(seed.length).toBeGreaterThanOrEqual(32)
    const url = `/admin/jobs/${job.id}/cancel`

    const refused = async (payload: string, cookie?: string) => {
      const response = await app.inject({
        method: 'POST',
        url,
        payload,
        headers: { ...form, ...(cookie === undefined ? {} : { cookie }) },
      })
      expect(response.statusCode, payload).toBe(403)
      expect(response.body).toContain('security token is missing or does not match')
    }
    await refused('confirmed=1', `conveyor_admin_csrf=${seed}`) // no token
    await refused(`confirmed=1&_csrf=${'A'.repeat(43)}`, `conveyor_admin_csrf=${seed}`) // forged token
    await refused(`confirmed=1&_csrf=${client.csrf()}`) // token without its cookie
    const other = new Client(app)
    await other.get('/admin/jobs')
    await refused(`confirmed=1&_csrf=${other.csrf()}`, `conveyor_admin_csrf=${seed}`) // another browser's token
    const otherPlugin = new Client(await adminApp(queue))
    await otherPlugin.get('/admin/jobs')
    await refused(
      `confirmed=1&_csrf=${otherPlugin.csrf()}`,
      `conveyor_admin_csrf=${otherPlugin.cookies.get('conveyor_admin_csrf')}`,
    ) // another secret
    const json = await app.inject({
      method: 'POST',
      url,
      payload: { confirmed: '1' },
      headers: { cookie: `conveyor_admin_csrf=${seed}` },
    })
    expect(json.statusCode).toBe(403)
    expect((await queue.getJob(job.id))?.state).toBe('scheduled')

    const crossSite = await client.post(url, { confirmed: '1' }, { 'sec-fetch-site': 'cross-site' })
    expect(crossSite.statusCode).toBe(403)
    expect((await client.post(url, { confirmed: '1' })).statusCode).toBe(303)
    expect((await queue.getJob(job.id))?.state).toBe('cancelled')
  })

  it('sets the seed cookie HttpOnly and SameSite=Strict on the plugin’s path, and keeps it', async () => {
    const app = await adminApp(queue)
    const client = new Client(app)
    const first = await client.get('/admin/')
    expect(String(first.headers['set-cookie'])).toMatch(
      /^conveyor_admin_csrf=[\w-]{43}; Path=\/admin; HttpOnly; SameSite=Strict$/,
    )
    const second = await client.get('/admin/jobs')
    expect(second.headers['set-cookie']).toBeUndefined()
  })

  it('accepts a shared secret, so tokens survive a restart or another replica', async () => {
    const secret = 'a shared secret of at least thirty-two characters'
    await queue.enqueue(note, { n: 1 })
    const client = new Client(await adminApp(queue, { secret }))
    await client.get('/admin/')
    const replica = new Client(await adminApp(queue, { secret }))
    for (const [k, v] of client.cookies) replica.cookies.set(k, v)
    replica.token = client.csrf()
    expect((await replica.post('/admin/queues/notes/resume')).statusCode).toBe(303)
  })
})

describe('escaping', () => {
  it('shows payloads, metadata, tags and errors containing markup as text', async () => {
    queue.register(note, () => {
      throw new Error(XSS)
    })
    const job = await queue.enqueue(note, { html: XSS }, { metadata: { m: XSS }, tags: ['<b>tag</b>'] })
    await queue.drain()
    const app = await adminApp(queue)
    const client = new Client(app)
    for (const url of [`/admin/jobs/${job.id}`, '/admin/jobs', `/admin/jobs?q=${encodeURIComponent(XSS)}`]) {
      const page = await client.get(url)
      expect(page.statusCode, url).toBe(200)
      expect(page.body).not.toContain('<script>alert')
      expect(page.body).not.toContain('<img src=x')
      expect(page.body).not.toContain('<b>tag')
      expect(page.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
      // The only scripts are the nonce'd one.
      expect(page.body.match(/<script/g)?.length).toBe(1)
    }
    const detail = await client.get(`/admin/jobs/${job.id}`)
    expect(detail.body).toContain(
      '&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;',
    )
    expect(detail.body).toContain('<span class="badge">&lt;b&gt;tag&lt;/b&gt;</span>')
  })
})

describe('read-only mode', () => {
  it('renders no action forms and refuses actions with 403', async () => {
    const job = await queue.enqueue(note, { n: 1 })
    const app = await adminApp(queue, { readOnly: true })
    const client = new Client(app)
    for (const url of ['/admin/', `/admin/jobs/${job.id}`, '/admin/jobs?queue=notes']) {
      const page = await client.get(url)
      expect(page.body).not.toContain('method="post"')
      expect(page.body).toContain('read-only')
    }
    // Even with a valid token (from a writable mount with the same secret and cookie).
    const secret = 'x'.repeat(32)
    const readOnly = new Client(await adminApp(queue, { readOnly: true, secret }))
    const writable = new Client(await adminApp(queue, { secret }))
    await writable.get('/admin/')
    for (const [k, v] of writable.cookies) readOnly.cookies.set(k, v)
    readOnly.token = writable.csrf()
    for (const url of [`/admin/jobs/${job.id}/delete`, '/admin/bulk/delete', '/admin/queues/notes/pause']) {
      const response = await readOnly.post(url, { confirmed: '1', queue: 'notes' })
      expect(response.statusCode, url).toBe(403)
      expect(response.body).toContain('read-only')
    }
    expect(await queue.getJob(job.id)).not.toBeNull()
  })

  it('can depend on the request', async () => {
    const app = await adminApp(queue, { readOnly: (request) => request.headers['x-role'] !== 'operator' })
    await queue.enqueue(note, { n: 1 })
    expect((await app.inject('/admin/')).body).not.toContain('method="post"')
    expect((await app.inject({ url: '/admin/', headers: { 'x-role': 'operator' } })).body).toContain(
      'method="post"',
    )
  })
})

describe('headers, redirects, flash and errors', () => {
  it('sends a strict CSP whose nonce matches the page’s only script and style, and the other headers', async () => {
    const app = await adminApp(queue)
    for (const url of ['/admin/', '/admin/jobs?state=nope', '/admin/missing']) {
      const page = await app.inject(url)
      const csp = String(page.headers['content-security-policy'])
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1]
      expect(nonce, url).toBeTruthy()
      expect(csp).toContain("default-src 'none'")
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).not.toContain('unsafe-eval')
      expect(csp).not.toContain('unsafe-inline')
      expect(page.body).toContain(`<script nonce="${nonce}">`)
      expect(page.body).toContain(`<style nonce="${nonce}">`)
      expect(page.body).not.toMatch(/\son[a-z]+=/i) // no inline event handlers
      expect(page.headers['x-frame-options']).toBe('DENY')
      expect(page.headers['x-content-type-options']).toBe('nosniff')
      expect(page.headers['referrer-policy']).toBe('same-origin')
      expect(page.headers['cache-control']).toBe('no-store')
    }
  })

  it('redirects only within the plugin', async () => {
    await queue.enqueue(note, { n: 1 })
    const client = new Client(await adminApp(queue))
    await client.get('/admin/')
    for (const back of ['//evil.example/x', 'https://evil.example', '/\\evil.example', 'jobs', '/ok?x=1']) {
      const response = await client.post('/admin/queues/notes/resume', { back })
      expect(response.headers.location, back).toBe(back === '/ok?x=1' ? '/admin/ok?x=1' : '/admin/')
    }
  })

  it('shows a flash message once, and ignores a forged one', async () => {
    await queue.enqueue(note, { n: 1 })
    const app = await adminApp(queue)
    const client = new Client(app)
    await client.get('/admin/')
    expect((await client.act('/admin/queues/notes/resume')).flash).toBe('Resumed queue notes.')
    expect(flashOf((await client.get('/admin/')).body)).toBeNull()
    const forged = Buffer.from(
      JSON.stringify({ k: 'ok', t: 'Your session expired: log in at evil.example' }),
    ).toString('base64url')
    const page = await app.inject({
      url: '/admin/',
      headers: { cookie: `conveyor_admin_flash=${forged}.${'A'.repeat(43)}` },
    })
    expect(flashOf(page.body)).toBeNull()
  })

  it('never shows internals of a failing queue, and refuses huge forms', async () => {
    const broken = new Proxy(queue, {
      get(target, key, receiver) {
        if (key === 'listJobs') return () => Promise.reject(new Error('connection to 10.1.2.3:5432 refused'))
        return Reflect.get(target, key, receiver)
      },
    }) as Queue
    const app = await adminApp(broken as CoreQueue)
    const page = await app.inject('/admin/jobs')
    expect(page.statusCode).toBe(500)
    expect(page.body).toContain('The request failed. The server log has the details.')
    expect(page.body).not.toContain('10.1.2.3')
    expect(page.body).not.toMatch(/\bat \S+ \(/)
    const client = new Client(await adminApp(queue))
    await client.get('/admin/jobs')
    const huge = await client.post('/admin/bulk/delete', { q: 'x'.repeat(20_000) })
    expect(huge.statusCode).toBe(413)
  })
})
