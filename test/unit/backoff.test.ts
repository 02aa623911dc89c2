import { describe, expect, it } from 'vitest'
import { backoffDelay, DEFAULT_BACKOFF, resolveBackoff } from '../../src/core/domain/backoff.js'
import { InvalidArgumentError } from '../../src/core/domain/errors.js'
import type { BackoffSpec } from '../../src/core/domain/job.js'

const middle = () => 0.5
const lowest = () => 0
const highest = () => 0.9999999999

describe('DEFAULT_BACKOFF', () => {
  it('is 1 s doubling up to 1 h with 10% jitter', () => {
    expect(DEFAULT_BACKOFF).toEqual({ baseMs: 1000, factor: 2, maxMs: 3_600_000, jitter: 0.1 })
    expect(Object.isFrozen(DEFAULT_BACKOFF)).toBe(true)
  })
})

describe('backoffDelay', () => {
  const exact: BackoffSpec = { ...DEFAULT_BACKOFF, jitter: 0 }

  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 16_000],
    [6, 32_000],
    [7, 64_000],
    [8, 128_000],
    [9, 256_000],
    [10, 512_000],
    [12, 2_048_000],
    [13, 3_600_000],
    [20, 3_600_000],
  ])('attempt %d waits %d ms without jitter', (attempt, expected) => {
    expect(backoffDelay(exact, attempt, lowest)).toBe(expected)
    expect(backoffDelay(exact, attempt, highest)).toBe(expected)
  })

  it('gives the un-jittered delay for random() = 0.5', () => {
    for (let attempt = 1; attempt <= 15; attempt++) {
      expect(backoffDelay(DEFAULT_BACKOFF, attempt, middle)).toBe(backoffDelay(exact, attempt, middle))
    }
  })

  it('keeps jittered delays within plus or minus jitter', () => {
    expect(backoffDelay(DEFAULT_BACKOFF, 1, lowest)).toBe(900)
    expect(backoffDelay(DEFAULT_BACKOFF, 1, highest)).toBe(1100)
    expect(backoffDelay(DEFAULT_BACKOFF, 3, lowest)).toBe(3600)
    expect(backoffDelay(DEFAULT_BACKOFF, 3, highest)).toBe(4400)
    expect(backoffDelay(DEFAULT_BACKOFF, 3, () => 0.25)).toBe(3800)
    expect(backoffDelay(DEFAULT_BACKOFF, 30, lowest)).toBe(3_240_000)
    expect(backoffDelay(DEFAULT_BACKOFF, 30, highest)).toBe(3_960_000)
  })

  it('never leaves [delay * (1 - jitter), maxMs * (1 + jitter)] for any random value', () => {
    const spec: BackoffSpec = { baseMs: 777, factor: 1.7, maxMs: 100_003, jitter: 0.35 }
    for (let attempt = 1; attempt <= 40; attempt++) {
      const base = Math.min(spec.maxMs, spec.baseMs * spec.factor ** (attempt - 1))
      for (let i = 0; i <= 100; i++) {
        const delay = backoffDelay(spec, attempt, () => Math.min(i / 100, 0.9999999))
        expect(Number.isInteger(delay)).toBe(true)
        expect(delay).toBeGreaterThanOrEqual(Math.floor(base * (1 - spec.jitter)))
        expect(delay).toBeLessThanOrEqual(spec.maxMs * (1 + spec.jitter))
      }
    }
  })

  it('allows full jitter, down to zero', () => {
    const spec: BackoffSpec = { baseMs: 1000, factor: 2, maxMs: 10_000, jitter: 1 }
    expect(backoffDelay(spec, 1, lowest)).toBe(0)
    expect(backoffDelay(spec, 1, highest)).toBe(2000)
    expect(backoffDelay(spec, 10, highest)).toBe(20_000)
  })

  it('is deterministic for a given random function', () => {
    const sequence = () => {
      let seed = 42
      return () => {
        seed = (seed * 16807) % 2147483647
        return (seed - 1) / 2147483646
      }
    }
    const a = sequence()
    const b = sequence()
    for (let attempt = 1; attempt <= 20; attempt++) {
      expect(backoffDelay(DEFAULT_BACKOFF, attempt, a)).toBe(backoffDelay(DEFAULT_BACKOFF, attempt, b))
    }
  })

  it('applies the cap at huge attempt numbers without Infinity or NaN', () => {
    for (const attempt of [100, 1024, 1025, 5000, 1_000_000]) {
      expect(backoffDelay(DEFAULT_BACKOFF, attempt, middle)).toBe(3_600_000)
      expect(backoffDelay(DEFAULT_BACKOFF, attempt, highest)).toBe(3_960_000)
    }
    const zeroBase: BackoffSpec = { baseMs: 0, factor: 2, maxMs: 0, jitter: 0.5 }
    expect(backoffDelay(zeroBase, 5000, highest)).toBe(0)
    const zeroBaseWithRoom: BackoffSpec = { baseMs: 0, factor: 10, maxMs: 60_000, jitter: 0 }
    expect(backoffDelay(zeroBaseWithRoom, 5000, middle)).toBe(0)
  })

  it('keeps a constant delay with factor 1', () => {
    const constant: BackoffSpec = { baseMs: 5000, factor: 1, maxMs: 5000, jitter: 0 }
    expect(backoffDelay(constant, 1, middle)).toBe(5000)
    expect(backoffDelay(constant, 5000, middle)).toBe(5000)
  })

  it('rounds fractional delays to whole ms', () => {
    const spec: BackoffSpec = { baseMs: 1000, factor: 1.1, maxMs: 1_000_000, jitter: 0 }
    expect(backoffDelay(spec, 2, middle)).toBe(1100)
    expect(backoffDelay(spec, 3, middle)).toBe(1210)
  })

  it('treats out-of-range random values as the nearest bound', () => {
    expect(backoffDelay(DEFAULT_BACKOFF, 1, () => -3)).toBe(900)
    expect(backoffDelay(DEFAULT_BACKOFF, 1, () => 7)).toBe(1100)
    expect(backoffDelay(DEFAULT_BACKOFF, 1, () => Number.NaN)).toBe(1000)
  })

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects attempt %d', (attempt) => {
    expect(() => backoffDelay(DEFAULT_BACKOFF, attempt, middle)).toThrow(InvalidArgumentError)
  })
})

