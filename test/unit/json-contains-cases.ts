/**
 * A table of JSON containment cases with the answer of PostgreSQL's `jsonb @>`: the memory adapter's
 * `jsonContains` must agree with it (test/unit/json-contains.test.ts), and the Postgres test
 * (test/postgres/json-contains.test.ts) checks the table against the real server.
 */
import type { JsonValue } from '../../src/core/domain/json.js'

/** One case: does `value` contain `pattern`? */
export interface ContainsCase {
  readonly value: JsonValue
  readonly pattern: JsonValue
  readonly contains: boolean
}

const c = (value: JsonValue, pattern: JsonValue, contains: boolean): ContainsCase => ({
  value,
  pattern,
  contains,
})

/** The cases, grouped by what they exercise. */
export const CONTAINS_CASES: readonly ContainsCase[] = [
  // scalars
  c(1, 1, true),
  c(1, 1.0, true),
  c(1, 2, false),
  c(0.1, 0.1, true),
  c(1e21, 1e21, true),
  c(-0, 0, true),
  c('1', 1, false),
  c(1, '1', false),
  c('a', 'a', true),
  c('a', 'A', false),
  c('', '', true),
  c(true, true, true),
  c(true, false, false),
  c(true, 'true', false),
  c(null, null, true),
  c(null, false, false),
  c(0, null, false),
  c('null', null, false),
  c('é', 'é', true),
  // objects
  c({}, {}, true),
  c({ a: 1 }, {}, true),
  c({}, { a: 1 }, false),
  c({ a: 1, b: 2 }, { a: 1 }, true),
  c({ a: 1 }, { a: 1, b: 2 }, false),
  c({ a: 1 }, { a: 1.0 }, true),
  c({ a: 1 }, { a: '1' }, false),
  c({ a: null }, { a: null }, true),
  c({ a: 1 }, { a: null }, false),
  c({}, { a: null }, false),
  c({ a: { b: { c: 1, d: 2 } } }, { a: { b: { c: 1 } } }, true),
  c({ a: { b: { c: 1 } } }, { a: { b: { c: 2 } } }, false),
  c({ a: { b: 1 } }, { a: {} }, true),
  c({ a: 1 }, { a: {} }, false),
  c({ a: [] }, { a: {} }, false),
  c({ a: {} }, { a: [] }, false),
  c({ a: [1, 2, 3] }, { a: [3, 1] }, true),
  c({ a: [1, 2, 3] }, { a: [4] }, false),
  c({ a: [1, 2] }, { a: 1 }, false),
  c({ a: 1 }, { a: [1] }, false),
  c({ a: [1, 2] }, { a: [] }, true),
  c({ 'a.b': 1 }, { 'a.b': 1 }, true),
  c({ '': 1 }, { '': 1 }, true),
  c({ a: 1 }, 1, false),
  c({ a: 1 }, [], false),
  c({ a: 1 }, ['a'], false),
  // arrays
  c([], [], true),
  c([1], [], true),
  c([], [1], false),
  c([1, 2, 3], [3, 1], true),
  c([1, 2, 3], [1, 1, 1], true),
  c([1], [1, 2], false),
  c([1, 2], [1.0], true),
  c(['1'], [1], false),
  c([null], [null], true),
  c([1], [null], false),
  c([[1, 2], [3]], [[1]], true),
  c([[1, 2], [3]], [[1, 3]], false),
  c([[1, 2], [3]], [[1], [3]], true),
  c([1, [2, 3]], [2], false),
  c([1, [2, 3]], [[]], true),
  c([1, 2], [[]], false),
  c([{ a: 1, b: 2 }, { c: 3 }], [{ a: 1 }], true),
  c([{ a: 1, b: 2 }, { c: 3 }], [{ a: 1, c: 3 }], false),
  c([{ a: 1 }, { c: 3 }], [{ a: 1 }, { c: 3 }], true),
  c([{ a: 1 }], [{}], true),
  c([1], [{}], false),
  c([{ a: [1, { b: 2 }] }], [{ a: [{ b: 2 }] }], true),
  c([{ a: [1, { b: 2 }] }], [{ a: [{ b: 3 }] }], false),
  c([], {}, false),
  c([{ a: 1 }], { a: 1 }, false),
  // a top-level array contains a top-level scalar, but not below the top level
  c([1, 2], 1, true),
  c([1, 2], 3, false),
  c(['a', 'b'], 'b', true),
  c([null], null, true),
  c([], null, false),
  c([[1]], 1, false),
  c([1], [1], true),
  c(1, [1], false),
  c('a', ['a'], false),
  c({ a: [1] }, { a: 1 }, false),
  c([[1, 2]], [1], false),
  // mixed, deeper
  c(
    { user: { id: 7, roles: ['admin', 'dev'], prefs: { mail: true } }, tags: ['x'] },
    { user: { roles: ['dev'], prefs: {} } },
    true,
  ),
  c(
    { user: { id: 7, roles: ['admin', 'dev'], prefs: { mail: true } }, tags: ['x'] },
    { user: { roles: ['ops'] } },
    false,
  ),
  c({ n: 12345678901234 }, { n: 12345678901234 }, true),
  c({ n: 0.30000000000000004 }, { n: 0.3 }, false),
]
