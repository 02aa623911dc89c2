/**
 * Admin security, property-based, on both adapters: every route the plugin registers (found with an
 * `onRoute` hook, so routes added later are covered too) refuses unauthorized requests; state
 * changes without the browser's own CSRF token, or from another site, are refused and change
 * nothing; generated markup, quote-breaking and `javascript:` strings in payloads, errors, logs,
 * tags and filters render as inert text (checked by parsing the HTML); SQL-injection strings in
 * filters, ids and queue names get a 4xx or a harmless answer with every row intact; huge query
 * strings and bodies are refused without a 500; `back` never redirects off the admin page.
 * The fixed cases live in test/admin/security.test.ts; this file feeds generated attacks.
 */

import fc from 'fast-check'
import Fastify, { type FastifyInstance, type LightMyRequestResponse, type RouteOptions } from 'fastify'
import { type DefaultTreeAdapterTypes, parse } from 'parse5'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminPlugin } from '../../src/admin/index.js'
import type { CoreQueue } from '../../src/core/create-queue.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { adapters, Client } from '../admin/helpers.js'
import { reliabilityScale, writeScenarioResult } from '../support/reliability-results.js'
import { attackString, numRuns } from './arbitraries.js'

const PREFIX = '/admin'
const SECRET = 'a shared secret of at least thirty-two characters!'
const API_TOKEN = 'b'.repeat(40)
const startedAt = performance.now()
const figures = {
  requests: 0,
  refused: 0,
  pagesParsed: 0,
  injectedElements: 0,
  serverErrors: 0,
  partialWrites: 0,
  routes: 0,
}

const note = defineJob<Record<string, unknown>>({ kind: 'note.save', queue: 'notes', maxAttempts: 1 })
const loud = defineJob<{ text: string }>({ kind: 'loud', queue: 'loud', maxAttempts: 1 })

type Element = DefaultTreeAdapterTypes.Element
type ParentNode = DefaultTreeAdapterTypes.ParentNode

const FORBIDDEN_TAGS = new Set([
  'img',
  'svg',
  'iframe',
  'object',
  'embed',
  'base',
  'frame',
  'frameset',
  'math',
  'audio',
  'video',
])
const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'poster'])

/** What an attacker's string could have injected into a page: elements, handlers, scripts, URLs. */
function injectedIn(html: string, nonce: string | undefined): string[] {
  figures.pagesParsed++
  const problems: string[] = []
  const visit = (node: ParentNode) => {
    for (const child of node.childNodes) {
      if (!('tagName' in child)) continue
      const element = child as Element
      const tag = element.tagName
      if (FORBIDDEN_TAGS.has(tag)) problems.push(`<${tag}> element`)
      if (tag === 'script' || tag === 'style') {
        const n = element.attrs.find((a) => a.name === 'nonce')?.value
        if (nonce === undefined || n !== nonce) problems.push(`<${tag}> without the page's nonce`)
      }
      if (tag === 'meta' && element.attrs.some((a) => a.name === 'http-equiv'))
        problems.push('<meta http-equiv>')
      for (const { name, value } of element.attrs) {
        if (/^on/i.test(name)) problems.push(`${tag}[${name}] handler`)
        if (name === 'style') problems.push(`${tag}[style]`)
        if (URL_ATTRIBUTES.has(name) && /^\s*(javascript|data|vbscript):/i.test(value))
          problems.push(`${tag}[${name}=${value.slice(0, 40)}]`)
      }
      visit(element)
      if (tag === 'template') visit((element as DefaultTreeAdapterTypes.Template).content)
    }
  }
  visit(parse(html))
  figures.injectedElements += problems.length
  return problems
}

/** The text of a page, as a browser shows it (entities decoded). */
function textOf(html: string): string {
  let text = ''
  const visit = (node: ParentNode) => {
    for (const child of node.childNodes) {
      if (child.nodeName === '#text') text += (child as DefaultTreeAdapterTypes.TextNode).value
      else if ('childNodes' in child) visit(child as ParentNode)
    }
  }
  visit(parse(html))
  return text
}

