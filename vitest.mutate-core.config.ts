// The tests `stryker.core.config.mjs` runs against each mutant of the core: the unit tests, the
// queue-level conformance suite on the memory adapter and the store-level suite on memory (no
// database, so a run fits on the shared machine; the Postgres suites are left to `npm run mutate`).
import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/unit/**/*.test.ts', 'test/memory/**/*.test.ts', 'test/store/memory.test.ts'],
  },
})
