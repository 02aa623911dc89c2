/**
 * Flash messages: what an action did, carried across its redirect in a signed, short-lived cookie
 * and shown once by the next page (so a crafted link cannot show a forged message).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { readCookie, setCookie } from './cookies.js'
import { sign, verifySignature } from './signing.js'

/** A message for the next page: `ok` for what was done, `error` for what could not be. */
export interface Flash {
  readonly kind: 'ok' | 'error'
  readonly text: string
}

const COOKIE = 'conveyor_admin_flash'
const PURPOSE = 'flash'

/** Stores `flash` for the next page the browser loads under `cookiePath`. */
export function setFlash(
  request: FastifyRequest,
  reply: FastifyReply,
  secret: Buffer,
  cookiePath: string,
  flash: Flash,
): void {
  const body = Buffer.from(JSON.stringify({ k: flash.kind, t: flash.text.slice(0, 300) })).toString(
    'base64url',
  )
  const value = `${body}.${sign(secret, PURPOSE, body)}`
  setCookie(request, reply, COOKIE, value, { path: cookiePath, sameSite: 'Lax', maxAgeSeconds: 60 })
}

/** Returns the pending flash, if any and genuine, and clears it. */
export function takeFlash(
  request: FastifyRequest,
  reply: FastifyReply,
  secret: Buffer,
  cookiePath: string,
): Flash | null {
  const value = readCookie(request, COOKIE)
  if (value === undefined) return null
  setCookie(request, reply, COOKIE, '', { path: cookiePath, sameSite: 'Lax', maxAgeSeconds: 0 })
  const [body = '', signature] = value.split('.')
  if (!verifySignature(secret, PURPOSE, body, signature)) return null
  try {
    const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { k?: unknown; t?: unknown }
    if ((parsed.k !== 'ok' && parsed.k !== 'error') || typeof parsed.t !== 'string') return null
    return { kind: parsed.k, text: parsed.t }
  } catch {
    return null
  }
}
