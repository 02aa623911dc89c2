import { describe, expect, it } from 'vitest'
import { InvalidPayloadError } from '../../src/core/domain/errors.js'
import { assertJsonValue, cloneJson, MAX_JSON_DEPTH } from '../../src/core/domain/json.js'

describe('assertJsonValue', () => {
  it.each([
    ['string', 'x'],
    ['number', 1.5],
    ['null', null],
    ['nested', { a: [1, { b: true }], c: null }],
    ['null-prototype object', Object.assign(Object.create(null), { a: 1 })],
    ['false and an empty string', { no: false, empty: '' }],
    ['an array of objects', [{ a: 1 }, { b: [true, 'x'] }]],
    ['a surrogate pair', { 'emoji \uD83D\uDE00': '\uD83D\uDE00' }],
    ['nesting deeper than the fast check (100 levels)', nested(100)],
    ['nesting just within the limit', nested(MAX_JSON_DEPTH - 1)],
  ])('accepts %s', (_name, value) => {
    expect(() => assertJsonValue(value)).not.toThrow()
  })

  it.each([
    ['undefined field', { a: undefined }, 'payload.a is undefined'],
    ['NaN', { n: Number.NaN }, 'payload.n is NaN'],
    ['Infinity in array', [1, Number.POSITIVE_INFINITY], 'payload[1] is Infinity'],
    ['bigint', { big: 1n }, 'payload.big is a bigint'],
    ['function', { f: () => 1 }, 'payload.f is a function'],
    ['Date', { at: new Date(0) }, 'payload.at is a Date instance'],
    ['Map', { m: new Map() }, 'payload.m is a Map instance'],
    ['symbol', Symbol('s'), 'payload is a symbol'],
    ['undefined in an array', [1, undefined], 'payload[1] is undefined'],
    ['a \\u0000 in a key', { 'a\u0000b': 1 }, 'payload.a\u0000b is a key that contains a \\u0000'],
    ['a lone surrogate in a nested key', { a: { '\uD800': 1 } }, 'is a key that contains'],
    ['a \\u0000 in a string', { s: 'a\u0000' }, 'payload.s contains a \\u0000'],
    ['a symbol-keyed property', { a: 1, [Symbol('k')]: 2 }, 'payload.Symbol(k) is a symbol-keyed property'],
    ['undefined beside a boolean', { ok: true, b: undefined }, 'payload.b is undefined'],
    ['undefined beside null', { a: null, b: undefined }, 'payload.b is undefined'],
    [
      'an object whose prototype has no constructor',
      { a: Object.create(Object.create(null)) },
      'payload.a is a object instance',
    ],
    [
      'undefined in a null-prototype object',
      Object.assign(Object.create(null), { a: undefined }),
      'payload.a is undefined',
    ],
    ['a class instance in an array', [new (class Point {})()], 'payload[0] is a Point instance'],
    [
      'nesting past the limit',
      nested(MAX_JSON_DEPTH + 1),
      `is nested more than ${MAX_JSON_DEPTH} levels deep`,
    ],
  ])('rejects %s with the path', (_name, value, message) => {
    expect(() => assertJsonValue(value)).toThrow(InvalidPayloadError)
    expect(() => assertJsonValue(value)).toThrow(message)
  })

  it('names the value in the message (default "payload", or the name given)', () => {
    expect(() => assertJsonValue({ a: undefined }, 'result')).toThrow('result.a is undefined')
  })

  it('turns a getter that throws into InvalidPayloadError', () => {
    const value = {
      get boom(): never {
        throw new Error('getter failed')
      },
    }
    expect(() => assertJsonValue(value)).toThrow(InvalidPayloadError)
    expect(() => assertJsonValue(value)).toThrow('payload could not be read (getter failed)')
    try {
      assertJsonValue(value)
    } catch (error) {
      expect((error as InvalidPayloadError).issues).toEqual([{ message: 'could not be read' }])
      expect((error as Error).cause).toMatchObject({ message: 'getter failed' })
    }
  })

  it('clones a value deeply', () => {
    const value = { a: [1, { b: 2 }] }
    const copy = cloneJson(value)
    expect(copy).toEqual(value)
    expect(copy.a).not.toBe(value.a)
  })

  it('rejects cycles but accepts shared non-cyclic references', () => {
    const shared = { x: 1 }
    expect(() => assertJsonValue({ a: shared, b: shared })).not.toThrow()
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => assertJsonValue(cyclic)).toThrow('payload.self contains a circular reference')
  })
})

/** An array nested `depth` levels deep: [[[...[1]...]]]. */
function nested(depth: number): unknown {
  let value: unknown = 1
  for (let i = 0; i < depth; i++) value = [value]
  return value
}
