/** The standalone server: basic authentication, an optional extra `authorize`, and its options. */

import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import Fastify from 'fastify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ADMIN_MAX_PARAM_LENGTH, adminPlugin, createAdminServer } from '../../src/admin/index.js'
import type { CoreQueue } from '../../src/core/create-queue.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import { adapters } from './helpers.js'

const execFileAsync = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

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

const TOKEN = 'test-token-0123456789abcdef0123456789abcdef'

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`

describe('createAdminServer', () => {
  it('asks for credentials with 401 and lets the right ones in', async () => {
    const app = createAdminServer({ queue, basicAuth: { username: 'ops', password: 'correct horse' } })
    const anonymous = await app.inject('/')
    expect(anonymous.statusCode).toBe(401)
    expect(anonymous.headers['www-authenticate']).toBe('Basic realm="Conveyor", charset="UTF-8"')
    expect(anonymous.headers['x-frame-options']).toBe('DENY')
    for (const header of [
      basic('ops', 'wrong password'),
      basic('other', 'correct horse'),
      'Bearer abc',
      'Basic !!!',
    ]) {
      expect(
        (await app.inject({ url: '/jobs', headers: { authorization: header } })).statusCode,
        header,
      ).toBe(401)
    }
    const page = await app.inject({ url: '/', headers: { authorization: basic('ops', 'correct horse') } })
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('<h1>Queues</h1>')
    await app.close()
  })

  it('lets a metrics scraper in with an API token instead of the password, at the metrics path only', async () => {
    const app = createAdminServer({
      queue,
      prefix: '/admin',
      basicAuth: { username: 'ops', password: 'correct horse' },
      apiTokens: [TOKEN],
      metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'conveyor_up 1\n' }),
    })
    const bearer = { authorization: `Bearer ${TOKEN}` }
    for (const url of ['/admin/metrics', '/admin/metrics?x=1']) {
      const scraped = await app.inject({ url, headers: bearer })
      expect(scraped.statusCode, url).toBe(200)
      expect(scraped.body).toBe('conveyor_up 1\n')
    }
    expect((await app.inject({ url: '/admin/metrics' })).statusCode).toBe(401)
    for (const url of ['/admin/', '/admin/metricsx', '/admin/jobs'])
      expect((await app.inject({ url, headers: bearer })).statusCode, url).toBe(401)
    await app.close()
  })

  it('answers a metrics renderer that throws with a bare 500, its message kept to the log', async () => {
    const app = createAdminServer({
      queue,
      basicAuth: { username: 'ops', password: 'correct horse' },
      metrics: async () => {
        throw new Error('connect ECONNREFUSED 10.0.3.7:9091 password=hunter2')
      },
    })
    const failed = await app.inject({
      url: '/metrics',
      headers: { authorization: basic('ops', 'correct horse') },
    })
    expect(failed.statusCode).toBe(500)
    expect(failed.body).not.toContain('hunter2')
    expect(failed.headers['x-frame-options']).toBe('DENY')
    await app.close()
  })

  it('runs `authorize` after basic authentication, and serves under a prefix', async () => {
    const app = createAdminServer({
      queue,
      prefix: '/conveyor',
      basicAuth: { username: 'ops', password: 'correct horse' },
      authorize: (request) => request.headers['x-team'] === 'infra',
      readOnly: true,
    })
    const authorization = basic('ops', 'correct horse')
    expect((await app.inject({ url: '/conveyor/', headers: { authorization } })).statusCode).toBe(403)
    const page = await app.inject({ url: '/conveyor/jobs', headers: { authorization, 'x-team': 'infra' } })
    expect(page.statusCode).toBe(200)
    expect(page.body).toContain('href="/conveyor/schedules"')
    await app.close()
  })

  it('refuses to start without any authentication, or with weak credentials', () => {
    expect(() => createAdminServer({ queue })).toThrow(/basicAuth: \{ username, password \}/)
    expect(() => createAdminServer({ queue, basicAuth: { username: 'ops', password: 'short' } })).toThrow(
      /at least 8 characters/,
    )
    expect(() =>
      createAdminServer({ queue, basicAuth: { username: 'a:b', password: 'long enough' } }),
    ).toThrow(/without ":"/)
    expect(() => createAdminServer({ queue, authorize: () => true, refreshIntervalMs: -1 })).toThrow(
      /refreshIntervalMs/,
    )
  })

  it('says what to do about a kind it has no definition of in the words of unknownKindAdvice', async () => {
    const headers = { authorization: `Bearer ${TOKEN}` }
    const enqueue = (app: ReturnType<typeof createAdminServer>) =>
      app.inject({
        method: 'POST',
        url: '/api/v1/jobs',
        headers,
        payload: { kind: 'nobody.knows', payload: {} },
      })
    const plain = createAdminServer({ queue, apiTokens: [TOKEN], authorize: () => true })
    const byDefault = await enqueue(plain)
    expect(byDefault.statusCode).toBe(422)
    expect(byDefault.json().error.message).toBe(
      'The admin does not know the job kind "nobody.knows", so it cannot validate its payload: add its definition to the admin plugin\'s `jobs` option (or register a handler for it on this queue).',
    )
    await plain.close()
    const advised = createAdminServer({
      queue,
      apiTokens: [TOKEN],
      authorize: () => true,
      unknownKindAdvice: 'ask the team that owns it',
    })
    const answer = await enqueue(advised)
    expect(answer.json().error).toMatchObject({
      code: 'UNKNOWN_JOB_KIND',
      message:
        'The admin does not know the job kind "nobody.knows", so it cannot validate its payload: ask the team that owns it.',
    })
    await advised.close()
    expect(() => createAdminServer({ queue, authorize: () => true, unknownKindAdvice: ' ' })).toThrow(
      /unknownKindAdvice/,
    )
  })

  it('serves the longest names (128 characters) in paths, encoded or not', async () => {
    const name = `s${'x'.repeat(119)}:nightly`
    const queueName = `q${'y'.repeat(126)}:`
    expect(name.length).toBe(128)
    expect(queueName.length).toBe(128)
    const note = defineJob<Record<string, unknown>>({ kind: 'note.save' })
    const app = createAdminServer({ queue, apiTokens: [TOKEN], authorize: () => true, jobs: [note] })
    const headers = { authorization: `Bearer ${TOKEN}` }
    for (const path of [name, encodeURIComponent(name)]) {
      const put = await app.inject({
        method: 'PUT',
        url: `/api/v1/schedules/${path}`,
        headers,
        payload: { expression: '@daily', kind: 'note.save', payload: {} },
      })
      expect(put.statusCode, put.body).toBeLessThan(300)
      const got = await app.inject({ url: `/api/v1/schedules/${path}`, headers })
      expect(got.statusCode, got.body).toBe(200)
      expect(got.json().schedule.name).toBe(name)
    }
    const paused = await app.inject({
      method: 'POST',
      url: `/api/v1/queues/${encodeURIComponent(queueName)}/pause`,
      headers,
    })
    expect(paused.statusCode, paused.body).toBeLessThan(300)
    expect((await queue.stats()).find((q) => q.queue === queueName)?.paused).toBe(true)
    await app.close()
  })

  it('warns when the host Fastify cuts names shorter than 128 characters', async () => {
    const lines: string[] = []
    const stream = { write: (line: string) => lines.push(line) }
    const host = Fastify({ logger: { level: 'warn', stream } })
    await host.register(adminPlugin, { queue, authorize: () => true })
    await host.ready()
    expect(lines.join('')).toContain(`routerOptions: { maxParamLength: ${ADMIN_MAX_PARAM_LENGTH} }`)
    await host.close()
    // Fastify 5.5 and later take it in routerOptions; before 5.5 only at the top level (deprecated since).
    for (const sizing of [
      { routerOptions: { maxParamLength: ADMIN_MAX_PARAM_LENGTH } },
      { routerOptions: { ignoreTrailingSlash: true }, maxParamLength: ADMIN_MAX_PARAM_LENGTH },
      { maxParamLength: ADMIN_MAX_PARAM_LENGTH },
    ]) {
      lines.length = 0
      const sized = Fastify({ logger: { level: 'warn', stream }, ...sizing })
      await sized.register(adminPlugin, { queue, authorize: () => true })
      await sized.ready()
      expect(lines, JSON.stringify(sizing)).toEqual([])
      await sized.close()
    }
  })

  it('creates the server, and mounts the plugin as the README shows, without a Fastify deprecation warning', async () => {
    // Fastify emits each deprecation once per process: a fresh process sees it even if a test here did.
    const script = `
      import Fastify from 'fastify'
      import { ADMIN_MAX_PARAM_LENGTH, adminPlugin, createAdminServer } from './src/admin/index.ts'
      import { createMemoryQueue } from './src/adapters/memory/index.ts'
      const warnings = []
      process.on('warning', (w) => warnings.push(\`\${w.name} \${w.code ?? ''}: \${w.message}\`))
      const queue = createMemoryQueue()
      const server = createAdminServer({ queue, authorize: () => true })
      await server.ready()
      const host = Fastify({ routerOptions: { maxParamLength: ADMIN_MAX_PARAM_LENGTH } })
      await host.register(adminPlugin, { prefix: '/admin', queue, authorize: () => true })
      await host.ready()
      if (process.argv.includes('--control')) Fastify({ maxParamLength: ADMIN_MAX_PARAM_LENGTH })
      await new Promise((resolve) => setImmediate(resolve)) // process warnings are emitted on a later tick
      await Promise.all([server.close(), host.close(), queue.shutdown()])
      process.stdout.write(JSON.stringify(warnings))
    `
    const run = async (...args: string[]) => {
      const { stdout } = await execFileAsync(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', script, '--', ...args],
        { cwd: ROOT },
      )
      return JSON.parse(stdout) as string[]
    }
    expect(await run()).toEqual([])
    // The control: the deprecated top-level option does warn, so the check above can see a warning.
    expect(await run('--control')).toEqual([expect.stringContaining('FSTDEP022')])
  })
})
