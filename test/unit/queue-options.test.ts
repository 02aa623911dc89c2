/** Queue options that identify this process. */
import { expect, it } from 'vitest'
import { createMemoryQueue } from '../../src/adapters/memory/index.js'
import { resolveConfig } from '../../src/core/config/resolve-config.js'
import { DEFAULTS } from '../../src/core/defaults.js'
import { InvalidArgumentError } from '../../src/core/domain/errors.js'

it('accepts a host name as processId, and refuses ":" (it separates the parts of worker ids) and spaces', async () => {
  const queue = createMemoryQueue({ processId: 'ip-10-0-0-1.ec2.internal' })
  await queue.shutdown()
  for (const bad of ['a:b', 'a b', '', 'x'.repeat(129)]) {
    expect(() => createMemoryQueue({ processId: bad })).toThrow(InvalidArgumentError)
  }
})

it("accepts prefetch as a whole number or 'auto', for the queue and per worker, and says what else is wrong", async () => {
  for (const prefetch of [0, 8, 'auto'] as const) {
    await createMemoryQueue({ prefetch }).shutdown()
    await createMemoryQueue({ workers: [{ queues: ['a'], prefetch }] }).shutdown()
  }
  for (const bad of ['fast', -1, 1.5, 100_001, null]) {
    expect(() => createMemoryQueue({ prefetch: bad as never })).toThrow(InvalidArgumentError)
    expect(() => createMemoryQueue({ workers: [{ queues: ['a'], prefetch: bad as never }] })).toThrow(
      /workers\[0\]\.prefetch/,
    )
  }
  expect(() => createMemoryQueue({ prefetch: 'fast' as never })).toThrow(/whole number .* or 'auto'/)
})

it('keeps the timeout rescue margin at least maxBufferWaitMs (the rescue counts from the claim, a buffered job starts later)', async () => {
  // Below it, a live worker's buffered job could be rescued (and run again) while still within its timeout.
  expect(() =>
    createMemoryQueue({ maxBufferWaitMs: 10_000, maintenance: { timeoutRescueMarginMs: 5_000 } }),
  ).toThrow(/maintenance\.timeoutRescueMarginMs \(5000\) must be at least maxBufferWaitMs \(10000\)/)
  expect(() => createMemoryQueue({ maintenance: { timeoutRescueMarginMs: 4_999 } })).toThrow(
    /at least maxBufferWaitMs \(5000\)/,
  )
  await createMemoryQueue({ maintenance: { timeoutRescueMarginMs: 5_000 } }).shutdown()
  await createMemoryQueue({ maintenance: { timeoutRescueMarginMs: null } }).shutdown()
  // The default margin grows to a longer buffer wait instead of refusing it.
  expect(resolveConfig({ maxBufferWaitMs: 120_000 }).maintenance?.timeoutRescueMarginMs).toBe(120_000)
  expect(resolveConfig({}).maintenance?.timeoutRescueMarginMs).toBe(
    DEFAULTS.maintenance.timeoutRescueMarginMs,
  )
})
