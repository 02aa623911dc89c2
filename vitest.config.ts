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
    // At least two files at a time. Vitest's default (one worker fewer than the cores, the same as
    // this from 3 cores up) runs them one at a time on a 2-core machine, most of them waiting on
    // PostgreSQL, timers or child processes: two at a time takes the suite from about 11 to about 7
    // minutes there. Every file works in its own schema or database, and a test that looks for a
    // session of its own in pg_stat_activity finds it by its schema or by pg_blocking_pids.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
})
