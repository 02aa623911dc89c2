import { InvalidPayloadError } from './errors.js'

/** A value that survives `JSON.stringify` / `JSON.parse` unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/**
 * Checks that `value` is plain JSON (no undefined, functions, symbols, bigints, NaN/Infinity,
 * Dates, Maps, class instances or cycles) and throws `InvalidPayloadError` naming the path otherwise.
 */
export function assertJsonValue(value: unknown, what = 'payload'): asserts value is JsonValue {
  try {
    if (isPlainJson(value, 0)) return
    explainNotJson(value, what)
  } catch (error) {
    if (error instanceof InvalidPayloadError) throw error
    // A getter or proxy trap that throws while the value is inspected: the value cannot be stored.
    throw new InvalidPayloadError(
      `${what} could not be read (${error instanceof Error ? error.message : String(error)}). Payloads must be plain JSON values.`,
      [{ message: 'could not be read' }],
      { cause: error },
    )
  }
}

/**
 * Deepest nesting of arrays and objects a stored value may have: deeper values overflow the
 * stack of JSON.stringify and of PostgreSQL's jsonb parser.
 */
export const MAX_JSON_DEPTH = 256

/**
 * True for strings both adapters store unchanged: PostgreSQL refuses \u0000 in text and jsonb, and
 * lone UTF-16 surrogates are not valid Unicode (jsonb refuses them, text columns replace them).
 */
export function isStorableString(s: string): boolean {
  return !s.includes('\u0000') && !LONE_SURROGATE.test(s)
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** Fast check without bookkeeping for error paths (the common case: valid payloads). */
function isPlainJson(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case 'string':
      return isStorableString(v)
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(v)
    case 'object': {
      if (v === null) return true
      if (depth > 64) return false // deep or cyclic: let the slow path decide
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!isPlainJson(v[i], depth + 1)) return false
        return true
      }
      const proto = Object.getPrototypeOf(v)
      if (proto !== Object.prototype && proto !== null) return false
      for (const key in v) {
        if (!Object.hasOwn(v, key) || !isStorableString(key)) return false
        if (!isPlainJson((v as Record<string, unknown>)[key], depth + 1)) return false
      }
      return Object.getOwnPropertySymbols(v).length === 0
    }
    default:
      return false
  }
}

const unstorable = 'contains a \\u0000 character or a lone UTF-16 surrogate, which cannot be stored'

function explainNotJson(value: unknown, what: string): void {
  const seen = new Set<object>()
  const fail = (path: PropertyKey[], problem: string): never => {
    const at = path.length
      ? `${what}${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`
      : what
    throw new InvalidPayloadError(
      `${at} ${problem}. Payloads must be plain JSON values (objects, arrays, strings, finite numbers, booleans, null).`,
      [{ message: problem, path }],
    )
  }
  const visit = (v: unknown, path: PropertyKey[]): void => {
    switch (typeof v) {
      case 'string':
        if (!isStorableString(v)) fail(path, unstorable)
        return
      case 'boolean':
        return
      case 'number':
        if (!Number.isFinite(v)) fail(path, `is ${v}, which JSON cannot represent`)
        return
      case 'undefined':
        fail(path, 'is undefined')
        return
      case 'bigint':
        fail(path, 'is a bigint; convert it to a string or number')
        return
      case 'function':
      case 'symbol':
        fail(path, `is a ${typeof v}`)
        return
    }
    if (v === null) return
    const obj = v as object
    if (seen.has(obj)) fail(path, 'contains a circular reference')
    if (path.length >= MAX_JSON_DEPTH) fail(path, `is nested more than ${MAX_JSON_DEPTH} levels deep`)
    if (Array.isArray(obj)) {
      seen.add(obj)
      for (let i = 0; i < obj.length; i++) visit(obj[i], [...path, i])
      seen.delete(obj)
      return
    }
    const proto = Object.getPrototypeOf(obj)
    if (proto !== Object.prototype && proto !== null) {
      const name = (obj as { constructor?: { name?: string } }).constructor?.name ?? 'object'
      fail(path, `is a ${name} instance; convert it to plain JSON first (e.g. a Date to an ISO string)`)
    }
    seen.add(obj)
    for (const key of Object.keys(obj)) {
      if (!isStorableString(key)) fail([...path, key], `is a key that ${unstorable}`)
      visit((obj as Record<string, unknown>)[key], [...path, key])
    }
    for (const sym of Object.getOwnPropertySymbols(obj)) fail([...path, sym], 'is a symbol-keyed property')
    seen.delete(obj)
  }
  visit(value, [])
}

/** Returns a deep copy of a JSON value (so stored jobs never share objects with callers). */
export function cloneJson<T extends JsonValue>(value: T): T {
  return structuredClone(value)
}
