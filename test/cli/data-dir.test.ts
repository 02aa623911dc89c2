/**
 * `--data-dir` paths: a folder without a database is opened only with `--create` (no empty database
 * is made by a typo), and a path that cannot be a database folder gets one line and exit code 1,
 * never a stack trace.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from './cli-process.js'

/** One line on standard error, no stack frame, nothing on standard output. */
function expectOneLineError(result: { code: number | null; stdout: string; stderr: string }) {
  expect(result.code, result.stderr).toBe(1)
  expect(result.stdout).toBe('')
  expect(result.stderr).toMatch(/^conveyor: [^\n]+\n$/)
  expect(result.stderr).not.toContain('unexpected error')
}

describe('conveyor --data-dir', { timeout: 120_000 }, () => {
  let root = ''
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'conveyor-data-dir-'))
  })
  afterAll(async () => {
    await rm(root, { recursive: true, force: true })
  })

  it('asks for --create when the folder does not exist, and creates nothing', async () => {
    const dir = join(root, 'typo', 'data')
    for (const command of [
      ['status'],
      ['migrate'],
      ['cancel', '--all'],
      ['admin', '--port', '0'],
      ['demo', '--port', '0'],
    ]) {
      const result = await runCli([...command, '--data-dir', dir])
      expectOneLineError(result)
      expect(result.stderr).toContain(`${dir} does not exist`)
      expect(result.stderr).toContain('--create')
      expect(existsSync(join(root, 'typo'))).toBe(false)
    }
  })

  it('asks for --create when the folder holds no database, and writes nothing in it', async () => {
    const dir = join(root, 'empty')
    await mkdir(dir)
    const result = await runCli(['migrate', '--data-dir', dir])
    expectOneLineError(result)
    expect(result.stderr).toContain(`no embedded database in ${dir}`)
    expect(result.stderr).toContain('--create')
    expect(await readdir(dir)).toEqual([])
  })

  it('makes the folder and its database with --create, and opens it afterwards without', async () => {
    const dir = join(root, 'new', 'data')
    const created = await runCli(['migrate', '--data-dir', dir, '--create'])
    expect(created.code, created.stderr).toBe(0)
    expect(created.stdout).toMatch(/Done: applied \d+ migrations\./)
    const status = await runCli(['status', '--data-dir', dir])
    expect(status).toMatchObject({ code: 0, stderr: '' })
    expect(status.stdout).toContain('No jobs yet.')
  })

  it('without @electric-sql/pglite, says how to install it and leaves no folder behind', async () => {
    const hidden = {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${fileURLToPath(new URL('hide-packages.mjs', import.meta.url))}`,
    }
    const dir = join(root, 'no-pglite', 'data')
    for (const command of [
      ['demo', '--port', '0', '--create'],
      ['migrate', '--create'],
      ['status', '--create'],
    ]) {
      const result = await runCli([...command, '--data-dir', dir], hidden)
      expect(result.code, result.stderr).toBe(1)
      expect(result.stderr).toContain('needs the package @electric-sql/pglite')
      expect(result.stderr).toContain('npm install -D @electric-sql/pglite@0.5')
      expect(result.stderr).not.toMatch(/^\s+at /m)
      expect(existsSync(join(root, 'no-pglite')), command.join(' ')).toBe(false)
    }
  })

  it('without fastify, demo and admin say how to install it (and the demo PGlite too, when it is missing as well)', async () => {
    const hide = (packages: string) => ({
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${fileURLToPath(new URL('hide-packages.mjs', import.meta.url))}`,
      CONVEYOR_TEST_HIDE: packages,
    })
    const dir = join(root, 'no-fastify', 'data')
    const created = await runCli(['migrate', '--data-dir', dir, '--create'])
    expect(created.code, created.stderr).toBe(0)
    for (const command of [
      ['admin', '--port', '0', '--data-dir', dir],
      ['demo', '--port', '0', '--data-dir', dir],
    ]) {
      const result = await runCli(command, hide('fastify'))
      expect(result.code, result.stderr).toBe(1)
      expect(result.stderr).toContain(`conveyor ${command[0]} serves the admin page with fastify`)
      expect(result.stderr).toContain('npm install fastify@5')
      expect(result.stderr).not.toContain('pglite')
      expect(result.stderr).not.toMatch(/^\s+at /m)
    }
    const both = await runCli(
      ['demo', '--port', '0', '--data-dir', join(root, 'no-fastify', 'other'), '--create'],
      hide('fastify,@electric-sql/pglite'),
    )
    expect(both.code, both.stderr).toBe(1)
    expect(both.stderr).toContain('npm install fastify@5')
    expect(both.stderr).toContain('npm install -D @electric-sql/pglite@0.5')
    expect(both.stderr).not.toMatch(/^\s+at /m)
  })

  it('refuses --create without --data-dir', async () => {
    const { code, stderr } = await runCli(['status', '--create', '--database-url', 'postgres://x/y'])
    expect(code).toBe(2)
    expect(stderr).toContain('--create only applies to --data-dir')
  })

  it('gives one line, no stack trace, for a file or an impossible path', async () => {
    const file = join(root, 'a-file')
    await writeFile(file, 'not a folder\n')
    for (const args of [
      ['status', '--data-dir', '/etc/passwd'],
      ['status', '--data-dir', file],
      ['migrate', '--data-dir', file, '--create'],
      ['migrate', '--data-dir', join(file, 'below'), '--create'],
      ['status', '--data-dir', join(file, 'below')],
      ['migrate', '--data-dir', '/proc/no-such-process/data', '--create'],
    ]) {
      const result = await runCli(args)
      expectOneLineError(result)
    }
    const { stderr } = await runCli(['status', '--data-dir', file])
    expect(stderr).toContain(`${file} is not a folder`)
    if (process.platform === 'linux') {
      // sysfs refuses new folders even to root: a path without permission.
      const denied = await runCli(['migrate', '--data-dir', '/sys/conveyor-test', '--create'])
      expectOneLineError(denied)
      expect(denied.stderr).toContain('permission denied')
    }
  })
})
