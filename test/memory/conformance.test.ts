import { describe } from 'vitest'
import { createMemoryQueue } from '../../src/adapters/memory/index.js'
import { ManualClock } from '../../src/core/ports/clock.js'
import { type HarnessFactory, T0 } from '../conformance/harness.js'
import { runConformance } from '../conformance/index.js'

const factory: HarnessFactory = async (options = {}) => {
  const clock = new ManualClock(T0)
  const queue = createMemoryQueue({ ...options, clock })
  return {
    queue,
    clock,
    capabilities: queue.store.capabilities,
    close: () => queue.shutdown({ graceMs: 0 }),
  }
}

describe('conformance: memory', () => runConformance(factory))
