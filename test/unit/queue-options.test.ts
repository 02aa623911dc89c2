/** Queue options that identify this process. */
import { expect, it } from 'vitest'
import { createMemoryQueue } from '../../src/adapters/memory/index.js'
import { InvalidArgumentError } from '../../src/core/errors.js'

it('accepts a host name as processId, and refuses ":" (it separates the parts of worker ids) and spaces', async () => {
  const queue = createMemoryQueue({ processId: 'ip-10-0-0-1.ec2.internal' })
  await queue.shutdown()
  for (const bad of ['a:b', 'a b', '', 'x'.repeat(129)]) {
    expect(() => createMemoryQueue({ processId: bad })).toThrow(InvalidArgumentError)
  }
})