function nonceOf(response: LightMyRequestResponse): string | undefined {
  return /script-src 'nonce-([^']+)'/.exec(String(response.headers['content-security-policy']))?.[1]
}

/** Checks a rendered page: no server error, a strict CSP with a nonce, and nothing injected. */
function expectInert(response: LightMyRequestResponse, what: string): void {
  figures.requests++
  if (response.statusCode >= 500) figures.serverErrors++
  expect(response.statusCode, `${what}: ${response.body.slice(0, 300)}`).toBeLessThan(500)
  const csp = String(response.headers['content-security-policy'] ?? '')
  expect(csp, what).toContain("default-src 'none'")
  const contentType = String(response.headers['content-type'] ?? '')
  if (!contentType.startsWith('text/html')) return
  const nonce = nonceOf(response)
  expect(nonce, what).toBeTruthy()
  expect(injectedIn(response.body, nonce), what).toEqual([])
}

/** One route of the plugin, with its parameters filled in. */
interface Route {
  readonly method: string
  readonly url: string
  readonly api: boolean
}

/** Builds an app with the plugin and records every route it registers. */
async function buildApp(
  queue: CoreQueue,
  options: Record<string, unknown> = {},
): Promise<{ app: FastifyInstance; routes: RouteOptions[] }> {
  const app = Fastify()
  const routes: RouteOptions[] = []
  app.addHook('onRoute', (route) => {
    routes.push(route)
  })
  await app.register(adminPlugin, {
    prefix: PREFIX,
    queue,
    authorize: () => true,
    refreshIntervalMs: 0,
    secret: SECRET,
    apiTokens: [API_TOKEN],
    ...options,
  } as never)
  await app.ready()
  return { app, routes }
}

/** Concrete requests for the recorded routes (`:id` a real job, `:queue` a real queue, ...). */
function concreteRoutes(routes: readonly RouteOptions[], jobId: string): Route[] {
  const out: Route[] = []
  for (const route of routes) {
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    const url = route.url
      .replace(/:id\b/g, jobId)
      .replace(/:action\b/g, 'cancel')
      .replace(/:queue\b/g, 'notes')
      .replace(/:name\b/g, 'nightly')
      .replace(/:[A-Za-z]+/g, 'x')
      .replace(/\*$/, 'anything')
    for (const method of methods) {
      if (method === 'HEAD' || method === 'OPTIONS') continue
      out.push({ method, url, api: url.startsWith(`${PREFIX}/api/`) })
    }
  }
  return out
}

