/**
 * The shared argument checks of the domain (src/core/domain/validation.ts), at their edges: each
 * refuses with `InvalidArgumentError` naming the field and the value it got, and lets valid values
 * through unchanged.
 */
import { expect, describe as group, it } from 'vitest'
import { InvalidArgumentError } from '../../src/core/domain/errors.js'
import {
  describe,
  MAX_TIME,
  MIN_TIME,
  validateBackoffInput,
  validateGroupLockTimeout,
  validateOptionalBoolean,
  validateOptionalInt,
  validateOptionalString,
  validateOptionalTime,
  validateOptionsObject,
} from '../../src/core/domain/validation.js'

const refuses = (check: () => unknown, message: string) => {
  expect(check).toThrow(InvalidArgumentError)
  expect(check).toThrow(message)
}

group('validateOptionalInt', () => {
  it('accepts the bounds themselves and undefined', () => {
    expect(validateOptionalInt(1, 'n', 1, 5)).toBe(1)
    expect(validateOptionalInt(5, 'n', 1, 5)).toBe(5)
    expect(validateOptionalInt(undefined, 'n', 1, 5)).toBeUndefined()
  })

  it.each([
    ['below the minimum', 0, 'number 0'],
    ['above the maximum', 6, 'number 6'],
    ['a fraction', 2.5, 'number 2.5'],
    ['a numeric string', '3', '"3"'],
  ])('refuses %s', (_name, value, got) => {
    refuses(() => validateOptionalInt(value, 'n', 1, 5), `n must be an integer from 1 to 5; got ${got}.`)
  })
})

group('validateOptionsObject', () => {
  it('gives {} for undefined and the object itself otherwise', () => {
    expect(validateOptionsObject(undefined, 'opts', ['a'])).toEqual({})
    const o = { a: 1 }
    expect(validateOptionsObject(o, 'opts', ['a'])).toBe(o)
    expect(validateOptionsObject({ anything: 1 }, 'opts', null)).toEqual({ anything: 1 })
  })

  it.each([
    ['null', null, 'null'],
    ['an array', [], 'an array'],
    ['a string', 'a', '"a"'],
  ])('refuses %s', (_name, value, got) => {
    refuses(() => validateOptionsObject(value, 'opts', null), `opts must be an object; got ${got}.`)
  })

  it('refuses an unknown key and lists the known ones', () => {
    refuses(
      () => validateOptionsObject({ a: 1, b: 2 }, 'opts', ['a', 'c']),
      'opts: unknown option "b". Known options: a, c.',
    )
  })

  it('names the closest known key of a typo (another case, one edit, two for longer keys), none on a tie', () => {
    refuses(
      () => validateOptionsObject({ graceMS: 1 }, 'opts', ['graceMs']),
      'opts: unknown option "graceMS" (did you mean "graceMs"?). Known options: graceMs.',
    )
    refuses(
      () => validateOptionsObject({ limt: 1 }, 'opts', ['limit', 'queues']),
      'opts: unknown option "limt" (did you mean "limit"?). Known options: limit, queues.',
    )
    refuses(
      () => validateOptionsObject({ timeoutM: 1 }, 'opts', ['timeoutMs', 'priority']),
      'opts: unknown option "timeoutM" (did you mean "timeoutMs"?). Known options: timeoutMs, priority.',
    )
    refuses(
      () => validateOptionsObject({ ab: 1 }, 'opts', ['aa', 'bb']),
      'opts: unknown option "ab". Known options: aa, bb.',
    )
  })
})

group('validateOptionalBoolean', () => {
  it('accepts true, false and undefined', () => {
    expect(validateOptionalBoolean(true, 'flag')).toBe(true)
    expect(validateOptionalBoolean(false, 'flag')).toBe(false)
    expect(validateOptionalBoolean(undefined, 'flag')).toBeUndefined()
  })

  it('refuses anything else', () => {
    refuses(() => validateOptionalBoolean('yes', 'flag'), 'flag must be true or false; got "yes".')
    refuses(() => validateOptionalBoolean(null, 'flag'), 'got null')
  })
})

