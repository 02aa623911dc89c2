import { describe, expect, it } from 'vitest'
import { createSystemClock, ManualClock, sleepRealTime, storeNow } from '../../src/core/ports/clock.js'

describe('ManualClock', () => {
  it('starts at 2030-01-01Z by default and at a given time otherwise', () => {
    expect(new ManualClock().now()).toBe(Date.UTC(2030, 0, 1))
    expect(new ManualClock(new Date('2031-05-05T00:00:00Z')).now()).toBe(Date.UTC(2031, 4, 5))
  })

  it('fires timers in due order, each at its own time', () => {
    const clock = new ManualClock(0)
    const seen: [string, number][] = []
    clock.setTimeout(() => seen.push(['b', clock.now()]), 20)
    clock.setTimeout(() => seen.push(['a', clock.now()]), 10)
    clock.setTimeout(() => seen.push(['c', clock.now()]), 20)
    clock.advance(15)
    expect(seen).toEqual([['a', 10]])
    clock.advance(100)
    expect(seen).toEqual([
      ['a', 10],
      ['b', 20],
      ['c', 20],
    ])
    expect(clock.now()).toBe(115)
  })

  it('fires timers scheduled by timers within the same advance', () => {
    const clock = new ManualClock(0)
    const seen: number[] = []
    const tick = () => {
      seen.push(clock.now())
      if (seen.length < 5) clock.setTimeout(tick, 10)
    }
    clock.setTimeout(tick, 10)
    clock.advance(1000)
    expect(seen).toEqual([10, 20, 30, 40, 50])
  })

  it('does not fire cancelled timers and refuses to go backwards', () => {
    const clock = new ManualClock(0)
    let fired = false
    const t = clock.setTimeout(() => {
      fired = true
    }, 5)
    t.cancel()
    clock.advance(10)
    expect(fired).toBe(false)
    expect(clock.pendingTimers).toBe(0)
    expect(() => clock.set(5)).toThrow(/backwards/)
    expect(() => clock.advance(-1)).toThrow(RangeError)
    expect(() => clock.advance(Number.NaN)).toThrow(RangeError)
  })

  it('fires an earlier timer scheduled later first, both due in one advance', () => {
    const clock = new ManualClock(0)
    const seen: [string, number][] = []
    clock.setTimeout(() => seen.push(['late', clock.now()]), 20)
    clock.setTimeout(() => seen.push(['early', clock.now()]), 10)
    clock.advance(100)
    expect(seen).toEqual([
      ['early', 10],
      ['late', 20],
    ])
  })

  it('counts only the timers still pending', () => {
    const clock = new ManualClock(0)
    clock.setTimeout(() => {}, 5)
    clock.setTimeout(() => {}, 6)
    clock.setTimeout(() => {}, 5).cancel()
    expect(clock.pendingTimers).toBe(2)
  })

  it('moves to a Date, and refuses a time or step that is not finite, saying which', () => {
    const clock = new ManualClock(0)
    clock.set(new Date(50))
    expect(clock.now()).toBe(50)
    expect(() => clock.set(Number.NaN)).toThrow('set(time) needs a finite time, got NaN')
    expect(() => clock.advance(-1)).toThrow('advance(ms) needs a finite ms >= 0, got -1')
    expect(() => clock.advance(Number.POSITIVE_INFINITY)).toThrow('advance(ms) needs a finite ms >= 0')
    expect(clock.now()).toBe(50)
  })
})

describe('the system clock', () => {
  it('is real time: a store reads its own now', () => {
    expect(createSystemClock().realTime).toBe(true)
    expect(storeNow(createSystemClock())).toBeUndefined()
    expect(storeNow(new ManualClock(7))).toBe(7)
  })

  it('fires a timer, and not one that was cancelled', async () => {
    const clock = createSystemClock()
    const seen: string[] = []
    clock.setTimeout(() => seen.push('cancelled'), 0).cancel()
    await new Promise<void>((resolve) => clock.setTimeout(resolve, 0))
    expect(seen).toEqual([])
    await expect(sleepRealTime(0)).resolves.toBeUndefined()
  })
})
