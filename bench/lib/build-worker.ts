/**
 * Compiles the worker child (and the Conveyor source it imports) to plain JavaScript with esbuild
 * before a run. Worker children then run on bare `node`: a TypeScript loader (tsx) would run its
 * hooks on an extra thread and add about 30 MB to every worker's peak RSS, distorting W5. Libraries
 * stay external (loaded from node_modules as usual), and each system's worker module is its own
 * chunk, so a child loads only the library it measures.
 */
import { existsSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build, stop } from 'esbuild'

const ENTRY = fileURLToPath(new URL('../worker-process.ts', import.meta.url))

/**
 * Where this harness process keeps its compiled worker: inside node_modules so packages resolve,
 * and three levels below the repository root, like `src/adapters/postgres/`, because Conveyor finds
 * its `migrations/` folder relative to its own module URL.
 */
export function workerBuildDir(): string {
  return fileURLToPath(new URL(`../../node_modules/.cache/conveyor-bench-${process.pid}/`, import.meta.url))
}

/** Builds the worker child and returns the path of its entry script. */
export async function buildWorker(): Promise<string> {
  const outdir = workerBuildDir()
  await rm(outdir, { recursive: true, force: true })
  await build({
    entryPoints: [ENTRY],
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    outdir,
    outExtension: { '.js': '.mjs' },
    logLevel: 'silent',
  })
  // Ends esbuild's service process, which would otherwise run beside the measurements.
  await stop()
  const entry = join(outdir, 'worker-process.mjs')
  const migrations = new URL('../../../migrations/', pathToFileURL(entry))
  if (!existsSync(migrations))
    throw new Error(`the compiled worker would not find ${fileURLToPath(migrations)}`)
  return entry
}

/** Removes this process's compiled worker. */
export async function removeWorkerBuild(): Promise<void> {
  await rm(workerBuildDir(), { recursive: true, force: true })
}
