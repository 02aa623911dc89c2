/**
 * The package as shipped: the tarball `npm pack` makes (built once for this file), its file list,
 * its types under every resolution mode (attw) and its package.json (publint), and two fresh
 * applications that install the tarball, typecheck and run: an ESM one (bundler resolution) and a
 * CommonJS one (NodeNext, require()). Their Postgres test runs when a server is found the way the
 * other suites find one, and is skipped with a message otherwise.
 */
import { readFile, rm } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { publint } from 'publint'
import { formatMessage } from 'publint/utils'
import { afterAll, beforeAll, describe, it } from 'vitest'
import {
  createTestSchema,
  type NoDatabase,
  type ProvidedDatabase,
  provideDatabase,
} from '../support/database.js'
import {
  buildAndPack,
  type CommandResult,
  copyApp,
  isOffline,
  listFiles,
  mustRun,
  npmInstall,
  npmWarnings,
  type PackedPackage,
  REPO_ROOT,
  runCommand,
} from './packed.js'

const MINUTE = 60_000
const repoPackage = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}
/** The version the repository installs, so the applications' installs come from npm's cache. */
function pinned(name: string): string {
  const version = repoPackage.devDependencies?.[name] ?? repoPackage.dependencies?.[name]
  if (!version) throw new Error(`package.json does not list ${name}`)
  return `${name}@${version}`
}
const ENTRY_POINTS = [
  'conveyor-jobs',
  'conveyor-jobs/memory',
  'conveyor-jobs/postgres',
  'conveyor-jobs/metrics',
]

let packed: PackedPackage
let database: ProvidedDatabase | NoDatabase
const schemas: { drop(): Promise<void> }[] = []

beforeAll(async () => {
  ;[packed, database] = await Promise.all([buildAndPack(), provideDatabase()])
  if ('skip' in database)
    console.warn(`[package tests: the applications' Postgres test is skipped] ${database.skip}`)
}, 5 * MINUTE)

afterAll(async () => {
  for (const schema of schemas) await schema.drop()
  if (database && !('skip' in database)) await database.stop()
  if (packed) await rm(packed.dir, { recursive: true, force: true })
})

/** DATABASE_URL and a fresh CONVEYOR_SCHEMA for one application's Postgres test (none without a server). */
function databaseEnv(): NodeJS.ProcessEnv {
  if ('skip' in database) return { DATABASE_URL: '', CONVEYOR_SCHEMA: '' }
  const schema = createTestSchema(database.url, 'conveyor_package')
  schemas.push(schema)
  return { DATABASE_URL: database.url, CONVEYOR_SCHEMA: schema.schema }
}

/** Installs into an application, skipping the test when npm cannot reach the registry for what is not cached. */
async function install(
  ctx: { skip(note?: string): never },
  app: string,
  specs: readonly string[],
): Promise<CommandResult> {
  const result = await npmInstall(app, specs)
  if (isOffline(result)) ctx.skip(`npm could not reach the registry: ${result.stderr.split('\n')[0]}`)
  if (result.code !== 0) throw new Error(`npm install failed:\n${result.stdout}\n${result.stderr}`)
  return result
}

/** Typechecks and builds an application, then runs its node:test file; returns the TAP summary. */
async function typecheckAndRun(app: string): Promise<string> {
  await mustRun(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { cwd: app })
  const { stdout } = await mustRun(process.execPath, ['--test', 'dist/check.js'], {
    cwd: app,
    env: databaseEnv(),
  })
  return stdout
}

/** The tests expected to pass (and be skipped) in an application's run. */
function expectedSummary(): { pass: number; skipped: number } {
  return 'skip' in database ? { pass: 2, skipped: 1 } : { pass: 3, skipped: 0 }
}

function tapCount(stdout: string, name: string): number {
  return Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(stdout)?.[1] ?? Number.NaN)
}

