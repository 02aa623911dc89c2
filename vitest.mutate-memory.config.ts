// The tests `stryker.memory.config.mjs` runs against each mutant of the memory store: the store-level
// suite on memory and the unit tests of the memory store and its parts.
import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/store/memory.test.ts', 'test/unit/memory-*.test.ts', 'test/unit/json-contains.test.ts'],
  },
})
