/** HMAC signatures under the plugin's secret, with a purpose label so one signature never serves another. */
import { createHmac, timingSafeEqual } from 'node:crypto'

/** Signs `value` for `purpose`; the result is URL- and cookie-safe (base64url). */
export function sign(secret: Buffer, purpose: string, value: string): string {
  return createHmac('sha256', secret).update(`${purpose}\0${value}`).digest('base64url')
}

/** True when `signature` is the signature of `value` for `purpose` (constant-time comparison). */
export function verifySignature(secret: Buffer, purpose: string, value: string, signature: unknown): boolean {
  if (typeof signature !== 'string' || signature.length === 0 || signature.length > 200) return false
  const expected = Buffer.from(sign(secret, purpose, value))
  const given = Buffer.from(signature)
  return expected.length === given.length && timingSafeEqual(expected, given)
}
