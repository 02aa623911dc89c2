/**
 * The parent's handle on one worker child process: fork it (plain node, on the compiled worker
 * script), exchange messages, read its peak RSS from /proc, and kill it on any failure.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { liveChildren } from './resources.js'
import { stamp, withTimeout } from './stats.js'
import type { ChildMessage, ChildReport, ParentMessage, WorkerSpec } from './types.js'

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const TAIL_CHARS = 4000

/** A running worker child. */
export class WorkerChild {
  readonly #child: ChildProcess
  readonly #messages: ChildMessage[] = []
  readonly #waiters = new Set<() => void>()
  #output = ''
  #exited: string | null = null

  private constructor(child: ChildProcess) {
    this.#child = child
    liveChildren.add(child)
    child.on('message', (m) => {
      this.#messages.push(m as ChildMessage)
      this.#wake()
    })
    const keep = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString()).slice(-TAIL_CHARS)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    child.on('exit', (code, signal) => {
      this.#exited = `worker process exited (code ${code}, signal ${signal})`
      liveChildren.delete(child)
      this.#wake()
    })
    child.on('error', (error) => {
      this.#exited = `worker process error: ${error.message}`
      this.#wake()
    })
  }

  /**
   * Forks the compiled worker child (see build-worker.ts) and waits until it has loaded its modules.
   * `BENCH_CHILD_NODE_FLAGS` (space-separated) passes node flags to every child, e.g.
   * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the workers (node refuses them in NODE_OPTIONS).
   */
  static async spawn(script: string, spec: WorkerSpec, timeoutMs: number): Promise<WorkerChild> {
    const child = fork(script, [JSON.stringify(spec)], {
      cwd: REPO_ROOT,
      execArgv: (process.env.BENCH_CHILD_NODE_FLAGS ?? '').split(' ').filter(Boolean),
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    const handle = new WorkerChild(child)
    try {
      await handle.waitFor('loaded', timeoutMs)
    } catch (error) {
      handle.kill()
      throw error
    }
    return handle
  }

  /** The child's pid. */
  get pid(): number {
    return this.#child.pid ?? -1
  }

  /** Sends `start` and returns the moment it was sent (epoch ms). */
  start(): number {
    const t0 = stamp()
    this.#send({ type: 'start' })
    return t0
  }

  /** Whether a message of this type has arrived. */
  has(type: ChildMessage['type']): boolean {
    return this.#messages.some((m) => m.type === type)
  }

  /** Waits for a message of `type`; rejects on a child error, exit, or timeout. */
  async waitFor<T extends ChildMessage['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    const found = () => this.#messages.find((m) => m.type === type) as Extract<ChildMessage, { type: T }>
    const wait = new Promise<Extract<ChildMessage, { type: T }>>((resolve, reject) => {
      const check = () => {
        const m = found()
        const error = this.#messages.find((x) => x.type === 'error')
        if (m) resolve(m)
        else if (error?.type === 'error') reject(new Error(`worker: ${error.message}`))
        else if (this.#exited) reject(new Error(`${this.#exited}; output: ${this.tail()}`))
        else return
        this.#waiters.delete(check)
      }
      this.#waiters.add(check)
      check()
    })
    return withTimeout(wait, timeoutMs, `waiting for the worker's '${type}'`)
  }

  /**
   * Resolves when a message of `type` arrives, the child fails, or `ms` pass, whichever is first; never
   * rejects (call `throwIfFailed` after). Lets a poll loop sleep without overshooting the message.
   */
  async until(type: ChildMessage['type'], ms: number): Promise<void> {
    if (this.has(type)) return
    await new Promise<void>((resolve) => {
      const check = () => {
        if (this.has(type) || this.has('error') || this.#exited) done()
      }
      const done = () => {
        clearTimeout(timer)
        this.#waiters.delete(check)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.#waiters.add(check)
    })
  }

  /** Throws when the child reported an error or exited. */
  throwIfFailed(): void {
    const error = this.#messages.find((m) => m.type === 'error')
    if (error?.type === 'error') throw new Error(`worker: ${error.message}`)
    if (this.#exited) throw new Error(`${this.#exited}; output: ${this.tail()}`)
  }

  /** Peak RSS of the child so far in kB (VmHWM), or null when /proc is not readable. */
  peakRssKb(): number | null {
    try {
      const status = readFileSync(`/proc/${this.pid}/status`, 'utf8')
      const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status)
      return m ? Number(m[1]) : null
    } catch {
      return null
    }
  }

  /** Asks the child to stop its worker and report; kills it when that takes too long. */
  async stop(timeoutMs: number): Promise<ChildReport> {
    this.#send({ type: 'stop' })
    try {
      const m = await this.waitFor('stopped', timeoutMs)
      return m.report
    } finally {
      // The child exits by itself after reporting; make sure of it.
      setTimeout(() => this.kill(), 2000).unref()
    }
  }

  /** Kills the child at once. */
  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL')
    liveChildren.delete(this.#child)
  }

  /** The last lines the child printed. */
  tail(): string {
    return this.#output.trim().split('\n').slice(-8).join(' | ')
  }

  #send(message: ParentMessage): void {
    if (this.#child.connected) this.#child.send(message)
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w()
  }
}
