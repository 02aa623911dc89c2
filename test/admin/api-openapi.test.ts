/**
 * The OpenAPI document the API serves: structurally valid OpenAPI 3.1, every route with its methods,
 * parameters, body and responses, and schemas that compile. (That every answer the tests receive
 * validates against its declared schema is checked by `ApiClient` in the other API tests.)
 */
import { Ajv } from 'ajv'
import addFormatsModule from 'ajv-formats'
import Fastify from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminPlugin } from '../../src/admin/index.js'
import { resolveAdminOptions } from '../../src/admin/options.js'
import type { CoreQueue } from '../../src/core/create-queue.js'
import { ApiClient, ERROR_SHAPE } from './api-client.js'
import { adapters, adminApp } from './helpers.js'

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv
const TOKEN = 'test-token-0123456789abcdef0123456789abcdef'

/** Every route of the API: method, path template, path parameters, whether it takes a body. */
const ROUTES: [string, string, string[], boolean][] = [
  ['get', '/jobs', [], false],
  ['post', '/jobs', [], true],
  ['get', '/jobs/{id}', ['id'], false],
  ['patch', '/jobs/{id}', ['id'], true],
  ['delete', '/jobs/{id}', ['id'], false],
  ['post', '/jobs/{id}/retry', ['id'], false],
  ['post', '/jobs/{id}/run', ['id'], false],
  ['post', '/jobs/{id}/cancel', ['id'], false],
  ['post', '/jobs/{id}/pause', ['id'], false],
  ['post', '/jobs/{id}/resume', ['id'], false],
  ['get', '/jobs/by-key', [], false],
  ['patch', '/jobs/by-key', [], true],
  ['delete', '/jobs/by-key', [], false],
  ['post', '/jobs/by-key/retry', [], false],
  ['post', '/jobs/by-key/run', [], false],
  ['post', '/jobs/by-key/cancel', [], false],
  ['post', '/jobs/by-key/pause', [], false],
  ['post', '/jobs/by-key/resume', [], false],
  ['post', '/jobs/actions/retry', [], true],
  ['post', '/jobs/actions/run', [], true],
  ['post', '/jobs/actions/cancel', [], true],
  ['post', '/jobs/actions/delete', [], true],
  ['post', '/jobs/actions/pause', [], true],
  ['post', '/jobs/actions/resume', [], true],
  ['get', '/queues', [], false],
  ['get', '/orphans', [], false],
  ['post', '/queues/{queue}/pause', ['queue'], false],
  ['post', '/queues/{queue}/resume', ['queue'], false],
  ['get', '/schedules', [], false],
  ['get', '/schedules/{name}', ['name'], false],
  ['put', '/schedules/{name}', ['name'], true],
  ['delete', '/schedules/{name}', ['name'], false],
  ['get', '/storage/health', [], false],
  ['get', '/csrf-token', [], false],
  ['get', '/openapi.json', [], false],
]

type Operation = {
  operationId: string
  summary?: string
  parameters?: { name: string; in: string; required: boolean; schema: object }[]
  requestBody?: { required: boolean; content: Record<string, { schema: object }> }
  responses: Record<string, { description: string; content?: Record<string, { schema: object }> }>
}

