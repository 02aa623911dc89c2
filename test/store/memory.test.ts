import { MemoryStore } from '../../src/adapters/memory/memory-store.js'
import { runStoreConformance } from './index.js'

runStoreConformance({
  name: 'memory',
  createStore: async () => new MemoryStore(),
  capabilities: {
    multiProcess: false,
    transactionalEnqueue: true,
    transactionalExecution: false,
    storageHealth: false,
    announcesFreedJobs: true,
  },
  // Divergences from the Postgres store that the core never reaches (it fires ticks through
  // fireScheduleTick, and never writes a retry for a last attempt); to fix in the memory store.
  knownGaps: {
    'inserts one job per schedule tick: a second job of the same tick is a duplicate':
      'insertJobs does not deduplicate (scheduleName, scheduleTick); only fireScheduleTick does',
    'does not claim a job whose attempts are used up':
      'claimJobs takes a retryable job with attempt >= maxAttempts',
  },
})
