/**
 * Copies of JSON values for the memory store. Stored values are deep-frozen copies, so they can be
 * shared with callers without copying on every read and nothing a caller holds can change the store.
 * Hand-written (not `structuredClone`) because they run for every insert and claim on the hot path.
 */

const EMPTY_OBJECT = Object.freeze({})

/** Returns a deep copy of a JSON-like value in which every object and array is frozen. */
export function frozenCopy<T>(value: T): T {
  // -0 becomes 0, as JSON (and so PostgreSQL) stores it.
  if (typeof value !== 'object' || value === null) return (value === 0 ? 0 : value) as T
  if (Array.isArray(value)) return Object.freeze(value.map(frozenCopy)) as T
  const keys = Object.keys(value)
  if (keys.length === 0) return EMPTY_OBJECT as T
  const copy: Record<string, unknown> = {}
  for (const key of keys) setOwn(copy, key, frozenCopy((value as Record<string, unknown>)[key]))
  return Object.freeze(copy) as T
}

/** Sets an own property; a plain assignment to `__proto__` would replace the prototype instead. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
  else target[key] = value
}

/** Returns a deep, mutable copy of a JSON-like value (for code that expects to own its objects). */
export function mutableCopy<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) return value.map(mutableCopy) as T
  const copy: Record<string, unknown> = {}
  for (const key of Object.keys(value))
    setOwn(copy, key, mutableCopy((value as Record<string, unknown>)[key]))
  return copy as T
}