group('validateOptionalString', () => {
  it('gives null for undefined and null, and the string at the maximum length', () => {
    expect(validateOptionalString(undefined, 's', 3)).toBeNull()
    expect(validateOptionalString(null, 's', 3)).toBeNull()
    expect(validateOptionalString('abc', 's', 3)).toBe('abc')
  })

  it.each([
    ['empty', ''],
    ['too long', 'abcd'],
    ['with \\u0000', 'a\u0000'],
    ['a number', 1],
  ])('refuses %s', (_name, value) => {
    refuses(
      () => validateOptionalString(value, 's', 3),
      's must be a non-empty string of at most 3 characters',
    )
  })
})

group('validateOptionalTime', () => {
  it('accepts epoch ms and Dates at the edges of years 1 and 9999', () => {
    expect(validateOptionalTime(MIN_TIME, 'runAt')).toBe(MIN_TIME)
    expect(validateOptionalTime(MAX_TIME, 'runAt')).toBe(MAX_TIME)
    expect(validateOptionalTime(new Date(0), 'runAt')).toBe(0)
    expect(validateOptionalTime(undefined, 'runAt')).toBeUndefined()
  })

  it.each([
    ['before year 1', MIN_TIME - 1],
    ['after year 9999', MAX_TIME + 1],
    ['NaN', Number.NaN],
    ['an invalid Date', new Date(Number.NaN)],
    ['a date string', '2030-01-01'],
  ])('refuses %s', (_name, value) => {
    refuses(() => validateOptionalTime(value, 'runAt'), 'runAt must be a valid Date or epoch milliseconds')
  })
})

group('validateBackoffInput', () => {
  it('accepts undefined, a function and a partial policy', () => {
    expect(validateBackoffInput(undefined)).toBeUndefined()
    const fn = () => 1
    expect(validateBackoffInput(fn)).toBe(fn)
    expect(validateBackoffInput({ baseMs: 10 })).toEqual({ baseMs: 10 })
  })

  it.each([
    ['null', null],
    ['a number', 5],
  ])('refuses %s', (_name, value) => {
    refuses(() => validateBackoffInput(value), 'backoff must be { baseMs, factor, maxMs, jitter }')
  })

  it('refuses an unknown field', () => {
    refuses(() => validateBackoffInput({ baseMs: 10, delay: 5 }), 'backoff has unknown field "delay"')
  })
})

group('validateGroupLockTimeout', () => {
  it('refuses a group lock timeout shorter than the job timeout, and allows equal or no timeout', () => {
    refuses(
      () => validateGroupLockTimeout(999, 1000, 'groupLockTimeoutMs'),
      'groupLockTimeoutMs (999 ms) is shorter',
    )
    expect(() => validateGroupLockTimeout(1000, 1000, 'g')).not.toThrow()
    expect(() => validateGroupLockTimeout(5, 0, 'g')).not.toThrow()
  })
})

group('describe (the value in error messages)', () => {
  it.each([
    [null, 'null'],
    [undefined, 'undefined'],
    ['abc', '"abc"'],
    ['x'.repeat(60), `"${'x'.repeat(60)}"`],
    ['x'.repeat(61), `"${'x'.repeat(60)}..."`],
    [1.5, 'number 1.5'],
    [false, 'boolean false'],
    [10n, 'bigint 10'],
    [() => 1, 'a function'],
    [[1], 'an array'],
    [new Date(0), 'Date 1970-01-01T00:00:00.000Z'],
    [new Date(Number.NaN), 'Date Invalid Date'],
    [new Map(), 'a Map'],
    [{}, 'a Object'],
    [Object.create(null), 'a object'],
    [Symbol('s'), 'a Symbol'],
  ])('describes %s as %s', (value, text) => {
    expect(describe(value)).toBe(text)
  })
})