describe('the OpenAPI document', () => {
  let queue: CoreQueue
  let close: () => Promise<void>
  // biome-ignore lint/suspicious/noExplicitAny: the document is read as JSON
  let document: any

  beforeAll(async () => {
    const memory = adapters[0]
    if (!memory) throw new Error('no memory adapter')
    ;({ queue, close } = await memory.create())
    const app = await adminApp(queue, { apiTokens: [TOKEN], authorize: () => false })
    document = await new ApiClient(app, { headers: { authorization: `Bearer ${TOKEN}` } }).document()
    await app.close()
  })

  afterAll(async () => {
    await close()
  })

  it('is OpenAPI 3.1 with info, servers and paths', () => {
    expect(document.openapi).toBe('3.1.0')
    expect(document.info).toMatchObject({ title: 'Conveyor admin API', version: '1' })
    expect(document.servers).toEqual([{ url: '/admin/api/v1' }])
    expect(document.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' })
  })

  it('lists every route with its methods, and nothing else', () => {
    const listed = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, methods]) => Object.keys(methods).map((method) => `${method} ${path}`),
    )
    expect(listed.sort()).toEqual(ROUTES.map(([method, path]) => `${method} ${path}`).sort())
  })

  it('declares each route’s parameters, body and responses, with unique operation ids', () => {
    const ids = new Set<string>()
    for (const [method, path, params, hasBody] of ROUTES) {
      const operation = document.paths[path][method] as Operation
      const where = `${method} ${path}`
      expect(operation.operationId, where).toMatch(/^[a-z][A-Za-z]+$/)
      ids.add(operation.operationId)
      expect(operation.summary, where).toBeTruthy()
      const pathParams = (operation.parameters ?? []).filter((p) => p.in === 'path')
      expect(
        pathParams.map((p) => p.name),
        where,
      ).toEqual(params)
      for (const p of pathParams) expect(p.required, where).toBe(true)
      expect(operation.requestBody !== undefined, where).toBe(hasBody)
      if (hasBody) expect(operation.requestBody?.content['application/json']?.schema, where).toBeDefined()
      const statuses = Object.keys(operation.responses)
      expect(
        statuses.some((s) => s.startsWith('2')),
        where,
      ).toBe(true)
      for (const status of ['400', '401', '500']) expect(statuses, where).toContain(status)
      if (method !== 'get') expect(statuses, where).toContain('403')
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(response.description, `${where} ${status}`).toBeTruthy()
        const schema = response.content?.['application/json']?.schema
        expect(schema, `${where} ${status}`).toBeDefined()
        if (Number(status) >= 400) expect(schema).toMatchObject({ required: ['error'] })
      }
    }
    expect(ids.size).toBe(ROUTES.length)
    for (const [method, path] of ROUTES.filter(([, path]) => path.startsWith('/jobs/by-key'))) {
      const operation = document.paths[path][method] as Operation
      expect(
        operation.parameters?.map((p) => `${p.in}:${p.name}:${p.required}`),
        `${method} ${path}`,
      ).toEqual(['query:key:true', 'query:kind:false'])
    }
    const search = document.paths['/jobs'].get as Operation
    expect(search.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(
      [
        'queue',
        'kind',
        'schedule',
        'key',
        'uniqueKey',
        'q',
        'from',
        'to',
        'state',
        'payload',
        'cursor',
        'limit',
      ].map((n) => `query:${n}`),
    )
  })

  it('has schemas that compile, and its error schema accepts exactly the error shape', () => {
    const ajv = addFormats(new Ajv({ strict: false }))
    for (const [method, path] of ROUTES) {
      const operation = document.paths[path][method] as Operation
      const schemas = [
        ...(operation.parameters ?? []).map((p) => p.schema),
        ...(operation.requestBody ? [operation.requestBody.content['application/json']?.schema] : []),
        ...Object.values(operation.responses).map((r) => r.content?.['application/json']?.schema),
      ]
      for (const schema of schemas)
        expect(() => ajv.compile(schema as object), `${method} ${path}`).not.toThrow()
    }
    const errorSchema = ajv.compile(
      document.paths['/jobs'].get.responses['400'].content['application/json'].schema,
    )
    expect(errorSchema({ error: { code: 'JOB_NOT_FOUND', message: 'no such job' } })).toBe(true)
    expect(errorSchema({ message: 'no such job' })).toBe(false)
    expect(ajv.compile(ERROR_SHAPE)({ error: { code: 'X_Y', message: 'm', details: { a: 1 } } })).toBe(true)
  })

  it('leaves the bearer scheme out when API tokens are off', async () => {
    const app = await adminApp(queue, { prefix: '/ops' })
    const plain = await new ApiClient(app, { prefix: '/ops' }).document()
    expect(plain.servers).toEqual([{ url: '/ops/api/v1' }])
    expect(
      (plain as unknown as { components: { securitySchemes: object } }).components.securitySchemes,
    ).not.toHaveProperty('bearer')
    await app.close()
  })
})

describe('API options', () => {
  it('refuses short tokens, bad token lists and things that are not job definitions', async () => {
    const memory = adapters[0]
    if (!memory) throw new Error('no memory adapter')
    const { queue, close } = await memory.create()
    const base = { queue, authorize: () => true }
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ apiTokens: ['short'] }, /apiTokens\[0\].*32 to 512/],
      [{ apiTokens: [] }, /non-empty array/],
      [{ apiTokens: 'one-token-as-a-string-0123456789abcdef' }, /non-empty array/],
      [{ apiTokens: ['é'.repeat(40)] }, /apiTokens\[0\].*printable ASCII/],
      [{ jobs: [{ kind: 'x' }] }, /jobs\[0\].*defineJob/],
      [{ jobs: [{ kind: 'x', defaults: {} }] }, /jobs\[0\].*defineJob/],
      [{ jobs: 'mail' }, /array of job definitions/],
    ]
    for (const [options, message] of bad) {
      expect(() => resolveAdminOptions({ ...base, ...options } as never)).toThrow(message)
      const app = Fastify()
      await expect(app.register(adminPlugin, { ...base, ...options } as never).ready()).rejects.toMatchObject(
        {
          code: 'INVALID_OPTIONS',
        },
      )
      await app.close()
    }
    await close()
  })
})
