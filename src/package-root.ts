/**
 * Finds this package's own folder from one of its modules, so files shipped beside the code
 * (`package.json`, `migrations/`) are found however the module is laid out: `src/` run by tsx or
 * vitest, `dist/esm/` and `dist/cjs/` of a build, or a bundle kept inside the package's folder.
 */
import { readFileSync } from 'node:fs'

/** The `name` in this package's `package.json`. */
const PACKAGE_NAME = 'conveyor-jobs'

/**
 * The nearest folder at or above the module at `moduleUrl` whose `package.json` is this package's
 * (`dist/cjs/package.json` only sets the module type and is passed over), as a URL ending in `/`;
 * `undefined` when there is none (the code was bundled into another package).
 */
export function packageRoot(moduleUrl: string | URL): URL | undefined {
  let dir = new URL('./', moduleUrl)
  for (;;) {
    if (readPackageName(new URL('package.json', dir)) === PACKAGE_NAME) return dir
    const parent = new URL('../', dir)
    if (parent.href === dir.href) return undefined
    dir = parent
  }
}

/** The `name` field of a `package.json`, or `undefined` when it is missing or unreadable. */
function readPackageName(file: URL): string | undefined {
  try {
    const json = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }
    return typeof json.name === 'string' ? json.name : undefined
  } catch {
    return undefined
  }
}
