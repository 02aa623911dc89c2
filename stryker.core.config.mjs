// The core's mutation run (`npm run mutate:core`): `src/core` against the tests that need no
// database (vitest.mutate-core.config.ts). Narrow it to one folder with
// `MUTATE_PART=runtime npm run mutate:core` (reports then named core-runtime.*). Static mutants (module-level
// constants, which every test would have to rerun) are left out. The full `npm run mutate` adds the
// Postgres store and every suite that covers a mutant, and takes hours on a 2-core machine.
import base from './stryker.config.mjs'

const part = process.env.MUTATE_PART
const name = part ? `core-${part}` : 'core'

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  ...base,
  mutate: [part ? `src/core/${part}/**/*.ts` : 'src/core/**/*.ts'],
  ignoreStatic: true,
  vitest: { configFile: 'vitest.mutate-core.config.ts', related: false },
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: `reports/mutation/${name}.html` },
  jsonReporter: { fileName: `reports/mutation/${name}.json` },
}
