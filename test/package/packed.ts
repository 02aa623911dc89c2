/**
 * The package as `npm pack` ships it, built once per test run (`beforeAll` of package.test.ts), and
 * the commands the package tests run: npm, node and tsc in fresh applications.
 */
import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository's root folder. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** What one command printed, and how it ended. */
export interface CommandResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command to its end (never throws for a non-zero exit: the caller decides). */
export function runCommand(
  file: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: { ...process.env, ...options.env }, maxBuffer: 1 << 24 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({ code, stdout: String(stdout), stderr: String(stderr) })
      },
    )
  })
}

/** The result when the command succeeded; else an error with everything it printed. */
export async function mustRun(
  file: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<CommandResult> {
  const result = await runCommand(file, args, options)
  if (result.code !== 0) {
    throw new Error(
      `${file} ${args.join(' ')} exited with ${result.code}\n${result.stdout}\n${result.stderr}`.trim(),
    )
  }
  return result
}

/** The packed package: the tarball, the paths it holds, and a folder where it is unpacked. */
export interface PackedPackage {
  readonly tarball: string
  readonly files: readonly string[]
  /** The unpacked tarball's `package/` folder. */
  readonly unpacked: string
  /** The temporary folder holding all of the above (removed by the caller). */
  readonly dir: string
}

/** Builds the package (`npm run build`), packs it as `npm pack` would publish it, and unpacks it. */
export async function buildAndPack(): Promise<PackedPackage> {
  const dir = await mkdtemp(join(tmpdir(), 'conveyor-package-'))
  await mustRun('npm', ['run', 'build'], { cwd: REPO_ROOT })
  // prepack would build again: the build above already ran.
  const packed = await mustRun('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: REPO_ROOT,
  })
  const [summary] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[]
  if (!summary) throw new Error(`npm pack printed no summary: ${packed.stdout}`)
  const tarball = join(dir, summary.filename)
  await mustRun('tar', ['-xzf', tarball, '-C', dir], { cwd: dir })
  return { tarball, files: summary.files.map((f) => f.path), unpacked: join(dir, 'package'), dir }
}

/** Every file under `dir`, as absolute paths. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true })
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name))
}

/** A fresh copy of one of the applications in test/package/apps/, in `parent`. */
export async function copyApp(name: 'esm' | 'cjs', parent: string): Promise<string> {
  const dir = join(parent, `${name}-app`)
  await mkdir(dir)
  await cp(join(REPO_ROOT, 'test/package/apps', name), dir, { recursive: true })
  return dir
}

/** Installs packages into an application the way the tests may: from npm's cache where it can. */
export function npmInstall(cwd: string, specs: readonly string[]): Promise<CommandResult> {
  return runCommand('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...specs], {
    cwd,
    env: { npm_config_update_notifier: 'false' },
  })
}

/** True when npm failed for want of the network (the package tests are then skipped, not failed). */
export function isOffline(result: CommandResult): boolean {
  return (
    result.code !== 0 &&
    /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|ECONNRESET/.test(result.stderr)
  )
}

/** The `npm warn` lines of an install's output. */
export function npmWarnings(result: CommandResult): string[] {
  return `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => /^npm warn/i.test(line))
}
