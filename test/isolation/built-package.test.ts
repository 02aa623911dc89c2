/**
 * Isolated handlers from the built package, run by plain Node (no tsx): a compiled .js handler
 * module runs in a worker thread and in a child process, from an ESM application (dist/esm) and a
 * CommonJS one (dist/cjs, whose runners start the ESM runner entry). The package is built in a
 * private copy of the sources, so this file never races test/package over the repository's dist/.
 */
import { cp, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { mustRun, REPO_ROOT } from '../package/packed.js'

/** A private build: `unpacked` holds package.json and dist/, `dir` the applications. */
let packed: { dir: string; unpacked: string }
beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'conveyor-isolation-'))
  const unpacked = join(dir, 'package')
  for (const path of ['src', 'scripts', 'migrations', 'package.json', 'tsconfig.json', 'tsconfig.build.json'])
    await cp(join(REPO_ROOT, path), join(unpacked, path), { recursive: true })
  // The copy resolves its dependencies (and the build's tools) from the repository's node_modules.
  await symlink(join(REPO_ROOT, 'node_modules'), join(unpacked, 'node_modules'), 'dir')
  await mustRun(process.execPath, ['scripts/build.mjs'], { cwd: unpacked })
  packed = { dir, unpacked }
  await writeFile(
    join(packed.dir, 'square.handler.mjs'),
    'export default async (payload, ctx) => ({ square: payload.n * payload.n, attempt: ctx.attempt, pid: process.pid })\n',
  )
}, 240_000)
afterAll(async () => {
  if (packed) await rm(packed.dir, { recursive: true, force: true })
})

const body = (load: string) => `
${load}
const square = defineJob({ kind: 'square' })
const results = []
for (const isolation of ['thread', 'process']) {
  const queue = createMemoryQueue({ clock: createSystemClock() })
  queue.register(square, HANDLER, { isolation })
  const outcome = await queue.performJob(square, { n: 7 })
  results.push({ isolation, outcome: outcome.outcome, result: outcome.result, here: process.pid })
  await queue.shutdown()
}
console.log(JSON.stringify(results))
`

function expectRunIsolated(stdout: string): void {
  const results = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    isolation: string
    outcome: string
    result: { square: number; pid: number }
    here: number
  }[]
  expect(results.map((r) => [r.isolation, r.outcome, r.result.square])).toEqual([
    ['thread', 'succeeded', 49],
    ['process', 'succeeded', 49],
  ])
  expect(results[1]!.result.pid).not.toBe(results[1]!.here)
}

it('runs a compiled handler module in a thread and a process from the ESM build', async () => {
  const root = pathToFileURL(`${packed.unpacked}/`).href
  const app = join(packed.dir, 'app.mjs')
  await writeFile(
    app,
    body(`import { createMemoryQueue } from '${root}dist/esm/adapters/memory/index.js'
import { createSystemClock, defineJob } from '${root}dist/esm/index.js'
const HANDLER = new URL('./square.handler.mjs', import.meta.url)`),
  )
  expectRunIsolated((await mustRun(process.execPath, [app], { cwd: packed.dir })).stdout)
}, 60_000)

it('runs a compiled handler module in a thread and a process from the CommonJS build', async () => {
  const app = join(packed.dir, 'app.cjs')
  await writeFile(
    app,
    `(async () => {${body(`const { createMemoryQueue } = require(${JSON.stringify(join(packed.unpacked, 'dist/cjs/adapters/memory/index.js'))})
const { createSystemClock, defineJob } = require(${JSON.stringify(join(packed.unpacked, 'dist/cjs/index.js'))})
const HANDLER = require('node:path').join(__dirname, 'square.handler.mjs')`)}})()`,
  )
  expectRunIsolated((await mustRun(process.execPath, [app], { cwd: packed.dir })).stdout)
}, 60_000)
