/**
 * Runs the `conveyor` command line as a child process (`node --import tsx src/cli/main.ts ...`),
 * either to completion or in the background with helpers that wait for its output.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { waitFor } from '../support/wait.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Environment overrides of a run; `DATABASE_URL` is unset unless given. */
export type CliEnv = Readonly<Record<string, string | undefined>>

/** What a finished run printed and how it exited. */
export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

function start(args: readonly string[], env: CliEnv): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: '', CONVEYOR_ADMIN_PASSWORD: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

/** Runs `conveyor <args>` to completion (killed after `timeoutMs`). */
export function runCli(args: readonly string[], env: CliEnv = {}, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = start(args, env)
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
    })
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`conveyor ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/**
 * Runs `conveyor <args>` with its standard output a pipe whose reading end is closed before the
 * command writes anything (as `conveyor status | head -1` does once head has its line), so every
 * write to standard output fails with EPIPE.
 */
export function runCliWithClosedStdout(args: readonly string[], env: CliEnv = {}, timeoutMs = 60_000) {
  return new Promise<Omit<CliResult, 'stdout'>>((resolve, reject) => {
    const child = start(args, env)
    child.stdout?.destroy()
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8')
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`conveyor ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stderr })
    })
  })
}

/** A command running in the background. */
export interface RunningCli {
  /** Everything printed on standard output so far. */
  stdout(): string
  /** Everything printed on standard error so far. */
  stderr(): string
  /** Waits until standard output matches `pattern`; returns the match. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /** Waits until standard error matches `pattern`; returns the match. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>
  /** Sends `signal` now, without waiting for anything. */
  signal(signal: NodeJS.Signals): void
  /** Resolves to the exit code once the process has ended. */
  waitForExit(timeoutMs?: number): Promise<number | null>
  /** Sends `signal` and resolves to the exit code once the process has ended. */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | null>
  /** Kills the process if it still runs (for clean-up after a failed test). */
  kill(): void
}

/** Starts `conveyor <args>` in the background. */
export function startCli(args: readonly string[], env: CliEnv = {}): RunningCli {
  const child = start(args, env)
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8')
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8')
  })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  let code: number | null | undefined
  void exited.then((c) => {
    code = c
  })
  const describe = () => `stdout:\n${stdout}\nstderr:\n${stderr}`
  const waitForText = (text: () => string, pattern: RegExp, timeoutMs: number) =>
    waitFor(
      () => {
        const match = text().match(pattern)
        if (match) return match
        if (code !== undefined)
          throw new Error(`conveyor exited with ${code} before printing ${pattern}\n${describe()}`)
        return null
      },
      { timeoutMs, message: `output matching ${pattern}\n${describe()}` },
    )
  const waitForExit = async (timeoutMs = 20_000) => {
    await waitFor(() => code !== undefined, { timeoutMs, message: `exit\n${describe()}` })
    return code ?? null
  }
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    waitForOutput: (pattern, timeoutMs = 30_000) => waitForText(() => stdout, pattern, timeoutMs),
    waitForStderr: (pattern, timeoutMs = 30_000) => waitForText(() => stderr, pattern, timeoutMs),
    signal(signal) {
      if (code === undefined) child.kill(signal)
    },
    waitForExit,
    async stop(signal = 'SIGINT', timeoutMs = 20_000) {
      if (code === undefined) child.kill(signal)
      return waitForExit(timeoutMs)
    },
    kill() {
      if (code === undefined) child.kill('SIGKILL')
    },
  }
}
