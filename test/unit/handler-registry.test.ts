/**
 * The handler registry without a database or a thread: its option checks and their messages, a
 * function against module-only options, handler modules given as URLs, `file:` strings and paths,
 * a module imported in process (its default or `handler` export, tried again after a failed load),
 * isolation through a recording host, and the registration a worker's isolation mode runs (made
 * once, forgotten when the kind is registered again).
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { expect, it } from 'vitest'
import { DEFAULTS } from '../../src/core/defaults.js'
import { InvalidArgumentError, LifecycleError } from '../../src/core/domain/errors.js'
import { defineJob } from '../../src/core/domain/job-definition.js'
import type { JobContext, JobHandler, RegisterOptions } from '../../src/core/ports/queue.js'
import { HandlerRegistry } from '../../src/core/runtime/handler-registry.js'
import type { IsolatedModuleSpec, IsolationHost } from '../../src/core/runtime/isolation/isolation-host.js'

const job = defineJob<{ n: number }>({ kind: 'k' })
const fn: JobHandler<{ n: number }> = () => 'fn'
const ctx = {} as JobContext
const MODULE = new URL('file:///handlers/k.js')

/** An isolation host that records the specs it was asked for; its handlers answer with the mode. */
function recordingHost() {
  const specs: IsolatedModuleSpec[] = []
  const host: IsolationHost = {
    handlerFor: (spec) => {
      specs.push(spec)
      return () => `isolated in ${spec.mode}`
    },
    close: async () => {},
  }
  return { host, specs }
}

/** A directory for handler modules written by the test. */
function moduleDir(): string {
  return mkdtempSync(join(tmpdir(), 'conveyor-handler-'))
}

it('has no kinds before the first registration, then the kinds registered', () => {
  const registry = new HandlerRegistry()
  expect(registry.kinds).toEqual([])
  registry.register(job, fn)
  registry.register(defineJob<{ n: number }>({ kind: 'other' }), fn)
  expect(registry.kinds).toEqual(['k', 'other'])
})

it('accepts each register option by name, and names the options and the field in its refusals', () => {
  const { host } = recordingHost()
  const registry = new HandlerRegistry(host)
  registry.register(job, MODULE, { isolation: 'thread', execArgv: ['--no-warnings'], abortGraceMs: 5 })
  registry.register(job, fn, { replace: true, transactional: true })
  expect(registry.get('k')?.transactional).toBe(true)
  expect(() => registry.register(job, fn, { nope: 1 } as RegisterOptions)).toThrow(/register options/)
  expect(() => registry.register(job, fn, { replace: 'yes' } as never)).toThrow(/replace/)
  expect(() => registry.register(job, fn, { replace: true, transactional: 1 } as never)).toThrow(
    /transactional/,
  )
  expect(() => registry.register(job, MODULE, { replace: true, abortGraceMs: -1 })).toThrow(
    'register("k") abortGraceMs',
  )
})

it('refuses isolation, execArgv and abortGraceMs for a function, suggesting the module form with its mode', () => {
  const registry = new HandlerRegistry(recordingHost().host)
  const refusal = (options: RegisterOptions) => {
    try {
      registry.register(job, fn, options)
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidArgumentError)
      return (error as Error).message
    }
    throw new Error('not refused')
  }
  expect(refusal({ isolation: 'process' })).toContain(`{ isolation: 'process' }`)
  expect(refusal({ execArgv: [] })).toContain(`{ isolation: 'thread' }`)
  expect(refusal({ abortGraceMs: 0 })).toContain('isolation runs a handler module, not a function')
  expect(registry.kinds).toEqual([])
})

it("refuses an isolated module in the job's transaction, and isolation without an isolation host", () => {
  const withHost = new HandlerRegistry(recordingHost().host)
  expect(() => withHost.register(job, MODULE, { transactional: true, isolation: 'thread' })).toThrow(
    /cannot run in the job's transaction/,
  )
  withHost.register(job, MODULE, { transactional: true })
  expect(withHost.get('k')).toMatchObject({ transactional: true, isolation: null })
  withHost.register(job, MODULE, { replace: true, transactional: false, isolation: 'process' })
  expect(withHost.get('k')).toMatchObject({ transactional: false, isolation: 'process' })

  const withoutHost = new HandlerRegistry()
  expect(() => withoutHost.register(job, MODULE, { isolation: 'thread' })).toThrow(LifecycleError)
  expect(() => withoutHost.register(job, MODULE, { isolation: 'thread' })).toThrow(/no isolation host/)
  withoutHost.register(job, MODULE)
  expect(withoutHost.get('k')).toMatchObject({ isolation: null, transactional: false })
})

it('checks isolation and execArgv, keeping a copy of the flags', () => {
  const registry = new HandlerRegistry(recordingHost().host)
  expect(() => registry.register(job, MODULE, { isolation: 'fiber' as never })).toThrow(
    `register("k"): isolation must be 'thread' or 'process'; got`,
  )
  expect(() => registry.register(job, MODULE, { execArgv: '--x' as never })).toThrow(
    'register("k"): execArgv must be an array of Node flags (strings)',
  )
  expect(() => registry.register(job, MODULE, { execArgv: ['--x', 1] as never })).toThrow(
    'register("k"): execArgv must be an array of Node flags (strings); execArgv[1] is number 1.',
  )
  const flags = ['--max-old-space-size=64']
  registry.register(job, MODULE, { execArgv: flags, abortGraceMs: 7 })
  flags.push('--changed')
  expect(registry.get('k')?.module).toEqual({
    url: MODULE,
    execArgv: ['--max-old-space-size=64'],
    abortGraceMs: 7,
  })
})

