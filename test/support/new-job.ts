/** Building fully resolved `NewJob` rows for store-level tests. */
import type { NewJob } from '../../src/core/ports/store.js'

/** Returns a `newJob(overrides)` builder whose rows use the core's neutral defaults plus `defaults`. */
export function newJobBuilder(defaults: Partial<NewJob>): (overrides?: Partial<NewJob>) => NewJob {
  return (overrides = {}) => ({
    kind: 'test',
    queue: 'default',
    payload: {},
    priority: 0,
    runAt: 0,
    maxAttempts: 3,
    timeoutMs: 0,
    weight: 1,
    uniqueKey: null,
    groupKey: null,
    dependsOn: [],
    metadata: {},
    tags: [],
    workflowState: null,
    backoff: null,
    scheduleName: null,
    scheduleTick: null,
    traceContext: null,
    ...defaults,
    ...overrides,
  })
}
