#!/usr/bin/env node
/**
 * Adds lockfile entries for optional platform packages the registry this project installs from
 * does not serve (e.g. Biome's Windows or macOS binaries). Without them `npm ci` refuses the lock
 * ("Missing: ... from lock file") even though this platform never installs them. Each entry gets
 * the os/cpu/libc its name implies, so npm skips it everywhere it does not apply.
 * Run after `npm install`: `node scripts/complete-lockfile.mjs`.
 */
import { readFileSync, writeFileSync } from 'node:fs'

const path = new URL('../package-lock.json', import.meta.url)
const lock = JSON.parse(readFileSync(path, 'utf8'))
const packages = lock.packages
const platform = (name) => {
  const os = ['android', 'darwin', 'win32', 'linux', 'freebsd', 'openbsd', 'sunos', 'aix'].find(
    (o) => name.includes(`-${o}-`) || name.endsWith(`-${o}`),
  )
  const cpu = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64'].find((c) =>
    new RegExp(`-${c}(-|$)`).test(name),
  )
  return { os, cpu, libc: name.includes('-musl') ? 'musl' : undefined }
}
let added = 0
for (const [where, meta] of Object.entries(packages)) {
  for (const [dep, range] of Object.entries(meta.optionalDependencies ?? {})) {
    const base = where === '' ? '' : `${where}/`
    const candidates = [`${base}node_modules/${dep}`, `node_modules/${dep}`]
    if (candidates.some((c) => packages[c])) continue
    const { os, cpu, libc } = platform(dep)
    if (!os && !cpu) continue
    const version = String(range).replace(/^[\^~=]/, '')
    packages[`node_modules/${dep}`] = {
      version,
      optional: true,
      ...(os ? { os: [os] } : {}),
      ...(cpu ? { cpu: [cpu] } : {}),
      ...(libc ? { libc: [libc] } : {}),
    }
    added++
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
)
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`)
console.log(`complete-lockfile: added ${added} optional platform entries`)