describe.concurrent('the packed package', () => {
  it('ships the build, the source its maps point to, migrations, the bin and the licence, and no tests', async ({
    expect,
  }) => {
    const files = packed.files
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'bin/conveyor.js']))
    expect(files).toEqual(expect.arrayContaining(['migrations/001_initial.sql', 'dist/esm/cli/main.js']))
    expect(files).toEqual(
      expect.arrayContaining(['dist/esm/index.js', 'dist/cjs/index.js', 'dist/cjs/package.json']),
    )
    expect(
      files.filter((f) => /^(test|bench|scripts|examples|\.ci)\//.test(f) || /\.test\.ts$/.test(f)),
    ).toEqual([])
    expect(files).not.toContain('tsconfig.json') // the bin's sign of a checkout
    expect(await readFile(join(packed.unpacked, 'LICENSE'), 'utf8')).toMatch(/^MIT License/)
    // The README's relative links (docs, screenshots, benchmarks) resolve inside the package, where a
    // reader of node_modules or of the registry's page follows them.
    const readme = await readFile(join(packed.unpacked, 'README.md'), 'utf8')
    const links = [...readme.matchAll(/\]\(([^)#:\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!)
    expect(links.length).toBeGreaterThan(5)
    expect(links.filter((link) => !files.includes(link))).toEqual([])
    expect(files).toContain('grafana/conveyor-dashboard.json')

    const maps = (await listFiles(packed.unpacked)).filter((f) => f.endsWith('.map'))
    expect(maps.some((f) => f.endsWith('.js.map')) && maps.some((f) => f.endsWith('.d.ts.map'))).toBe(true)
    const unresolved: string[] = []
    for (const map of maps) {
      const { sources, sourceRoot } = JSON.parse(await readFile(map, 'utf8')) as {
        sources: string[]
        sourceRoot?: string
      }
      for (const source of sources) {
        const target = relative(packed.unpacked, resolve(dirname(map), sourceRoot ?? '', source))
        if (target.startsWith('..') || !files.includes(target))
          unresolved.push(`${relative(packed.unpacked, map)}: ${source}`)
      }
    }
    expect(unresolved).toEqual([])
  })

  it(
    'has types that resolve as ESM and as CommonJS in every resolution mode (attw)',
    async ({ expect }) => {
      const attw = join(REPO_ROOT, 'node_modules/@arethetypeswrong/cli/dist/index.js')
      const result = await runCommand(process.execPath, [attw, packed.tarball, '--format', 'json'], {
        cwd: packed.dir,
      })
      const report = JSON.parse(result.stdout) as { analysis: { problems: unknown[] } }
      expect(report.analysis.problems).toEqual([])
      expect(result.code).toBe(0)
    },
    2 * MINUTE,
  )

  it('has a package.json publint finds nothing wrong with', async ({ expect }) => {
    const { messages, pkg } = await publint({ pkgDir: packed.unpacked, pack: false, strict: true })
    expect(messages.map((m) => formatMessage(m, pkg, { color: false }))).toEqual([])
  })

  it(
    'works in an ESM application (bundler resolution), whose entry points load without fastify',
    async (ctx) => {
      const app = await copyApp('esm', packed.dir)
      const base = await install(ctx, app, [
        packed.tarball,
        pinned('pg'),
        pinned('typescript'),
        pinned('@types/node'),
      ])
      // Everything the package itself brings installs cleanly on this Node (no EBADENGINE, no peer warnings).
      ctx.expect(npmWarnings(base)).toEqual([])

      const loads = ENTRY_POINTS.map((e) => `await import('${e}')`).join(';')
      await mustRun(process.execPath, ['--input-type=module', '-e', loads], { cwd: app })
      const requires = ENTRY_POINTS.map((e) => `require('${e}')`).join(';')
      await mustRun(process.execPath, ['-e', requires], { cwd: app })
      const admin = await runCommand(
        process.execPath,
        ['--input-type=module', '-e', "await import('conveyor-jobs/admin')"],
        {
          cwd: app,
        },
      )
      ctx.expect(admin.stderr).toMatch(/Cannot find package 'fastify'/)

      await install(ctx, app, [pinned('fastify')])
      const summary = await typecheckAndRun(app)
      const expected = expectedSummary()
      ctx.expect({ pass: tapCount(summary, 'pass'), skipped: tapCount(summary, 'skipped') }).toEqual(expected)

      const help = await mustRun(join(app, 'node_modules/.bin/conveyor'), ['--help'], { cwd: app })
      ctx.expect(help.stdout).toContain('Usage: conveyor <command>')
      const version = await mustRun(join(app, 'node_modules/.bin/conveyor'), ['--version'], { cwd: app })
      ctx.expect(version.stdout.trim()).toBe(repoPackage.version)
    },
    5 * MINUTE,
  )

  it(
    'works in a CommonJS application (NodeNext resolution, require())',
    async (ctx) => {
      const app = await copyApp('cjs', packed.dir)
      const specs = [
        packed.tarball,
        pinned('pg'),
        pinned('fastify'),
        pinned('typescript'),
        pinned('@types/node'),
      ]
      const installed = await install(ctx, app, specs)
      const warnings = npmWarnings(installed)
      if (warnings.length > 0)
        console.warn(`[package tests: npm warned in the CommonJS application]\n${warnings.join('\n')}`)

      const summary = await typecheckAndRun(app)
      const expected = expectedSummary()
      ctx.expect({ pass: tapCount(summary, 'pass'), skipped: tapCount(summary, 'skipped') }).toEqual(expected)
    },
    5 * MINUTE,
  )
})
