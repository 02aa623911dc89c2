/** Job ids: decimal strings of a positive 64-bit integer (a PostgreSQL bigint), as enqueue returns them. */

const DIGITS = /^[0-9]{1,19}$/
/** Largest job id (PostgreSQL bigint). */
const MAX_ID = 9_223_372_036_854_775_807n

/** True when `id` is a string of digits no larger than the largest bigint. */
export function isJobId(id: unknown): id is string {
  return typeof id === 'string' && DIGITS.test(id) && (id.length < 19 || BigInt(id) <= MAX_ID)
}
