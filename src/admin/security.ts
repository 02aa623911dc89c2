/**
 * Request-wide safety: a CSP nonce per request, security headers on every answer, and the
 * `authorize` gate that refuses a request before anything else runs (with no detail in the answer).
 */
import { randomBytes } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { bareDocument } from './layout.js'
import type { RequestCheck } from './options.js'

const nonces = new WeakMap<FastifyRequest, string>()

/** The request's CSP nonce (created on first use). */
export function nonceOf(request: FastifyRequest): string {
  let nonce = nonces.get(request)
  if (nonce === undefined) {
    nonce = randomBytes(16).toString('base64')
    nonces.set(request, nonce)
  }
  return nonce
}

/** Sets the security headers: a strict CSP allowing only this request's nonce'd style and script. */
export function setSecurityHeaders(request: FastifyRequest, reply: FastifyReply): void {
  const nonce = nonceOf(request)
  reply.header(
    'content-security-policy',
    [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src 'nonce-${nonce}'`,
      "img-src 'self' data:",
      "connect-src 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
  )
  reply.header('x-frame-options', 'DENY')
  reply.header('x-content-type-options', 'nosniff')
  reply.header('referrer-policy', 'same-origin')
  reply.header('cross-origin-opener-policy', 'same-origin')
  reply.header('cross-origin-resource-policy', 'same-origin')
  reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=()')
  reply.header('cache-control', 'no-store')
}

/** Refuses with a bare page that says nothing about the data. */
export function refuse(reply: FastifyReply, statusCode: 401 | 403 | 500): FastifyReply {
  const [title, message] =
    statusCode === 401
      ? ['Unauthorized', 'Sign in to see this page.']
      : statusCode === 403
        ? ['Forbidden', 'You are not allowed to see this page.']
        : ['Something went wrong', 'The request could not be checked. See the server log.']
  return reply.code(statusCode).type('text/html; charset=utf-8').send(bareDocument(title, message))
}

/** An `onRequest` hook: security headers, then `authorize` (false: 403; throwing: 500, logged). */
export function guardRequests(authorize: RequestCheck) {
  return async function guard(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply | undefined> {
    setSecurityHeaders(request, reply)
    let allowed: boolean
    try {
      allowed = (await authorize(request)) === true
    } catch (error) {
      request.log.error({ err: error }, 'conveyor admin: authorize() threw; refusing the request')
      return refuse(reply, 500)
    }
    return allowed ? undefined : refuse(reply, 403)
  }
}
