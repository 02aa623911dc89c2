// The core's mutation run (`npm run mutate:core`): `src/core` against the tests that need no
// database (vitest.mutate-core.config.ts). Narrow it to one folder with
// `npm run mutate:core -- --mutate 'src/core/runtime/**/*.ts'`. Static mutants (module-level
// constants, which every test would have to rerun) are left out. The full `npm run mutate` adds the
// Postgres store and every suite that covers a mutant, and takes hours on a 2-core machine.
import base from './stryker.config.mjs'

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  mutate: ['src/core/**/*.ts'],
  ignoreStatic: true,
  vitest: { configFile: 'vitest.mutate-core.config.ts', related: false },
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/core.html' },
  jsonReporter: { fileName: 'reports/mutation/core.json' },
}
