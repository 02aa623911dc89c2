import { describe, expect, it } from 'vitest'
import { jsonContains } from '../../src/adapters/memory/json-contains.js'
import { CONTAINS_CASES } from './json-contains-cases.js'

describe('jsonContains (memory adapter, jsonb @> semantics)', () => {
  it.each(CONTAINS_CASES.map((c) => [JSON.stringify(c.value), JSON.stringify(c.pattern), c]))(
    '%s @> %s',
    (_value, _pattern, c) => {
      expect(jsonContains(c.value, c.pattern)).toBe(c.contains)
    },
  )

  it('a value always contains itself', () => {
    for (const { value, pattern } of CONTAINS_CASES) {
      expect(jsonContains(value, value)).toBe(true)
      expect(jsonContains(pattern, pattern)).toBe(true)
    }
  })
})
