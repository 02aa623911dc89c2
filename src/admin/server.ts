/**
 * The standalone admin server the command line serves: a Fastify instance with the admin plugin,
 * guarded by basic authentication and/or an `authorize` hook (one of them is required).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify'
import { InvalidOptionsError } from '../core/domain/errors.js'
import { hasValidApiToken } from './api/guard.js'
import { API_PREFIX } from './api/plugin.js'
import type { AdminOptions, RequestCheck } from './options.js'
import { resolveAdminOptions } from './options.js'
import { ADMIN_MAX_PARAM_LENGTH, adminPlugin } from './plugin.js'
import { refuse, setSecurityHeaders } from './security.js'

/** Credentials of the standalone server. */
export interface BasicAuthOptions {
  readonly username: string
  readonly password: string
  /** Realm shown by the browser's sign-in dialog (default `Conveyor`). */
  readonly realm?: string
}

/** Options of `createAdminServer`: the plugin's options, with `authorize` optional when `basicAuth` is given. */
export interface AdminServerOptions extends Omit<AdminOptions, 'authorize'> {
  /** Basic authentication for every request (checked before `authorize`). */
  readonly basicAuth?: BasicAuthOptions
  /** Further check after basic authentication; required when `basicAuth` is not given. */
  readonly authorize?: RequestCheck
  /** Where the pages live (default `/`). */
  readonly prefix?: string
  /** Fastify's logger option (default off). */
  readonly logger?: FastifyServerOptions['logger']
}

/** Creates (without listening) a Fastify server that serves the admin pages; call `listen()` on it. */
export function createAdminServer(options: AdminServerOptions): FastifyInstance {
  const { basicAuth, authorize, prefix = '/', logger = false, ...pluginOptions } = options
  if (basicAuth === undefined && authorize === undefined) {
    throw new InvalidOptionsError(
      'createAdminServer: give `basicAuth: { username, password }` or an `authorize(request)` function, so the page is never public by accident.',
    )
  }
  const checkCredentials = basicAuth === undefined ? null : basicAuthCheck(basicAuth)
  const pluginAuthorize: RequestCheck = authorize ?? (() => true)
  // Fails now (not at listen) on bad options.
  const settings = resolveAdminOptions({ ...pluginOptions, authorize: pluginAuthorize })
  const apiPath = `${prefix.replace(/\/+$/, '')}${API_PREFIX}/`
  const metricsPath = `${prefix.replace(/\/+$/, '')}/metrics`
  /** Requests a token may make instead of the password: the JSON API, and the metrics (read-only). */
  const tokenPath = (url: string) =>
    url.startsWith(apiPath) ||
    (pluginOptions.metrics !== undefined && (url === metricsPath || url.startsWith(`${metricsPath}?`)))

  const app = fastifyForAdmin({ logger, bodyLimit: 65_536 })
  if (checkCredentials !== null && basicAuth !== undefined) {
    const realm = (basicAuth.realm ?? 'Conveyor').replace(/["\\]/g, '')
    app.addHook('onRequest', async (request, reply) => {
      if (checkCredentials(request)) return undefined
      // Machine clients (the JSON API, a metrics scraper) authenticate with their token instead
      // (checked again there).
      if (tokenPath(request.url) && (await hasValidApiToken(settings, request))) return undefined
      setSecurityHeaders(request, reply)
      reply.header('www-authenticate', `Basic realm="${realm}", charset="UTF-8"`)
      return refuse(reply, 401)
    })
  }
  app.register(adminPlugin, { ...pluginOptions, authorize: pluginAuthorize, prefix })
  return app
}

/**
 * A Fastify instance with the admin's `maxParamLength`, set the way the installed Fastify takes it
 * without a deprecation warning: in `routerOptions` on Fastify 5.5 and later; at the top level on 5.0
 * to 5.4, which ignore `routerOptions` (and leave it out of `initialConfig`, which is how this tells).
 * On those, the first instance is dropped unused (it has not listened or loaded a plugin).
 */
function fastifyForAdmin(options: Pick<FastifyServerOptions, 'logger' | 'bodyLimit'>): FastifyInstance {
  const app = Fastify({ ...options, routerOptions: { maxParamLength: ADMIN_MAX_PARAM_LENGTH } })
  if (app.initialConfig.routerOptions !== undefined) return app
  return Fastify({ ...options, maxParamLength: ADMIN_MAX_PARAM_LENGTH })
}

/** A constant-time check of the `Authorization: Basic` header against the configured credentials. */
function basicAuthCheck(credentials: BasicAuthOptions): (request: FastifyRequest) => boolean {
  if (
    typeof credentials.username !== 'string' ||
    credentials.username === '' ||
    credentials.username.includes(':')
  ) {
    throw new InvalidOptionsError(
      'createAdminServer: basicAuth.username must be a non-empty string without ":"',
    )
  }
  if (typeof credentials.password !== 'string' || credentials.password.length < 8) {
    throw new InvalidOptionsError('createAdminServer: basicAuth.password must be at least 8 characters long')
  }
  const digest = (text: string) => createHash('sha256').update(text).digest()
  const expected = digest(`${credentials.username}:${credentials.password}`)
  return (request) => {
    const header = request.headers.authorization
    if (typeof header !== 'string' || header.length > 1024) return false
    const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header.trim())
    if (match === null) return false
    const given = digest(Buffer.from(match[1] ?? '', 'base64').toString('utf8'))
    return timingSafeEqual(given, expected)
  }
}