it('keeps a module with default flags and grace, and passes its settings to the isolation host', () => {
  const { host, specs } = recordingHost()
  const registry = new HandlerRegistry(host)
  registry.register(job, MODULE)
  expect(registry.get('k')).toMatchObject({
    isolation: null,
    transactional: false,
    module: { url: MODULE, execArgv: [], abortGraceMs: DEFAULTS.isolation.abortGraceMs },
  })
  expect(specs).toEqual([])
  registry.register(job, MODULE, { replace: true, isolation: 'process', execArgv: ['--a'], abortGraceMs: 3 })
  expect(specs).toEqual([{ module: MODULE, mode: 'process', execArgv: ['--a'], abortGraceMs: 3 }])
  expect(registry.get('k')?.handler({ n: 1 }, ctx)).toBe('isolated in process')
})

it('takes a module as a file: URL, a file: URL string or an absolute path, and refuses anything else', () => {
  const registry = new HandlerRegistry()
  const again = { replace: true }
  registry.register(job, 'file:///handlers/a.js', again)
  expect(registry.get('k')?.module?.url.href).toBe('file:///handlers/a.js')
  registry.register(job, '/handlers/b.js', again)
  expect(registry.get('k')?.module?.url.href).toBe(pathToFileURL('/handlers/b.js').href)
  registry.register(job, MODULE, again)
  expect(registry.get('k')?.module?.url).toBe(MODULE)
  expect(() => registry.register(job, new URL('https://example.com/h.js'), again)).toThrow(
    'register("k"): a handler module must be a file: URL; got https://example.com/h.js.',
  )
  expect(() => registry.register(job, 'handlers/c.js', again)).toThrow(
    /a handler module path must be absolute .*; pass a function, or a module as new URL/,
  )
  expect(() => registry.register(job, 42 as never, again)).toThrow(
    /^register\("k", handler\): pass a function, or a module as new URL\('\.\/handler\.js', import\.meta\.url\) or an absolute path; got/,
  )
})

it('imports a module run in process on first use: its default export, else its handler export', async () => {
  const dir = moduleDir()
  writeFileSync(
    join(dir, 'default.mjs'),
    'export default (p) => "default " + p.n\nexport const handler = () => "no"\n',
  )
  writeFileSync(join(dir, 'named.mjs'), 'export default 5\nexport const handler = (p) => "named " + p.n\n')
  writeFileSync(join(dir, 'none.mjs'), 'export const other = () => 1\n')
  const registry = new HandlerRegistry()
  const run = async (file: string) => {
    registry.register(job, join(dir, file), { replace: true })
    return registry.get('k')!.handler({ n: 1 }, ctx)
  }
  expect(await run('default.mjs')).toBe('default 1')
  expect(await run('named.mjs')).toBe('named 1')
  await expect(run('none.mjs')).rejects.toThrow(/exports no handler: export default async function/)
})

it('tries a module that failed to load again on the next attempt, and loads it once when it works', async () => {
  const dir = moduleDir()
  const path = join(dir, 'late.mjs')
  const registry = new HandlerRegistry()
  registry.register(job, path)
  const handler = registry.get('k')!.handler
  await expect(handler({ n: 1 }, ctx)).rejects.toThrow()
  writeFileSync(path, 'let loads = 0\nloads++\nexport default () => loads\n')
  expect(await handler({ n: 1 }, ctx)).toBe(1)
  expect(await handler({ n: 1 }, ctx)).toBe(1)
})

it("runs a module without isolation of its own in a worker's mode, made once per mode", () => {
  const { host, specs } = recordingHost()
  const registry = new HandlerRegistry(host)
  registry.register(job, MODULE, { execArgv: ['--a'], abortGraceMs: 9 })
  const plain = registry.get('k')!
  expect(registry.isolatedIn(plain, null)).toBe(plain)
  const thread = registry.isolatedIn(plain, 'thread')
  expect(thread).toMatchObject({ isolation: 'thread', module: plain.module, transactional: false })
  expect(thread.handler({ n: 1 }, ctx)).toBe('isolated in thread')
  expect(specs).toEqual([{ module: MODULE, mode: 'thread', execArgv: ['--a'], abortGraceMs: 9 }])
  expect(registry.isolatedIn(plain, 'thread')).toBe(thread)
  expect(registry.isolatedIn(plain, 'process').isolation).toBe('process')
  expect(specs).toHaveLength(2)

  // Registered again: the worker's isolated copy is made anew from the new registration.
  registry.register(job, MODULE, { replace: true, abortGraceMs: 1 })
  const again = registry.isolatedIn(registry.get('k')!, 'thread')
  expect(again).not.toBe(thread)
  expect(specs[2]).toMatchObject({ mode: 'thread', abortGraceMs: 1 })
})

it("leaves a function, a kind with its own isolation, a transactional module and a host-less registry's module in place", () => {
  const { host } = recordingHost()
  const registry = new HandlerRegistry(host)
  registry.register(job, fn)
  const f = registry.get('k')!
  expect(registry.isolatedIn(f, 'thread')).toBe(f)
  registry.register(job, MODULE, { replace: true, isolation: 'process' })
  const own = registry.get('k')!
  expect(registry.isolatedIn(own, 'thread')).toBe(own)
  registry.register(job, MODULE, { replace: true, transactional: true })
  const tx = registry.get('k')!
  expect(registry.isolatedIn(tx, 'thread')).toBe(tx)

  const hostless = new HandlerRegistry()
  hostless.register(job, MODULE)
  const m = hostless.get('k')!
  expect(hostless.isolatedIn(m, 'thread')).toBe(m)
})
