#!/usr/bin/env node
// The `conveyor` executable. In a checkout of the repository (tsconfig.json beside src/, which the
// package does not ship, and tsx installed) it runs the TypeScript source, so it never runs a stale
// build; an installed package always runs its build, dist/esm/.
import { existsSync } from 'node:fs'

const checkout = new URL('../tsconfig.json', import.meta.url)
const source = new URL('../src/cli/main.ts', import.meta.url)
const built = new URL('../dist/esm/cli/main.js', import.meta.url)

async function tsxRegistered() {
  try {
    const { register } = await import('tsx/esm/api')
    register()
    return true
  } catch {
    return false
  }
}

if (existsSync(checkout) && existsSync(source) && (await tsxRegistered())) {
  await import(source.href)
} else if (existsSync(built)) {
  await import(built.href)
} else {
  process.stderr.write(
    'conveyor: dist/esm/cli/main.js is missing: run `npm run build` (or `npm install` tsx to run the source)\n',
  )
  process.exitCode = 1
}
