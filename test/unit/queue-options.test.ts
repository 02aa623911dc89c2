/** Queue options that identify this process. */
import { expect, it } from 'vitest'
import { createMemoryQueue } from '../../src/adapters/memory/index.js'
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
