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
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
})
