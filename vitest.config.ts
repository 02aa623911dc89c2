import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url))

export default defineConfig({
  resolve: {
    // Tests and README examples import the package by its public names.
    alias: [
      { find: /^conveyor-jobs$/, replacement: src('index.ts') },
      { find: /^conveyor-jobs\/memory$/, replacement: src('adapters/memory/index.ts') },
      { find: /^conveyor-jobs\/postgres$/, replacement: src('adapters/postgres/index.ts') },
      { find: /^conveyor-jobs\/admin$/, replacement: src('admin/index.ts') },
      { find: /^conveyor-jobs\/metrics$/, replacement: src('instrumentation/index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Two files at a time, even on a 2-core machine (Vitest's default there is one: a worker fewer
    // than the cores). It takes the suite from about 11 to about 7 minutes; the tests that assumed
    // they ran alone were found by repeated runs and fixed (each file uses its own schema or database).
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
})