for (const adapter of adapters) {
  const suite = adapter.skip ? describe.skip : describe
  // Page loads are slower than library calls: short 25 (memory) / 30 (Postgres), long 500 / 200.
  const pageRuns =
    reliabilityScale() === 'long'
      ? adapter.name === 'memory'
        ? 500
        : 200
      : numRuns(adapter.name === 'memory' ? 'memory' : 'postgres') / (adapter.name === 'memory' ? 4 : 1)

  suite(`admin security on ${adapter.name}`, { timeout: 600_000 }, () => {
    let queue: CoreQueue
    let close: () => Promise<void>
    let app: FastifyInstance
    let routes: Route[]
    let jobId: string

    const snapshot = async () => ({
      jobs: await queue.listJobs({}, { limit: 10_000 }),
      schedules: await queue.listSchedules(),
      stats: await queue.stats(),
    })

    beforeAll(async () => {
      ;({ queue, close } = await adapter.create())
      queue.register(loud, ({ text }, ctx) => {
        ctx.log.info(text, { text })
        throw new Error(text)
      })
      const job = await queue.enqueue(note, { secret: 'top-secret-payload' }, { delayMs: 60_000 })
      jobId = job.id
      await queue.enqueue(note, { n: 2 })
      await queue.schedule('0 4 * * *', note, { nightly: '<script>alert(1)</script>' }, { name: 'nightly' })
      const built = await buildApp(queue)
      app = built.app
      routes = concreteRoutes(built.routes, jobId)
      figures.routes = Math.max(figures.routes, routes.length)
    })

    afterAll(async () => {
      await app?.close()
      await close?.()
    })

    it('has an HTML check that finds injected elements, handlers, scripts and URLs', () => {
      const page = (body: string) =>
        `<!doctype html><html><head><script nonce="n1"></script></head><body>${body}</body></html>`
      expect(injectedIn(page('<p>&lt;img src=x onerror=alert(1)&gt;</p>'), 'n1')).toEqual([])
      expect(injectedIn(page('<img src=x onerror=alert(1)>'), 'n1')).toHaveLength(2)
      expect(injectedIn(page('<a href=" JavaScript:alert(1)">x</a>'), 'n1')).toHaveLength(1)
      expect(injectedIn(page('<input value="" autofocus onfocus="alert(1)">'), 'n1')).toHaveLength(1)
      expect(injectedIn(page('<script>alert(1)</script>'), 'n1')).toHaveLength(1)
      expect(injectedIn(page(''), 'other')).toHaveLength(1)
      // These pages were made up: keep them out of the figures.
      figures.pagesParsed -= 6
      figures.injectedElements -= 6
    })

    it('finds the pages, the actions and the JSON API among the routes', () => {
      const urls = routes.map((r) => `${r.method} ${r.url}`)
      expect(urls).toContain(`GET ${PREFIX}/`)
      expect(urls).toContain(`GET ${PREFIX}/jobs`)
      expect(urls.some((u) => u.startsWith('POST '))).toBe(true)
    })

    it('refuses every route without authorization, whatever the request carries, and changes nothing', async () => {
      const { app: closed } = await buildApp(queue, { authorize: () => false })
      const before = await snapshot()
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...routes),
          fc.record({
            cookie: fc.oneof(
              fc.constant(undefined),
              fc.string({ maxLength: 60 }).map((s) => `conveyor_admin_csrf=${encodeURIComponent(s)}`),
            ),
            authorization: fc.oneof(
              fc.constant(undefined),
              fc
                .string({ minLength: 32, maxLength: 64, unit: fc.constantFrom('a', 'b', 'c', '1') })
                .map((t) => `Bearer ${t}`),
              fc.constantFrom(
                'Basic YWRtaW46YWRtaW4=',
                `Bearer ${API_TOKEN.slice(1)}`,
                `Bearer ${API_TOKEN}x`,
              ),
            ),
          }),
          async (route, headers) => {
            const sent: Record<string, string> = {}
            if (headers.cookie !== undefined) sent.cookie = headers.cookie
            if (headers.authorization !== undefined) sent.authorization = headers.authorization
            const write = route.method !== 'GET'
            if (write)
              sent['content-type'] = route.api ? 'application/json' : 'application/x-www-form-urlencoded'
            const response = await closed.inject({
              method: route.method as 'GET',
              url: route.url,
              headers: sent,
              ...(write ? { payload: route.api ? '{}' : 'confirmed=1' } : {}),
            })
            figures.requests++
            expect([401, 403], `${route.method} ${route.url}`).toContain(response.statusCode)
            expect(response.body).not.toContain('top-secret-payload')
            expect(response.body).not.toContain('notes')
            expect(response.headers['set-cookie']).toBeUndefined()
            figures.refused++
          },
        ),
        { numRuns: Math.max(routes.length * 3, pageRuns) },
      )
      // Every route once, deterministically, too.
      for (const route of routes) {
        const response = await closed.inject({ method: route.method as 'GET', url: route.url })
        expect([401, 403], `${route.method} ${route.url}`).toContain(response.statusCode)
      }
      expect(await snapshot()).toEqual(before)
      // A throwing authorize answers 500 with no detail, on every route.
      const { app: broken } = await buildApp(queue, {
        authorize: () => {
          throw new Error('idp down at 10.9.8.7')
        },
      })
      for (const route of routes) {
        const response = await broken.inject({ method: route.method as 'GET', url: route.url })
        expect(response.statusCode, `${route.method} ${route.url}`).toBeGreaterThanOrEqual(400)
        expect(response.body).not.toContain('10.9.8.7')
        expect(response.body).not.toMatch(/\bat \S+ \(/)
      }
      expect(await snapshot()).toEqual(before)
      await closed.close()
      await broken.close()
    })

    it('refuses state changes with a missing, forged, foreign or stale CSRF token, or from another site', async () => {
      const unsafe = routes.filter((r) => r.method !== 'GET')
      expect(unsafe.length).toBeGreaterThan(0)
      const client = new Client(app)
      await client.get(`${PREFIX}/`)
      const cookie = client.cookies.get('conveyor_admin_csrf') ?? ''
      expect(cookie.length).toBeGreaterThanOrEqual(32)
      expect(client.csrf()).not.toBe('')
      const other = new Client(app)
      await other.get(`${PREFIX}/`)
      const { app: otherSecretApp } = await buildApp(queue, {
        secret: 'another secret of at least thirty-two chars',
      })
      const foreign = new Client(otherSecretApp)
      await foreign.get(`${PREFIX}/`)
      const stale = client.csrf() // valid for `cookie`; sent below with a fresh cookie instead

      type TokenCase = { token: string | undefined; cookie: string | undefined; site: string | undefined }
      const tokenCase: fc.Arbitrary<TokenCase> = fc.oneof(
        fc.constant({ token: undefined, cookie: `conveyor_admin_csrf=${cookie}`, site: undefined }),
        fc
          .string({ maxLength: 64 })
          .map((token) => ({ token, cookie: `conveyor_admin_csrf=${cookie}`, site: undefined })),
        fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => ({
          token: Buffer.from(bytes).toString('base64url'),
          cookie: `conveyor_admin_csrf=${cookie}`,
          site: undefined,
        })),
        fc.constant({ token: other.csrf(), cookie: `conveyor_admin_csrf=${cookie}`, site: undefined }),
        fc.constant({ token: client.csrf(), cookie: undefined, site: undefined }),
        fc.constant({
          token: foreign.csrf(),
          cookie: `conveyor_admin_csrf=${foreign.cookies.get('conveyor_admin_csrf')}`,
          site: undefined,
        }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => ({
          token: stale,
          cookie: `conveyor_admin_csrf=${Buffer.from(bytes).toString('base64url')}`,
          site: undefined,
        })),
        fc.constant({ token: client.csrf(), cookie: `conveyor_admin_csrf=${cookie}`, site: 'cross-site' }),
      )
      const before = await snapshot()
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...unsafe), tokenCase, async (route, c) => {
          const headers: Record<string, string> = {}
          if (c.cookie) headers.cookie = c.cookie
          if (c.site) headers['sec-fetch-site'] = c.site
          let payload: string | Record<string, string>
          if (route.api) {
            headers['content-type'] = 'application/json'
            if (c.token !== undefined) headers['x-csrf-token'] = c.token
            payload = { state: 'failed', queue: 'notes' }
          } else {
            headers['content-type'] = 'application/x-www-form-urlencoded'
            const fields: Record<string, string> = { confirmed: '1', queue: 'notes', state: 'scheduled' }
            if (c.token !== undefined) fields._csrf = c.token
            payload = new URLSearchParams(fields).toString()
          }
          const response = await app.inject({
            method: route.method as 'POST',
            url: route.url,
            headers,
            payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
          })
          figures.requests++
          expect(
            response.statusCode,
            `${route.method} ${route.url} ${JSON.stringify(c)}: ${response.body.slice(0, 200)}`,
          ).toBe(403)
          figures.refused++
        }),
        { numRuns: Math.max(unsafe.length * 8, pageRuns) },
      )
      expect(await snapshot()).toEqual(before)
      // The control: the same client's own token works.
      const ok = await client.post(`${PREFIX}/queues/notes/pause`, { confirmed: '1' })
      expect(ok.statusCode).toBe(303)
      await queue.resumeQueue('notes')
      await otherSecretApp.close()
    })

    it('renders generated markup and quote-breaking strings in every field as inert text', async () => {
      const client = new Client(app)
      await client.get(`${PREFIX}/`)
      await fc.assert(
        fc.asyncProperty(attackString, async (attack) => {
          const text = attack.slice(0, 120)
          const job = await queue.enqueue(
            loud,
            { text },
            {
              metadata: { note: text },
              tags: [text],
              uniqueKey: `${text}-${Math.random()}`,
              groupKey: text,
              state: { step: text },
            },
          )
          await queue.drain({ queues: ['loud'] })
          const stored = await queue.getJob(job.id)
          expect(stored?.state).toBe('failed')
          const q = encodeURIComponent(text)
          const pages = [
            `${PREFIX}/jobs/${job.id}`,
            `${PREFIX}/jobs?queue=loud`,
            `${PREFIX}/jobs?q=${q}`,
            `${PREFIX}/jobs?kind=${q}`, // invalid kind: the error page quotes it
            `${PREFIX}/jobs?queue=${q}`,
            `${PREFIX}/jobs?state=${q}`,
            `${PREFIX}/jobs?from=${q}`,
            `${PREFIX}/jobs?before=${q}`,
            `${PREFIX}/jobs/${q}`,
            `${PREFIX}/${q}`,
            `${PREFIX}/`,
            `${PREFIX}/schedules`,
          ]
          for (const url of pages) expectInert(await client.get(url), url)
          // The detail page shows the string as text (escaped in the HTML, intact once parsed).
          const detail = await client.get(`${PREFIX}/jobs/${job.id}`)
          expect(textOf(detail.body)).toContain(text)
          // Confirmation pages echo the filter of a bulk action.
          const confirm = await client.post(`${PREFIX}/bulk/retry`, { q: text, queue: 'loud', back: text })
          expectInert(confirm, 'bulk confirmation')
          expectInert(
            await client.post(`${PREFIX}/queues/${q}/pause`, { back: text }),
            'pause of a bad queue name',
          )
          await queue.deleteJobs({ ids: [job.id] })
        }),
        { numRuns: pageRuns },
      )
    })

    it('answers SQL-injection strings in filters, ids and queue names with 4xx or a harmless page, every row intact', async () => {
      const client = new Client(app)
      await client.get(`${PREFIX}/`)
      const getRoutes = routes.filter((r) => r.method === 'GET')
      const sql = fc.oneof(
        attackString,
        fc.constantFrom(
          "' OR '1'='1",
          "1' OR '1'='1' --",
          '1; DROP TABLE jobs',
          "notes'; TRUNCATE jobs; --",
          "x') UNION SELECT * FROM pg_user --",
          '1) OR (1=1',
          "'||pg_sleep(5)||'",
          '\\x27; DELETE FROM jobs; --',
          '$$; DROP TABLE jobs; $$',
          '"; DROP SCHEMA conveyor CASCADE; --',
          '%',
          '%_%',
          '\\',
        ),
      )
      const before = await snapshot()
      await fc.assert(
        fc.asyncProperty(
          sql,
          fc.constantFrom('queue', 'kind', 'state', 'q', 'schedule', 'from', 'to', 'before', 'limit', 'id'),
          fc.constantFrom(...getRoutes),
          async (injection, field, route) => {
            // A generated string can happen to be a valid name (`javascript::`): acting on it is legitimate.
            fc.pre(!/^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/.test(injection))
            const value = encodeURIComponent(injection)
            const responses = [
              await client.get(`${route.url}?${field}=${value}`),
              await client.get(`${PREFIX}/jobs/${value}`),
              await client.post(`${PREFIX}/queues/${value}/pause`, { confirmed: '1' }),
              await client.post(`${PREFIX}/jobs/${value}/retry`, { confirmed: '1' }),
              await client.post(`${PREFIX}/bulk/cancel`, {
                confirmed: '1',
                queue: injection,
                kind: injection,
              }),
            ]
            for (const response of responses) {
              figures.requests++
              if (response.statusCode >= 500) figures.serverErrors++
              expect(
                response.statusCode,
                `${field}=${injection}: ${response.body.slice(0, 200)}`,
              ).toBeLessThan(500)
            }
          },
        ),
        { numRuns: pageRuns },
      )
      const after = await snapshot()
      if (JSON.stringify(after) !== JSON.stringify(before)) figures.partialWrites++
      expect(after).toEqual(before)
    })

    it('answers generated query strings and form bodies with a page or a 4xx, never a 5xx', async () => {
      const client = new Client(app)
      await client.get(`${PREFIX}/`)
      const fields = fc.oneof(
        fc.constantFrom(
          'queue',
          'kind',
          'state',
          'q',
          'from',
          'to',
          'schedule',
          'before',
          'limit',
          'back',
          'ids',
        ),
        fc.string({ minLength: 1, maxLength: 10 }),
      )
      const values = fc.oneof(fc.string({ maxLength: 30 }), attackString, fc.integer().map(String))
      const form = fc.dictionary(fields, values, { maxKeys: 6 })
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...routes), form, async (route, input) => {
          const entries = Object.entries(input).filter(([key]) => key !== 'confirmed' && key !== '_csrf')
          const query = new URLSearchParams(entries).toString()
          const response =
            route.method === 'GET'
              ? await client.get(`${route.url}?${query}`)
              : route.api
                ? await app.inject({
                    method: route.method as 'POST',
                    url: `${route.url}?${query}`,
                    payload: JSON.stringify(Object.fromEntries(entries)),
                    headers: {
                      'content-type': 'application/json',
                      cookie: `conveyor_admin_csrf=${client.cookies.get('conveyor_admin_csrf')}`,
                      'x-csrf-token': client.csrf(),
                    },
                  })
                : await client.post(route.url, Object.fromEntries(entries))
          figures.requests++
          if (response.statusCode >= 500) figures.serverErrors++
          expect(
            response.statusCode,
            `${route.method} ${route.url} ${query}: ${response.body.slice(0, 200)}`,
          ).toBeLessThan(500)
          if (String(response.headers['content-type']).startsWith('text/html'))
            expect(
              injectedIn(response.body, nonceOf(response)),
              `${route.method} ${route.url} ${query}`,
            ).toEqual([])
        }),
        { numRuns: pageRuns * 2 },
      )
      for (const queue_ of ['notes', 'loud']) await queue.resumeQueue(queue_)
    })

    it('refuses huge query strings and bodies without a server error', async () => {
      const client = new Client(app)
      await client.get(`${PREFIX}/`)
      const getRoutes = routes.filter((r) => r.method === 'GET')
      const postRoutes = routes.filter((r) => r.method !== 'GET')
      const before = await snapshot()
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 5_000, max: 300_000 }),
          fc.constantFrom('q', 'queue', 'kind', 'state', 'x', 'before'),
          fc.constantFrom(...getRoutes),
          fc.constantFrom(...postRoutes),
          async (size, field, get, post) => {
            const big = 'a'.repeat(size)
            const read = await client.get(`${get.url}?${field}=${big}`)
            figures.requests++
            expect(read.statusCode, `GET ${get.url}?${field}=<${size}>`).toBeLessThan(500)
            if (field !== 'x' && get.url === `${PREFIX}/jobs`)
              expect(read.statusCode).toBeGreaterThanOrEqual(400)
            const body = post.api
              ? JSON.stringify({ queue: big, pad: 'p'.repeat(1_100_000) })
              : new URLSearchParams({
                  _csrf: client.csrf(),
                  confirmed: '1',
                  q: big.padEnd(20_000, 'b'),
                }).toString()
            const write = await app.inject({
              method: post.method as 'POST',
              url: post.url,
              payload: body,
              headers: {
                'content-type': post.api ? 'application/json' : 'application/x-www-form-urlencoded',
                cookie: `conveyor_admin_csrf=${client.cookies.get('conveyor_admin_csrf')}`,
                ...(post.api ? { 'x-csrf-token': client.csrf() } : {}),
              },
            })
            figures.requests++
            if (write.statusCode >= 500) figures.serverErrors++
            expect(
              write.statusCode,
              `${post.method} ${post.url} <${body.length} bytes>`,
            ).toBeGreaterThanOrEqual(400)
            expect(write.statusCode).toBeLessThan(500)
            figures.refused++
          },
        ),
        { numRuns: Math.max(10, Math.floor(pageRuns / 2)) },
      )
      expect(await snapshot()).toEqual(before)
    })

    // back=/..//evil.example once answered Location /admin/..//evil.example, which a browser resolves
    // to //evil.example on the same host: outside the admin page, though not off the site.
    it('keeps `back` inside the admin prefix (dot segments)', async () => {
      const client = new Client(app)
      await client.get(`${PREFIX}/`)
      for (const target of ['/..//evil.example', '/../logout', '/%2e%2e/other-app']) {
        const response = await client.post(`${PREFIX}/queues/notes/resume`, { back: target })
        const resolved = new URL(String(response.headers.location), 'https://admin.example')
        expect(resolved.pathname.startsWith(`${PREFIX}/`), `${target} -> ${resolved.pathname}`).toBe(true)
      }
    })

    it('never redirects off the site, whatever `back` says', async () => {
      const client = new Client(app)
      await client.get(`${PREFIX}/`)
      const back = fc.oneof(
        fc.webUrl(),
        fc.webUrl().map((u) => u.replace(/^https?:/, '')),
        fc.string({ maxLength: 40 }),
        fc.string({ maxLength: 40 }).map((s) => `/${s}`),
        attackString,
        fc.constantFrom(
          '//evil.example',
          '/\\evil.example',
          '\\\\evil.example',
          '/%2F%2Fevil.example',
          '/\t/evil.example',
          '/\n/evil.example',
          'javascript:alert(1)',
          'data:text/html,<script>alert(1)</script>',
          '/ok\r\nSet-Cookie: pwned=1',
          'https:evil.example',
          '/..//evil.example',
          '/%0d%0aLocation:%20https://evil.example',
        ),
      )
      await fc.assert(
        fc.asyncProperty(back, async (target) => {
          const response = await client.post(`${PREFIX}/queues/notes/resume`, { back: target })
          figures.requests++
          expect(response.statusCode, target).toBe(303)
          const location = String(response.headers.location)
          expect(location).not.toMatch(/[\r\n]/)
          expect(location.startsWith(`${PREFIX}/`), location).toBe(true)
          const resolved = new URL(location, 'https://admin.example')
          expect(resolved.origin, location).toBe('https://admin.example')
          expect(response.headers['set-cookie'] ?? '').not.toContain('pwned')
        }),
        { numRuns: pageRuns },
      )
    })
  })
}

afterAll(() => {
  writeScenarioResult({
    scenario: 'admin-security',
    rounds: figures.requests,
    faultsInjected: figures.refused,
    jobs: 0,
    lost: figures.partialWrites,
    doubled: 0,
    durationMs: Math.round(performance.now() - startedAt),
    notes:
      'fast-check attacks on every admin route (found with onRoute): no authorization, forged/foreign/stale CSRF tokens, cross-site posts, markup and quote-breaking strings in every field (HTML parsed with parse5), SQL injection in filters/ids/queue names, huge query strings and bodies, open redirects',
    routesCovered: figures.routes,
    pagesParsed: figures.pagesParsed,
    injectedElements: figures.injectedElements,
    serverErrors: figures.serverErrors,
  })
})
