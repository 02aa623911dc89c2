/**
 * The name a schedule gets when none is given: the kind and a short, stable hash of the expression
 * and payload, so one kind scheduled with several payloads or expressions keeps every schedule
 * (`cleanup:1a2b3c4d`), and the same call made again (every boot) names the same schedule.
 */
import { createHash } from 'node:crypto'
import type { JsonValue } from '../json.js'

/** Longest kind kept in a default name, so the name stays within the 128 characters names allow. */
const MAX_KIND_CHARS = 119

/** `kind:hash8`, the hash over the trimmed expression and the payload with its keys sorted. */
export function defaultScheduleName(kind: string, expression: string, payload: JsonValue): string {
  const hash = createHash('sha256')
    .update(`${expression.trim()}\n${canonicalJson(payload)}`)
    .digest('hex')
    .slice(0, 8)
  return `${kind.slice(0, MAX_KIND_CHARS)}:${hash}`
}

/** JSON with object keys sorted at every level: equal values give equal text. */
function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  const keys = Object.keys(value).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as JsonValue)}`).join(',')}}`
}
