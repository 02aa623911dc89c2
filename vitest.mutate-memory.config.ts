// The tests `stryker.memory.config.mjs` runs against each mutant of the memory store.
import { defineConfig } from 'vitest/config'
import base from './vitest.config.js'

export default defineConfig({
  ...base,
  test: { ...base.test, include: ['test/store/memory.test.ts', 'test/unit/memory-store*.test.ts'] },
})
