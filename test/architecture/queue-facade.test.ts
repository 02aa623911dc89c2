import { describe, expect, it } from 'vitest'
import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { createQueue } from '../../src/core/create-queue.js'
import { extendQueue } from '../../src/core/extend-queue.js'
import { ManualClock } from '../../src/core/ports/clock.js'

describe('the queue facade', () => {
  it("has every public method of the core queue, bound to it, and the core's clock and store", async () => {
    const core = createQueue(new MemoryStore(), { clock: new ManualClock() })
    const facade = extendQueue(core, { extra: 1 }) as unknown as Record<string, unknown>
    const methods = Object.getOwnPropertyNames(Object.getPrototypeOf(core)).filter(
      (name) =>
        name !== 'constructor' && typeof (core as unknown as Record<string, unknown>)[name] === 'function',
    )
    expect(methods.length).toBeGreaterThan(20)
    const missing = methods.filter((name) => typeof facade[name] !== 'function')
    expect(missing).toEqual([])
    expect(facade.clock).toBe(core.clock)
    expect(facade.store).toBe(core.store)
    expect(facade.extra).toBe(1)
    // Bound: a method called off the facade still reaches the core's private state.
    const { stats } = facade as { stats: () => Promise<unknown> }
    await expect(stats()).resolves.toEqual([])
    await core.shutdown()
  })
})
