// A small mutation run for the shared machine (`npm run mutate:memory`): the memory store's files, against
// only its own tests (the store-level suite on memory and the memory store's unit tests).
import base, { memoryStoreFiles } from './stryker.config.mjs'

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  mutate: memoryStoreFiles,
  vitest: { configFile: 'vitest.mutate-memory.config.ts', related: false },
  htmlReporter: { fileName: 'reports/mutation/memory-store.html' },
}
