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
    // Files run one at a time on a 2-core machine (Vitest's default: one worker fewer than the
    // cores). Two at a time took the suite from about 11 to about 7 minutes there and showed five
    // tests that assumed they ran alone (all fixed), the last in the fifth run, so two workers wait
    // for more runs without a failure: `npx vitest run --maxWorkers=2`.
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
})
