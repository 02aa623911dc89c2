/**
 * The JSON API, an encapsulated scope of the admin plugin under `/api/v1`: its own guard (API tokens
 * or `authorize`, read-only mode, CSRF for browser sessions), JSON bodies only (64 KiB at most),
 * errors in one JSON shape, and an OpenAPI document built from the routes' schemas. The routes call
 * the same operations as the HTML pages.
 */
import type { FastifyInstance } from 'fastify'
import type { AdminContext } from '../context.js'
import { csrfTokenFor } from '../csrf.js'
import { AdminHttpError } from '../errors.js'
import { formatApiSchemaErrors, preferUnknownField, sendApiError } from './errors.js'
import { guardApi } from './guard.js'
import { type ApiRoute, apiRoutesOf, openApiDocument } from './openapi.js'
import { registerJobRoutes } from './routes-jobs.js'
import { registerQueueRoutes, registerScheduleRoutes } from './routes-queues.js'
import { registerStorageRoutes } from './routes-storage.js'
import { documented, errorResponses } from './schemas.js'

/** Where the API lives below the admin prefix. */
export const API_PREFIX = '/api/v1'

/** Largest JSON body accepted, bytes. */
export const API_BODY_LIMIT = 65_536

/** Registers the API's routes and rules on `api` (a scope with prefix `API_PREFIX`). */
export async function registerApi(api: FastifyInstance, ctx: AdminContext): Promise<void> {
  const routes: ApiRoute[] = []
  api.addHook('onRoute', (route) => {
    route.bodyLimit ??= API_BODY_LIMIT
    routes.push(...apiRoutesOf(route))
  })
  // JSON only: a text or form body could come from another site's plain HTML form.
  api.removeContentTypeParser(['text/plain'])
  api.addHook('onRequest', guardApi(ctx))
  api.setSchemaErrorFormatter(formatApiSchemaErrors)
  api.setErrorHandler((error, request, reply) =>
    sendApiError(preferUnknownField(error, request), request, reply),
  )
  api.setNotFoundHandler((request, reply) =>
    sendApiError(
      new AdminHttpError(
        404,
        `There is no API route ${request.method} ${request.url.split('?')[0]}: see GET ${ctx.prefix}${API_PREFIX}/openapi.json.`,
        'ROUTE_NOT_FOUND',
      ),
      request,
      reply,
    ),
  )

  registerJobRoutes(api, ctx)
  registerQueueRoutes(api, ctx)
  registerScheduleRoutes(api, ctx)
  registerStorageRoutes(api, ctx)

  api.get(
    '/csrf-token',
    {
      schema: documented({
        summary: 'The CSRF token a signed-in browser session sends in x-csrf-token (sets its cookie)',
        tags: ['session'],
        response: {
          200: {
            type: 'object',
            required: ['token', 'header', 'readOnly'],
            properties: {
              token: { type: 'string' },
              header: { type: 'string' },
              readOnly: { type: 'boolean' },
            },
          },
          ...errorResponses(),
        },
      }),
    },
    async (request, reply) => ({
      token: csrfTokenFor(request, reply, ctx.secret, ctx.cookiePath),
      header: 'x-csrf-token',
      readOnly: await ctx.readOnly(request),
    }),
  )

  let document: Record<string, unknown> | null = null
  api.get(
    '/openapi.json',
    {
      schema: documented({
        summary: 'This document',
        tags: ['session'],
        response: { 200: { type: 'object', additionalProperties: true }, ...errorResponses() },
      }),
    },
    async () => {
      document ??= openApiDocument(routes, {
        title: ctx.title,
        basePath: `${ctx.prefix}${API_PREFIX}`,
        bearer: ctx.checkApiToken !== null,
      })
      return document
    },
  )
}
