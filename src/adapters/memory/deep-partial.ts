/** `T` with every object property optional, recursively (arrays keep their length: elements are partial). */
export type DeepPartial<T> = T extends readonly (infer U)[]
  ? readonly DeepPartial<U>[]
  : T extends object
    ? { readonly [K in keyof T]?: DeepPartial<T[K]> }
    : T

/**
 * True when `actual` contains `expected`: every key of an expected object must match the actual
 * value at that key (other actual keys are ignored), arrays must have the same length and match
 * element by element, and anything else must be the same value (`Object.is`).
 */
export function matchesDeepPartial(expected: unknown, actual: unknown): boolean {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return false
    return expected.every((value, i) => matchesDeepPartial(value, actual[i]))
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return false
    const record = actual as Record<string, unknown>
    return Object.keys(expected).every((key) =>
      matchesDeepPartial(
        (expected as Record<string, unknown>)[key],
        Object.hasOwn(record, key) ? record[key] : undefined,
      ),
    )
  }
  return Object.is(expected, actual)
}