describe('resolveBackoff', () => {
  it('returns the fallback when no input is given', () => {
    expect(resolveBackoff(undefined, DEFAULT_BACKOFF)).toEqual(DEFAULT_BACKOFF)
    expect(resolveBackoff({}, DEFAULT_BACKOFF)).toEqual(DEFAULT_BACKOFF)
  })

  it('fills missing fields from the fallback', () => {
    expect(resolveBackoff({ baseMs: 500, jitter: 0 }, DEFAULT_BACKOFF)).toEqual({
      baseMs: 500,
      factor: 2,
      maxMs: 3_600_000,
      jitter: 0,
    })
    expect(resolveBackoff({ baseMs: undefined, factor: 3 }, DEFAULT_BACKOFF)).toEqual({
      ...DEFAULT_BACKOFF,
      factor: 3,
    })
  })

  it('accepts the edges of each range', () => {
    expect(resolveBackoff({ baseMs: 0, factor: 1, maxMs: 0, jitter: 0 }, DEFAULT_BACKOFF)).toEqual({
      baseMs: 0,
      factor: 1,
      maxMs: 0,
      jitter: 0,
    })
    expect(resolveBackoff({ jitter: 1 }, DEFAULT_BACKOFF).jitter).toBe(1)
    expect(resolveBackoff({ baseMs: 3_600_000 }, DEFAULT_BACKOFF).baseMs).toBe(3_600_000)
  })

  it('returns a frozen copy', () => {
    const input = { baseMs: 10 }
    const resolved = resolveBackoff(input, DEFAULT_BACKOFF)
    expect(Object.isFrozen(resolved)).toBe(true)
    expect(resolved).not.toBe(input)
  })

  it.each([
    [{ baseMs: -1 }, 'backoff.baseMs must be a finite number >= 0'],
    [{ baseMs: Number.NaN }, 'backoff.baseMs'],
    [{ baseMs: Number.POSITIVE_INFINITY }, 'backoff.baseMs'],
    [{ baseMs: '1000' }, 'got "1000"'],
    [{ factor: 0.5 }, 'backoff.factor must be a finite number >= 1'],
    [{ factor: Number.POSITIVE_INFINITY }, 'backoff.factor'],
    [{ maxMs: 999 }, 'backoff.maxMs must be a finite number >= baseMs (1000), got 999'],
    [{ baseMs: 5_000_000 }, 'backoff.maxMs must be a finite number >= baseMs (5000000)'],
    [{ maxMs: Number.POSITIVE_INFINITY }, 'backoff.maxMs'],
    [{ jitter: -0.1 }, 'backoff.jitter must be a number from 0 to 1'],
    [{ jitter: 1.5 }, 'backoff.jitter must be a number from 0 to 1'],
    [{ jitter: 10 }, 'got 10'],
    [{ base: 1000 }, 'unknown field "base"'],
  ])('rejects %j', (input, fragment) => {
    let caught: unknown
    try {
      resolveBackoff(input as Partial<BackoffSpec>, DEFAULT_BACKOFF)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(InvalidArgumentError)
    expect((caught as InvalidArgumentError).code).toBe('INVALID_ARGUMENT')
    expect((caught as Error).message).toContain(fragment)
  })

  it.each([
    [null, 'got null'],
    [5, 'got 5'],
    ['fast', 'got "fast"'],
    [[], 'got an array'],
  ])('rejects a backoff that is not an object: %j', (input, got) => {
    expect(() => resolveBackoff(input as unknown as Partial<BackoffSpec>, DEFAULT_BACKOFF)).toThrow(
      /backoff must be an object/,
    )
    expect(() => resolveBackoff(input as unknown as Partial<BackoffSpec>, DEFAULT_BACKOFF)).toThrow(got)
  })

  it('describes a field that is an object', () => {
    expect(() => resolveBackoff({ baseMs: {} } as never, DEFAULT_BACKOFF)).toThrow('got an object')
  })
})
