/**
 * CSRF protection: each browser gets a random HttpOnly, SameSite=Strict cookie, and every form
 * carries the HMAC of that cookie under the plugin's secret. A POST passes only when its token is the
 * HMAC of its own cookie: another site can neither read the cookie nor compute the HMAC.
 */
import { randomBytes } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { readCookie, setCookie } from './cookies.js'
import { sign, verifySignature } from './signing.js'

/** Name of the cookie that holds the browser's CSRF seed. */
export const CSRF_COOKIE = 'conveyor_admin_csrf'

/** Name of the form field that carries the token. */
export const CSRF_FIELD = '_csrf'

const PURPOSE = 'csrf'

/** Returns the token for forms on this page, setting the seed cookie when the browser has none. */
export function csrfTokenFor(
  request: FastifyRequest,
  reply: FastifyReply,
  secret: Buffer,
  cookiePath: string,
): string {
  let seed = readCookie(request, CSRF_COOKIE)
  if (seed === undefined || seed.length < 32) {
    seed = randomBytes(32).toString('base64url')
    setCookie(request, reply, CSRF_COOKIE, seed, { path: cookiePath, sameSite: 'Strict' })
  }
  return sign(secret, PURPOSE, seed)
}

/** True when the request carries a seed cookie and `token` is that seed's signature. */
export function csrfTokenValid(request: FastifyRequest, secret: Buffer, token: unknown): boolean {
  const seed = readCookie(request, CSRF_COOKIE)
  if (seed === undefined || seed.length < 32) return false
  return verifySignature(secret, PURPOSE, seed, token)
}
