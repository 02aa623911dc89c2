/**
 * The OpenAPI 3.1 document of the JSON API, built from the very schemas the routes declare (collected
 * as they are registered), so the document cannot drift from what the routes validate and answer.
 */
import type { RouteOptions } from 'fastify'

/** What the document needs of a registered route. */
export interface ApiRoute {
  readonly method: string
  /** Path below the API prefix, in Fastify's syntax (`/jobs/:id`). */
  readonly path: string
  readonly schema: Readonly<Record<string, unknown>>
}

/** Turns a registered route into the document's input (one entry per method, HEAD left out). */
export function apiRoutesOf(route: RouteOptions & { routePath?: string }): ApiRoute[] {
  const methods = Array.isArray(route.method) ? route.method : [route.method]
  const schema = (route.schema ?? {}) as Record<string, unknown>
  return methods
    .filter((m) => m !== 'HEAD')
    .map((method) => ({ method: method.toLowerCase(), path: route.routePath ?? route.url, schema }))
}

const STATUS_TEXT: Readonly<Record<string, string>> = {
  200: 'OK',
  201: 'Created',
  400: 'The request is malformed or fails its schema',
  401: 'Not authorized',
  403: 'Refused: read-only mode, missing CSRF token, or another site',
  404: 'Not found',
  409: 'The job’s state does not allow this',
  413: 'Body too large',
  414: 'Query string too long',
  415: 'Not JSON',
  422: 'Well-formed but invalid (payload schema, schedule expression, unknown kind)',
  500: 'Server error (details only in the server log)',
  503: 'The job store is unavailable',
}

/** The OpenAPI document for `routes`, served under `basePath`. */
export function openApiDocument(
  routes: readonly ApiRoute[],
  options: { readonly title: string; readonly basePath: string; readonly bearer: boolean },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
    const entry = paths[path] ?? {}
    paths[path] = entry
    entry[route.method] = operation(route)
  }
  return {
    openapi: '3.1.0',
    info: {
      title: `${options.title} admin API`,
      version: '1',
      description:
        'Manage Conveyor jobs, queues and schedules. Every error answers { "error": { "code", "message", "details"? } }.',
    },
    servers: [{ url: options.basePath }],
    paths,
    components: {
      securitySchemes: {
        ...(options.bearer ? { bearer: { type: 'http', scheme: 'bearer' } } : {}),
        csrf: {
          type: 'apiKey',
          in: 'header',
          name: 'x-csrf-token',
          description:
            'For signed-in browser sessions: the token of GET /csrf-token, on calls that change state',
        },
      },
    },
  }
}

function operation(route: ApiRoute): Record<string, unknown> {
  const { schema } = route
  const parameters = [...parametersOf(schema.params, 'path'), ...parametersOf(schema.querystring, 'query')]
  const responses: Record<string, unknown> = {}
  for (const [status, body] of Object.entries((schema.response ?? {}) as Record<string, unknown>)) {
    const description =
      (body as { description?: unknown }).description ?? STATUS_TEXT[status] ?? `HTTP ${status}`
    responses[status] = { description, content: { 'application/json': { schema: body } } }
  }
  return {
    operationId: operationId(route),
    ...(typeof schema.summary === 'string' ? { summary: schema.summary } : {}),
    ...(Array.isArray(schema.tags) ? { tags: schema.tags } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(schema.body !== undefined
      ? { requestBody: { required: true, content: { 'application/json': { schema: schema.body } } } }
      : {}),
    responses,
  }
}

function parametersOf(schema: unknown, where: 'path' | 'query'): Record<string, unknown>[] {
  const s = schema as { properties?: Record<string, unknown>; required?: readonly string[] } | undefined
  return Object.entries(s?.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (s?.required ?? []).includes(name),
    schema: property,
    ...(typeof (property as { description?: unknown }).description === 'string'
      ? { description: (property as { description: string }).description }
      : {}),
  }))
}

/** `get /jobs/:id` -> `getJobsById`. */
function operationId(route: ApiRoute): string {
  const words = route.path
    .split('/')
    .filter(Boolean)
    .map((part) => (part.startsWith(':') ? `by-${part.slice(1)}` : part))
    .flatMap((part) => part.split(/[^A-Za-z0-9]+/))
    .filter(Boolean)
  return route.method + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')
}
