/**
 * JSON containment as PostgreSQL's `jsonb @>` defines it, so the memory store's `payloadIncludes`
 * filter selects the same jobs as the Postgres store's `payload @> $n::jsonb`.
 */
import type { JsonValue } from '../../core/domain/json.js'

type JsonObject = { readonly [key: string]: JsonValue }

/**
 * True when `value` contains `pattern`: scalars contain equal scalars (same type; numbers by value);
 * an object contains an object whose every key it has with a containing value; an array contains an
 * array whose every element is contained in one of its elements (order and duplicates ignored); and,
 * at the top level only, an array contains a scalar that equals one of its elements.
 */
export function jsonContains(value: JsonValue, pattern: JsonValue): boolean {
  if (Array.isArray(value) && !isContainer(pattern)) {
    return value.some((element) => !isContainer(element) && element === pattern)
  }
  return contains(value, pattern)
}

function contains(value: JsonValue, pattern: JsonValue): boolean {
  if (Array.isArray(pattern)) {
    if (!Array.isArray(value)) return false
    return pattern.every((wanted) =>
      isContainer(wanted)
        ? value.some((element) => isContainer(element) && contains(element, wanted))
        : value.some((element) => element === wanted),
    )
  }
  if (isObject(pattern)) {
    if (!isObject(value)) return false
    for (const key of Object.keys(pattern)) {
      if (!Object.hasOwn(value, key)) return false
      if (!contains(value[key] as JsonValue, pattern[key] as JsonValue)) return false
    }
    return true
  }
  // Scalars: JSON numbers are compared by value (1 and 1.0 are the same number in JavaScript).
  return value === pattern
}

function isContainer(v: JsonValue): v is JsonValue[] | JsonObject {
  return typeof v === 'object' && v !== null
}

function isObject(v: JsonValue): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
