import { availableParallelism } from 'node:os'
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
    // Vitest's default (one worker fewer than the cores) runs the files one at a time on a 2-core
    // machine, most of them waiting on PostgreSQL, timers or child processes: two at a time takes
    // the suite from about 11 to about 7 minutes there. Every file works in its own schema or
    // database, so files do not see each other's jobs.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
})
