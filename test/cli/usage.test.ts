/** The command line's help, version and mistakes: no database needed. */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { PGLITE_RANGE } from '../../src/cli/database-settings.js'
import { runCli, runCliWithClosedStdout } from './cli-process.js'

const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version

describe('conveyor help and version', { timeout: 60_000 }, () => {
  it('lists every command with --help, and with no arguments', async () => {
    for (const args of [['--help'], []]) {
      const { code, stdout } = await runCli(args)
      expect(code).toBe(0)
      expect(stdout).toContain('Usage: conveyor <command> [options]')
      expect(stdout).toContain('Exit codes: 0 done; 1 failed')
      for (const command of [
        'demo',
        'migrate',
        'status',
        'show',
        'retry',
        'cancel',
        'pause',
        'resume',
        'delete',
        'admin',
      ]) {
        expect(stdout).toMatch(new RegExp(`^  ${command} +\\S`, 'm'))
      }
    }
  })

  it('says, where it points to the demo, that it needs fastify and the embedded database @electric-sql/pglite 0.5', async () => {
    const tool = await runCli(['--help'])
    expect(tool.stdout.replaceAll('\n', ' ')).toMatch(
      /Start here: conveyor demo \(it serves the admin page with fastify, .+: npm install fastify@5 and npm install -D @electric-sql\/pglite@0\.5\)/,
    )
    const demo = await runCli(['demo', '--help'])
    expect(demo.stdout.replaceAll('\n', ' ')).toContain(
      'Without DATABASE_URL or --database-url, the demo starts an embedded PostgreSQL (PGlite)',
    )
    expect(demo.stdout).toContain('npm install -D @electric-sql/pglite@0.5')
    expect(demo.stdout).toContain('npm install fastify@5')
    expect(demo.stdout).toContain('default: conveyor_demo on a server, conveyor embedded')
    // The version range the message names is the peer range package.json declares.
    const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      peerDependencies: Record<string, string>
    }
    expect(manifest.peerDependencies['@electric-sql/pglite']).toBe(PGLITE_RANGE)
  })

  it('exits quietly when the reader of its output has gone (conveyor --help | head -1)', async () => {
    for (const args of [['--help'], ['--version'], ['help', 'status']]) {
      expect(await runCliWithClosedStdout(args)).toEqual({ code: 0, stderr: '' })
    }
  })

  it('prints the version', async () => {
    const { code, stdout } = await runCli(['--version'])
    expect(code).toBe(0)
    expect(stdout.trim()).toBe(version)
  })

  it.each([
    ['migrate', ['--dry-run', '--schema', '--database-url', '--data-dir', '--create']],
    ['status', ['--json', '--schema']],
    ['retry', ['--id <id> ...', '--queue', '--kind', '--state', '--all', '--force', '--json', 'Exit codes']],
    ['cancel', ['--id <id> ...', '--key', '--queue', '--kind', '--state', '--all', '--json', 'Exit codes']],
    [
      'pause',
      ['--id <id> ...', '--key', '--queue', '--kind', '--state', '--all', '--json', 'conveyor resume'],
    ],
    ['resume', ['--id <id> ...', '--key', '--queue', '--kind', '--state', '--all', '--json', 'Exit codes']],
    ['delete', ['--id <id> ...', '--key', '--queue', '--kind', '--state', '--all', '--json', 'Exit codes']],
    ['show', ['--id', '--key', '--kind', '--json', 'Exit codes']],
    ['admin', ['--port', '--host', '--user', '--password', '--read-only']],
    ['demo', ['--port', '--seed', '--rate', '--data-dir', '.demo-data']],
  ])('explains `%s` with --help', async (command, flags) => {
    const { code, stdout, stderr } = await runCli([command, '--help'])
    expect(code).toBe(0)
    expect(stderr).toBe('')
    expect(stdout).toContain(`Usage: conveyor ${command} [options]`)
    for (const flag of flags) expect(stdout).toContain(flag)
    expect(stdout).toContain('-h, --help')
    expect((await runCli(['help', command])).stdout).toBe(stdout)
  })
})

describe('conveyor usage mistakes', { timeout: 60_000 }, () => {
  const mistakes: [string, string[], RegExp][] = [
    ['an unknown flag', ['status', '--bogus'], /unknown option --bogus for `conveyor status`/],
    ['a misspelled flag', ['migrate', '--dryrun'], /unknown option --dryrun .*did you mean --dry-run\?/],
    ['a flag without its value', ['migrate', '--schema'], /option --schema needs a value: --schema <name>/],
    ['a value on a switch', ['migrate', '--dry-run=yes'], /option --dry-run takes no value/],
    [
      'an unknown state',
      ['retry', '--state', 'done'],
      /unknown state "done": expected one of scheduled, available/,
    ],
    ['a bad job id', ['cancel', '--id', 'abc'], /--id must be a job id/],
    [
      'a filter-less bulk action',
      ['cancel'],
      /say which jobs: --id, --key, --queue, --kind, --state, or --all/,
    ],
    ['a bad port', ['admin', '--port', '99999'], /--port must be a port number from 0 to 65535/],
    ['a stray argument', ['status', 'now'], /unexpected argument "now"/],
    ['an unknown command', ['migrat'], /unknown command "migrat" \(did you mean `conveyor migrate`\?\)/],
    ['a bad schema name', ['status', '--schema', 'no spaces'], /--schema: /],
    ['a non-PostgreSQL URL', ['status', '--database-url', 'mysql://x/y'], /must start with postgres:\/\//],
    [
      'two databases',
      ['status', '--database-url', 'postgres://x/y', '--data-dir', 'd'],
      /either --database-url or --data-dir/,
    ],
  ]

  it.each(mistakes)('refuses %s with a hint and exit code 2', async (_, args, message) => {
    const { code, stdout, stderr } = await runCli(args)
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toMatch(message)
    expect(stderr).toMatch(/Run `conveyor (\w+ )?--help` for usage\./)
  })

  it('says how to configure a database when there is none', async () => {
    const { code, stderr } = await runCli(['status'])
    expect(code).toBe(2)
    expect(stderr).toContain('no database configured: set DATABASE_URL or pass --database-url')
  })

  it('names an unreachable server and how to point at another one', async () => {
    for (const [args, env] of [
      [['status', '--database-url', 'postgres://127.0.0.1:1/x'], {}],
      [['migrate'], { DATABASE_URL: 'postgres://u:secret@127.0.0.1:1/x' }],
    ] as const) {
      const { code, stderr } = await runCli(args, env)
      expect(code).toBe(1)
      expect(stderr).toContain('cannot reach PostgreSQL at 127.0.0.1:1: connect ECONNREFUSED')
      expect(stderr).toContain('Set DATABASE_URL or --database-url')
      expect(stderr).not.toContain('secret')
      expect(stderr).not.toMatch(/^\s+at /m) // no stack trace
    }
  })
})
