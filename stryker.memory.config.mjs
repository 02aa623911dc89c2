// A small mutation run for the shared machine (`npm run mutate:memory`): the memory store, against
// only its own tests (the store-level suite on memory and the memory store's unit tests).
import base from './stryker.config.mjs'

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  mutate: [
    'src/adapters/memory/memory-store.ts',
    'src/adapters/memory/job-admin.ts',
    'src/adapters/memory/process-liveness.ts',
  ],
  vitest: { configFile: 'vitest.mutate-memory.config.ts', related: false },
  htmlReporter: { fileName: 'reports/mutation/memory-store.html' },
}
