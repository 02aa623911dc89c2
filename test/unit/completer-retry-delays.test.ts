/**
 * The completer's pauses between tries of a write that failed with a transient error: the base
 * delay doubling per try up to the maximum, each with jitter (between half and all of it). The
 * real-time sleep is replaced by one that records what it was asked for, and the random source is
 * fixed, so the delays are checked exactly and nothing waits.
 */
import { afterEach, expect, it, vi } from 'vitest'
import { StorageUnavailableError } from '../../src/core/domain/errors.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import type { JobStore } from '../../src/core/ports/store.js'

const slept = vi.hoisted(() => [] as number[])

vi.mock('../../src/core/ports/clock.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../src/core/ports/clock.js')>()),
  sleepRealTime: async (ms: number) => {
    slept.push(ms)
  },
}))

const { COMPLETION_WRITE_RETRY, Completer } = await import('../../src/core/runtime/completer.js')

afterEach(() => {
  slept.length = 0
  vi.restoreAllMocks()
})

/** A store whose first `failures` writes fail with a transient error. */
function flakyStore(failures: number): { store: JobStore; tries: () => number } {
  let tries = 0
  const store = {
    completeJobs: async () => {
      tries++
      if (tries <= failures) throw new StorageUnavailableError('db down')
      return { skipped: [] }
    },
  } as unknown as JobStore
  return { store, tries: () => tries }
}

it('pauses the base delay doubled per try, capped at the maximum, with jitter between half and all of it', async () => {
  vi.spyOn(Math, 'random').mockReturnValue(0.5)
  const { store, tries } = flakyStore(5)
  const completer = new Completer({
    store,
    clock: new ManualClock(0),
    onError: () => {},
    retry: { attempts: 6, baseDelayMs: 100, maxDelayMs: 500 },
  })
  await completer.complete({ id: '1', outcome: 'succeeded' })
  expect(tries()).toBe(6)
  // 100, 200, 400, 500 (capped), 500: each three quarters of it with random() = 0.5.
  expect(slept).toEqual([75, 150, 300, 375, 375])
})

it('the jitter spans half the delay (random() = 0) to all of it (random() near 1)', async () => {
  const random = vi.spyOn(Math, 'random').mockReturnValueOnce(0).mockReturnValueOnce(0.999)
  const { store } = flakyStore(2)
  const completer = new Completer({
    store,
    clock: new ManualClock(0),
    onError: () => {},
    retry: { attempts: 3, baseDelayMs: 1000, maxDelayMs: 10_000 },
  })
  await completer.complete({ id: '1', outcome: 'succeeded' })
  expect(random).toHaveBeenCalledTimes(2)
  expect(slept).toEqual([500, 1000 + 999])
})

it('by default tries 12 times, from 50 ms doubling to 5 s', async () => {
  vi.spyOn(Math, 'random').mockReturnValue(0)
  const { store, tries } = flakyStore(100)
  const completer = new Completer({ store, clock: new ManualClock(0), onError: () => {} })
  await completer.complete({ id: '1', outcome: 'succeeded' })
  expect(COMPLETION_WRITE_RETRY).toEqual({ attempts: 12, baseDelayMs: 50, maxDelayMs: 5000 })
  expect(tries()).toBe(12)
  expect(slept).toEqual([25, 50, 100, 200, 400, 800, 1600, 2500, 2500, 2500, 2500])
})
