/**
 * A lock file that keeps two processes from opening the same embedded database folder at once
 * (PGlite has no lock of its own, and two writers would corrupt the files). A lock left by a
 * process that no longer runs is taken over.
 */
import { open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileSystemProblem } from './data-dir.js'
import { CliError } from './errors.js'

const LOCK_FILE = 'conveyor.lock'

/** Takes the lock of an existing folder; resolves to the function that releases it. */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, LOCK_FILE)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx')
      await file.writeFile(`${process.pid}\n`)
      await file.close()
      return () => rm(path, { force: true })
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EEXIST') throw fileSystemProblem(dir, error)
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10)
      if (Number.isInteger(pid) && pid > 0 && isRunning(pid)) {
        throw new CliError(
          `the embedded database in ${dir} is in use by process ${pid} (a running \`conveyor demo\`?): stop that process first, or use another --data-dir`,
        )
      }
      await rm(path, { force: true })
    }
  }
  throw new CliError(
    `could not lock the embedded database in ${dir}: remove ${path} if no Conveyor process uses it`,
  )
}

function isRunning(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { code?: unknown }).code === 'EPERM'
  }
}
