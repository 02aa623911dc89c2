/**
 * One isolated runner: a worker thread or a child process running `runner-entry`, behind one small
 * interface (send, messages, exit, terminate, ref/unref) so the pool treats both alike.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { InvalidArgumentError } from '../core/domain/errors.js'
import type { IsolationMode } from '../core/runtime/isolation/isolation-host.js'
import type { QueueMessage, RunnerMessage } from './protocol.js'

/** How to start the runners of one handler module. */
export interface RunnerSpec {
  readonly mode: IsolationMode
  /** The entry module the runner starts (`runner-entry.js`, or `.ts` in the sources). */
  readonly entry: URL
  /** tsx's loaders, when the entry or the handler module is TypeScript; null otherwise. */
  readonly tsx: { readonly api: string; readonly loader: string } | null
  readonly execArgv: readonly string[]
}

/** One running thread or process. */
export interface Runner {
  /** Sends one attempt to run, or the abort of the attempt it runs. */
  send(message: QueueMessage): void
  /** The listener of this runner's messages (the pool's, for the attempt it runs). */
  onMessage: (message: RunnerMessage) => void
  /** Called once when the runner ends: its exit code or signal, and an uncaught error's message. */
  onExit: (code: number | null, signal: string | null, detail: string | undefined) => void
  /** Ends the runner at once (a thread is terminated, a process killed with SIGKILL). */
  terminate(): void
  /** Keeps the host process alive while the runner works (ref) or not while it idles (unref). */
  ref(): void
  unref(): void
}

/** The runner entry beside this module, in the ESM tree of a build (a CommonJS build points at it too). */
export function runnerEntry(here: string): URL {
  if (/\.[mc]?ts$/.test(here)) return new URL('./runner-entry.ts', here)
  return new URL('./runner-entry.js', here.replace('/dist/cjs/', '/dist/esm/'))
}

/** True for a TypeScript module (`.ts`, `.mts`, `.cts`). */
export function isTypeScript(url: URL): boolean {
  return /\.[mc]?ts$/.test(url.pathname)
}

/**
 * tsx's loaders, looked up from the handler module first (the application's tsx), then from this
 * package; throws a typed error saying to install tsx when neither has it.
 */
export function findTsx(module: URL, here: string): { api: string; loader: string } {
  for (const from of [module.href, here]) {
    try {
      // The ESM build of tsx's API (what `import` would pick), read from its exports map: the
      // CommonJS build that require.resolve finds cannot be imported into a thread.
      const manifest = createRequire(from).resolve('tsx/package.json')
      const exports = (JSON.parse(readFileSync(manifest, 'utf8')) as { exports: Record<string, unknown> })
        .exports
      return {
        api: new URL(importTarget(exports['./esm/api']), pathToFileURL(manifest)).href,
        loader: new URL(importTarget(exports['.']), pathToFileURL(manifest)).href,
      }
    } catch {
      // try the next place
    }
  }
  throw new InvalidArgumentError(
    `The handler module ${module.href} is TypeScript; isolated runners load it with tsx, which was not found. Install it (npm install --save-dev tsx) or register the compiled .js module.`,
  )
}

/** The `import` target of one entry of an exports map. */
function importTarget(entry: unknown): string {
  if (typeof entry === 'string') return entry
  const pick = (entry as { import?: unknown })?.import
  if (typeof pick === 'string') return pick
  const fallback = (pick as { default?: unknown })?.default
  if (typeof fallback === 'string') return fallback
  throw new Error('tsx exports no ESM entry')
}

/** Starts one runner. */
export function spawnRunner(spec: RunnerSpec): Runner {
  return spec.mode === 'thread' ? threadRunner(spec) : processRunner(spec)
}

function threadRunner(spec: RunnerSpec): Runner {
  // A worker thread cannot take tsx through execArgv on Node 20 (loader hooks are per thread):
  // a tiny bootstrap registers tsx in the thread, then imports the entry.
  const worker = spec.tsx
    ? new Worker(
        `import(${JSON.stringify(spec.tsx.api)}).then((m) => { (m.register ?? m.default.register)(); return import(${JSON.stringify(spec.entry.href)}) })`,
        { eval: true, execArgv: [...spec.execArgv] },
      )
    : new Worker(spec.entry, { execArgv: [...spec.execArgv] })
  let detail: string | undefined
  const runner: Runner = {
    send: (message) => worker.postMessage(message),
    onMessage: () => {},
    onExit: () => {},
    terminate: () => void worker.terminate(),
    ref: () => worker.ref(),
    unref: () => worker.unref(),
  }
  worker.on('message', (m: RunnerMessage) => runner.onMessage(m))
  worker.on('error', (error) => {
    detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  })
  worker.once('exit', (code) => runner.onExit(code, null, detail))
  return runner
}

function processRunner(spec: RunnerSpec): Runner {
  const child: ChildProcess = fork(fileURLToPath(spec.entry), [], {
    execArgv: [...(spec.tsx ? ['--import', spec.tsx.loader] : []), ...spec.execArgv],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  let detail: string | undefined
  const runner: Runner = {
    send: (message) => void child.send(message),
    onMessage: () => {},
    onExit: () => {},
    terminate: () => void child.kill('SIGKILL'),
    ref: () => {
      child.ref()
      ;(child.channel as { ref?: () => void } | null | undefined)?.ref?.()
    },
    unref: () => {
      child.unref()
      ;(child.channel as { unref?: () => void } | null | undefined)?.unref?.()
    },
  }
  child.on('message', (m: RunnerMessage) => {
    if (m.type === 'fatal') detail = m.detail
    else runner.onMessage(m)
  })
  child.on('error', (error) => {
    detail = error.message
  })
  child.once('exit', (code, signal) => runner.onExit(code, signal, detail))
  return runner
}
