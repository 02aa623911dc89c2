#!/usr/bin/env node
// The `conveyor` executable. In a checkout of the repository (src/ present, tsx installed) it runs
// the TypeScript source, so it never runs a stale build; in an installed package it runs dist/.
import { existsSync } from 'node:fs'

const source = new URL('../src/cli/main.ts', import.meta.url)
const built = new URL('../dist/cli/main.js', import.meta.url)

async function tsxRegistered() {
  try {
    const { register } = await import('tsx/esm/api')
    register()
    return true
  } catch {
    return false
  }
}

if (existsSync(source) && (await tsxRegistered())) {
  await import(source.href)
} else if (existsSync(built)) {
  await import(built.href)
} else {
  process.stderr.write(
    'conveyor: dist/cli/main.js is missing: run `npm run build` (or `npm install` tsx to run the source)\n',
  )
  process.exitCode = 1
}
