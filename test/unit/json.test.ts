import { describe, expect, it } from 'vitest'
import { InvalidPayloadError } from '../../src/core/domain/errors.js'
import { assertJsonValue } from '../../src/core/domain/json.js'

describe('assertJsonValue', () => {
  it.each([
    ['string', 'x'],
    ['number', 1.5],
    ['null', null],
    ['nested', { a: [1, { b: true }], c: null }],
    ['null-prototype object', Object.assign(Object.create(null), { a: 1 })],
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
  ])('rejects %s with the path', (_name, value, message) => {
    expect(() => assertJsonValue(value)).toThrow(InvalidPayloadError)
    expect(() => assertJsonValue(value)).toThrow(message)
  })

  it('rejects cycles but accepts shared non-cyclic references', () => {
    const shared = { x: 1 }
    expect(() => assertJsonValue({ a: shared, b: shared })).not.toThrow()
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => assertJsonValue(cyclic)).toThrow('payload.self contains a circular reference')
  })
})
