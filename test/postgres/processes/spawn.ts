/** Starting and stopping worker child processes for the multi-process tests. */
import { type ChildProcess, spawn } from 'node:child_process'

/**
 * Starts `script` with node + tsx and resolves once it prints `ready`. `env` is added to the
 * child's environment (e.g. `LD_PRELOAD` of libfaketime and `FAKETIME` to skew its clock).
 */
export function startProcess(
  script: string,
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      if (out.includes('ready')) resolve(child)
    })
    child.once('exit', (code, signal) =>
      reject(new Error(`${script} ${args.join(' ')} exited (${code ?? signal}) before it was ready`)),
    )
  })
}

/** Resolves when the child has exited. */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Stops children: SIGTERM (graceful), and waits for them. */
export async function stopAll(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map((child) => {
      const done = exited(child)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return done
    }),
  )
}
