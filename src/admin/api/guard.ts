/**
 * Who may call the JSON API, checked before anything else runs: a bearer token from `apiTokens`, or
 * else the plugin's `authorize` hook (401 in the error shape otherwise). Calls that change state are
 * then refused in read-only mode, and, unless they carry a bearer token (which browsers never send on
 * their own, so no other site can make one ride along), need the admin's CSRF token in the
 * `x-csrf-token` header and must not come from another site.
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AdminContext } from '../context.js'
import { csrfTokenValid } from '../csrf.js'
import { AdminHttpError } from '../errors.js'
import { setSecurityHeaders } from '../security.js'
import { sendApiError } from './errors.js'

/** Header that carries the CSRF token of a cookie session. */
export const CSRF_HEADER = 'x-csrf-token'

/** Longest query string accepted, characters. */
export const QUERY_LIMIT = 4096

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** The bearer token of a request; null when it sends none. */
export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization
  if (typeof header !== 'string' || header.length > 1024) return null
  const match = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i.exec(header)
  return match?.[1] ?? null
}

/** True when `request` is authorized by a valid API token (false when tokens are off or it sends none). */
export async function hasValidApiToken(ctx: Pick<AdminContext, 'checkApiToken'>, request: FastifyRequest) {
  const token = bearerToken(request)
  if (token === null || ctx.checkApiToken === null) return false
  return (await ctx.checkApiToken(token, request)) === true
}

/** The API scope's `onRequest` hook. */
export function guardApi(ctx: AdminContext) {
  return async function guard(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply | undefined> {
    setSecurityHeaders(request, reply)
    const query = request.url.indexOf('?')
    if (query >= 0 && request.url.length - query - 1 > QUERY_LIMIT) {
      return sendApiError(
        new AdminHttpError(
          414,
          `The query string is too long: at most ${QUERY_LIMIT} characters.`,
          'URI_TOO_LONG',
        ),
        request,
        reply,
      )
    }
    let allowed: boolean
    try {
      allowed = (await hasValidApiToken(ctx, request)) || (await ctx.authorize(request)) === true
    } catch (error) {
      request.log.error(
        { err: error },
        'conveyor admin api: authorize() or apiTokens threw; refusing the request',
      )
      return sendApiError(
        new AdminHttpError(500, 'The request could not be checked.', 'INTERNAL_ERROR'),
        request,
        reply,
      )
    }
    if (!allowed) {
      if (ctx.checkApiToken !== null) reply.header('www-authenticate', 'Bearer realm="conveyor"')
      return sendApiError(
        new AdminHttpError(
          401,
          'This request is not authorized: send a valid API token (Authorization: Bearer <token>) or sign in.',
          'UNAUTHORIZED',
        ),
        request,
        reply,
      )
    }
    if (SAFE_METHODS.has(request.method) || request.is404) return undefined
    const refusal = await refuseChange(ctx, request)
    return refusal === null ? undefined : sendApiError(refusal, request, reply)
  }
}

/** Why a state-changing call must not run, or null. */
async function refuseChange(ctx: AdminContext, request: FastifyRequest): Promise<AdminHttpError | null> {
  if (await ctx.readOnly(request)) {
    return new AdminHttpError(403, 'This admin is read-only: changes are turned off.', 'READ_ONLY')
  }
  if (bearerToken(request) !== null) return null
  if (request.headers['sec-fetch-site'] === 'cross-site') {
    return new AdminHttpError(403, 'Calls from other sites are refused.', 'CROSS_SITE_REFUSED')
  }
  if (!csrfTokenValid(request, ctx.secret, request.headers[CSRF_HEADER])) {
    return new AdminHttpError(
      403,
      `A signed-in session must send the CSRF token in the ${CSRF_HEADER} header (GET /api/v1/csrf-token gives it); machine clients use an API token instead.`,
      'CSRF_TOKEN_INVALID',
    )
  }
  return null
}
