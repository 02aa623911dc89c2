import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { editDistance } from '../../src/core/domain/edit-distance.js'

describe('editDistance (for "did you mean")', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('', '')).toBe(0)
    expect(editDistance('queue', 'queue')).toBe(0)
    expect(editDistance('', 'abc')).toBe(3)
    expect(editDistance('delay', 'delayMs')).toBe(2)
    expect(editDistance('prority', 'priority')).toBe(1)
    expect(editDistance('kitten', 'sitting')).toBe(3)
  })

  it('counts two adjacent letters swapped as one edit', () => {
    expect(editDistance('kye', 'key')).toBe(1)
    expect(editDistance('queeu', 'queue')).toBe(1)
    expect(editDistance('ab', 'ba')).toBe(1)
    // Not adjacent: two substitutions.
    expect(editDistance('abc', 'cba')).toBe(2)
  })

  it('is symmetric, zero only for equal strings, and at most the longer length', () => {
    const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 7 })
    fc.assert(
      fc.property(word, word, (a, b) => {
        const d = editDistance(a, b)
        expect(editDistance(b, a)).toBe(d)
        expect(d === 0).toBe(a === b)
        expect(d).toBeLessThanOrEqual(Math.max(a.length, b.length))
        expect(d).toBeGreaterThanOrEqual(Math.abs(a.length - b.length))
      }),
    )
  })
})
