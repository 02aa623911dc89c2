/** Minimal cookie reading and writing (the plugin needs two cookies and no dependency for them). */
import type { FastifyReply, FastifyRequest } from 'fastify'

/** Attributes of a cookie the plugin sets. */
export interface CookieOptions {
  readonly path: string
  readonly maxAgeSeconds?: number
  readonly sameSite: 'Strict' | 'Lax'
}

/** Reads one cookie of the request, or undefined (malformed values are ignored). */
export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie
  if (typeof header !== 'string' || header.length > 16_384) return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue
    const value = part.slice(eq + 1).trim()
    return /^[A-Za-z0-9._~-]{1,4096}$/.test(value) ? value : undefined
  }
  return undefined
}

/** Adds a `Set-Cookie` header (HttpOnly; Secure when the request came over HTTPS). */
export function setCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  name: string,
  value: string,
  options: CookieOptions,
): void {
  const parts = [`${name}=${value}`, `Path=${options.path}`, 'HttpOnly', `SameSite=${options.sameSite}`]
  if (options.maxAgeSeconds !== undefined) parts.push(`Max-Age=${options.maxAgeSeconds}`)
  if (request.protocol === 'https') parts.push('Secure')
  const previous = reply.getHeader('set-cookie')
  const list = previous === undefined ? [] : Array.isArray(previous) ? previous : [String(previous)]
  reply.header('set-cookie', [...list.filter((c) => !c.startsWith(`${name}=`)), parts.join('; ')])
}
