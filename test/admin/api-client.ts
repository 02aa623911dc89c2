/**
 * A client of the admin's JSON API over `app.inject()` that checks every answer against the OpenAPI
 * document the API serves: the route and status must be declared, and the body must validate against
 * the declared schema (Ajv, which Fastify ships). Errors must have the one error shape.
 */
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { expect } from 'vitest'

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv,
) => Ajv

/** An API answer: status, parsed JSON body and headers. */
export interface ApiAnswer {
  readonly status: number
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON
  readonly body: any
  readonly headers: LightMyRequestResponse['headers']
  readonly raw: LightMyRequestResponse
}

/** What a call sends. */
export interface ApiCall {
  readonly body?: unknown
  /** A raw body sent as is (with the given content type). */
  readonly payload?: string
  readonly headers?: Record<string, string>
}

type OpenApi = {
  openapi: string
  servers: { url: string }[]
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >
}

const documents = new WeakMap<FastifyInstance, OpenApi>()

/** The shape of every API error. */
export const ERROR_SHAPE = {
  type: 'object',
  required: ['error'],
  additionalProperties: false,
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      additionalProperties: false,
      properties: {
        code: { type: 'string', pattern: '^[A-Z][A-Z_]+$' },
        message: { type: 'string' },
        details: {},
      },
    },
  },
} as const

/** Calls the API of an app mounted at `prefix`, checking each answer against the document. */
export class ApiClient {
  readonly #ajv = addFormats(new Ajv({ strict: false, allErrors: true }))
  readonly #validators = new Map<string, ValidateFunction>()
  #document: OpenApi | null = null
  readonly errorShape: ValidateFunction

  constructor(
    readonly app: FastifyInstance,
    readonly options: { readonly prefix?: string; readonly headers?: Record<string, string> } = {},
  ) {
    this.errorShape = this.#ajv.compile(ERROR_SHAPE)
  }

  get base(): string {
    return `${this.options.prefix ?? '/admin'}/api/v1`
  }

  get(path: string, call: ApiCall = {}): Promise<ApiAnswer> {
    return this.call('GET', path, call)
  }
  post(path: string, call: ApiCall = {}): Promise<ApiAnswer> {
    return this.call('POST', path, call)
  }
  patch(path: string, call: ApiCall = {}): Promise<ApiAnswer> {
    return this.call('PATCH', path, call)
  }
  put(path: string, call: ApiCall = {}): Promise<ApiAnswer> {
    return this.call('PUT', path, call)
  }
  delete(path: string, call: ApiCall = {}): Promise<ApiAnswer> {
    return this.call('DELETE', path, call)
  }

  /** Sends one request and checks its answer against the document. */
  async call(method: string, path: string, call: ApiCall = {}): Promise<ApiAnswer> {
    const headers: Record<string, string> = { ...this.options.headers, ...call.headers }
    let payload: string | undefined = call.payload
    if (call.body !== undefined) {
      payload = JSON.stringify(call.body)
      headers['content-type'] ??= 'application/json'
    }
    const response = await this.app.inject({
      method: method as 'GET',
      url: `${this.base}${path}`,
      headers,
      ...(payload !== undefined ? { payload } : {}),
    })
    const answer: ApiAnswer = {
      status: response.statusCode,
      body: response.body === '' ? undefined : JSON.parse(response.body),
      headers: response.headers,
      raw: response,
    }
    expect(String(response.headers['content-type'])).toMatch(/^application\/json/)
    await this.#check(method, path, answer)
    return answer
  }

  /** The OpenAPI document (fetched once per app, by the first client that is let in). */
  async document(): Promise<OpenApi> {
    this.#document ??= documents.get(this.app) ?? null
    if (this.#document === null) {
      const response = await this.app.inject({
        url: `${this.base}/openapi.json`,
        headers: this.options.headers,
      })
      expect(response.statusCode, `the document: ${response.body}`).toBe(200)
      this.#document = JSON.parse(response.body) as OpenApi
      documents.set(this.app, this.#document)
    }
    return this.#document
  }

  async #check(method: string, path: string, answer: ApiAnswer): Promise<void> {
    if (answer.status >= 400) {
      const ok = this.errorShape(answer.body)
      expect(
        ok,
        `error shape of ${JSON.stringify(answer.body)}: ${JSON.stringify(this.errorShape.errors)}`,
      ).toBe(true)
    }
    if (answer.status === 401) return // refused before any route: no document to read
    const document = await this.document()
    const template = matchPath(document, path.split('?')[0] ?? '')
    if (template === null) {
      expect(answer.status, `${method} ${path} is not in the document`).toBe(404)
      return
    }
    const operation = document.paths[template]?.[method.toLowerCase()]
    if (operation === undefined) {
      expect(answer.status, `${method} ${template} is not in the document`).toBe(404)
      return
    }
    const declared = operation.responses[String(answer.status)]
    expect(declared, `${method} ${template} does not declare status ${answer.status}`).toBeDefined()
    const schema = declared?.content?.['application/json']?.schema
    if (schema === undefined) return
    const key = `${method} ${template} ${answer.status}`
    let validate = this.#validators.get(key)
    if (validate === undefined) {
      validate = this.#ajv.compile(schema as object)
      this.#validators.set(key, validate)
    }
    const valid = validate(answer.body)
    expect(
      valid,
      `${key}: ${JSON.stringify(validate.errors)} in ${JSON.stringify(answer.body).slice(0, 500)}`,
    ).toBe(true)
  }
}

/** The document's path template that `path` matches, or null. */
export function matchPath(document: OpenApi, path: string): string | null {
  const templates = Object.keys(document.paths)
  // Literal templates win over parameter ones, as in the router.
  const ordered = [...templates].sort((a, b) => a.split('{').length - b.split('{').length)
  for (const template of ordered) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`)
    if (pattern.test(path)) return template
  }
  return null
}
