import { describe, expect, it } from 'vitest'
import { defaultScheduleName } from '../../src/core/domain/schedules/default-name.js'
import { validateName } from '../../src/core/domain/validation.js'

describe('default schedule names', () => {
  it('is the kind and 8 hex digits, equal for equal values whatever the key order, at any depth', () => {
    const a = defaultScheduleName('cleanup', '0 4 * * *', { x: [1, { b: 2, a: 1 }], y: null })
    const b = defaultScheduleName('cleanup', ' 0 4 * * * ', { y: null, x: [1, { a: 1, b: 2 }] })
    expect(a).toMatch(/^cleanup:[0-9a-f]{8}$/)
    expect(b).toBe(a)
  })

  it('differs when the expression or the payload differs (arrays keep their order)', () => {
    const base = defaultScheduleName('cleanup', '@daily', { list: [1, 2] })
    expect(defaultScheduleName('cleanup', '@hourly', { list: [1, 2] })).not.toBe(base)
    expect(defaultScheduleName('cleanup', '@daily', { list: [2, 1] })).not.toBe(base)
    expect(defaultScheduleName('cleanup', '@daily', { list: [1, 2], more: true })).not.toBe(base)
  })

  it('stays the same from one version to the next (a changed hash would register a second schedule)', () => {
    expect(
      defaultScheduleName('cleanup', '@daily', { list: [1, 2], b: { y: 1, x: [true, null, 'a'] } }),
    ).toBe('cleanup:0a66a35b')
  })

  it('stays a valid name (for unschedule) when the kind is as long as names allow', () => {
    const kind = `k${'x'.repeat(127)}`
    const name = defaultScheduleName(kind, '@daily', null)
    expect(() => validateName(name, 'schedule name')).not.toThrow()
  })
})
