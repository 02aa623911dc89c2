/**
 * `adminPlugin`: a plain encapsulated Fastify plugin (its hooks, parsers and error pages stay inside
 * it, and it works under any prefix) that serves the admin pages and the JSON API (`/api/v1`) over the
 * public `Queue` API.
 */
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import { ConveyorError } from '../core/domain/errors.js'
import { hasValidApiToken } from './api/guard.js'
import { API_PREFIX, registerApi } from './api/plugin.js'
import { type AdminContext, adminContext, makeView, sendPage } from './context.js'
import { AdminHttpError } from './errors.js'
import type { AdminOptions } from './options.js'
import { resolveAdminOptions } from './options.js'
import { errorPage } from './pages/error.js'
import { registerActions } from './routes/actions.js'
import { registerPages } from './routes/pages.js'
import { formatSchemaErrors } from './schemas.js'
import { guardRequests, refuse } from './security.js'

/** Largest form body accepted, bytes. */
const FORM_LIMIT = 16_384

/**
 * The `maxParamLength` Fastify needs for the admin's paths: queue and schedule names are up to 128
 * characters, each up to three once percent-encoded (`:` is `%3A`). Fastify's default is 100.
 */
export const ADMIN_MAX_PARAM_LENGTH = 128 * 3

/**
 * The `maxParamLength` a Fastify instance was created with. Fastify 5.5 and later take it in
 * `routerOptions` (the top-level option still works there but is deprecated); 5.0 to 5.4 take only the
 * top-level one and drop `routerOptions` from their config. Reading `initialConfig` warns on no
 * version. Where both are in the config, one of them is Fastify's default, unless the host set both:
 * the larger is taken, so a host sized either way is never warned about.
 */
function configuredMaxParamLength(config: {
  readonly maxParamLength?: number
  readonly routerOptions?: { readonly maxParamLength?: number }
}): number | undefined {
  const lengths = [config.maxParamLength, config.routerOptions?.maxParamLength].filter(
    (n): n is number => n !== undefined,
  )
  return lengths.length === 0 ? undefined : Math.max(...lengths)
}

/** The admin pages and JSON API as a Fastify plugin: `app.register(adminPlugin, { prefix: '/admin', queue, authorize })`. */
export const adminPlugin: FastifyPluginAsync<AdminOptions> = async (app, options) => {
  const ctx = adminContext(resolveAdminOptions(options), app.prefix)
  const metrics = options.metrics
  if (metrics !== undefined && typeof metrics !== 'function') {
    throw new TypeError('adminPlugin: metrics must be a function, e.g. metricsHandler(registry).')
  }
  const maxParamLength = configuredMaxParamLength(app.initialConfig)
  if (maxParamLength !== undefined && maxParamLength < ADMIN_MAX_PARAM_LENGTH) {
    app.log.warn(
      `adminPlugin: this Fastify instance has maxParamLength ${maxParamLength}, so queue and schedule names longer than that (percent-encoded) answer 414 in the admin; create it with Fastify({ routerOptions: { maxParamLength: ${ADMIN_MAX_PARAM_LENGTH} } }) (ADMIN_MAX_PARAM_LENGTH; on Fastify before 5.5, Fastify({ maxParamLength: ${ADMIN_MAX_PARAM_LENGTH} })).`,
    )
  }
  // Two sibling scopes, so each has its own guard, parsers and error answers: HTML pages, JSON API.
  await app.register(async (api) => registerApi(api, ctx), { prefix: API_PREFIX })
  await app.register(async (pages) => {
    pages.addHook('onRequest', guardRequests(ctx.authorize))
    pages.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: FORM_LIMIT },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    )
    pages.setSchemaErrorFormatter(formatSchemaErrors)
    pages.setErrorHandler((error: FastifyError, request, reply) => showError(ctx, error, request, reply))
    pages.setNotFoundHandler((request, reply) =>
      showError(
        ctx,
        new AdminHttpError(404, 'There is no such page here.', 'ROUTE_NOT_FOUND'),
        request,
        reply,
      ),
    )
    registerPages(pages, ctx)
    registerActions(pages, ctx)
  })
  if (metrics !== undefined) {
    // Read-only, so a scraper may use an API token (Prometheus' bearer authorization) instead of
    // whatever `authorize` asks of a person.
    await app.register(async (scrape) => {
      scrape.addHook(
        'onRequest',
        guardRequests(async (request) => (await hasValidApiToken(ctx, request)) || ctx.authorize(request)),
      )
      // A renderer's error (a push gateway's address, a password in it) goes to the log, not the scraper.
      scrape.setErrorHandler((error, request, reply) => {
        request.log.error({ err: error }, 'conveyor admin: rendering the metrics failed')
        return reply
          .code(500)
          .type('text/plain; charset=utf-8')
          .send('Rendering the metrics failed; the server log has the details.\n')
      })
      scrape.get('/metrics', async (_request, reply) => {
        const { contentType, body } = await metrics()
        return reply.header('content-type', contentType).send(body)
      })
    })
  }
}

/** Renders an error as a page: the message for input and state errors, nothing of a server error. */
async function showError(
  ctx: AdminContext,
  error: Error & { statusCode?: number; code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const { statusCode, message } = describeError(error)
  if (statusCode >= 500) request.log.error({ err: error }, 'conveyor admin: request failed')
  try {
    const view = await makeView(ctx, request, reply)
    return sendPage(ctx, request, reply, view, errorPage(view, statusCode, message), statusCode)
  } catch (pageError) {
    request.log.error({ err: pageError }, 'conveyor admin: could not render the error page')
    return refuse(reply, 500)
  }
}

function describeError(error: Error & { statusCode?: number; code?: string }): {
  statusCode: number
  message: string
} {
  if (error instanceof AdminHttpError) return { statusCode: error.statusCode, message: error.adminMessage }
  const adminMessage = (error as { adminMessage?: unknown }).adminMessage
  if (typeof adminMessage === 'string') return { statusCode: 400, message: adminMessage }
  if (error instanceof ConveyorError) {
    if (error.code === 'INVALID_ARGUMENT') return { statusCode: 400, message: error.message }
    if (error.code === 'STORAGE_UNAVAILABLE') {
      return { statusCode: 503, message: 'The job store is unavailable right now; try again in a moment.' }
    }
  }
  const status = error.statusCode
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own client errors (body too large, bad content type) carry generic messages.
    return { statusCode: status, message: error.message }
  }
  return { statusCode: 500, message: 'The request failed. The server log has the details.' }
}
