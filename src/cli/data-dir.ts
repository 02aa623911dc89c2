/**
 * Checking an embedded database's folder before PGlite opens it: a folder without a database is
 * used only with `--create` (so a mistyped path never makes an empty database silently), and a path
 * that cannot be such a folder (a file, a path through a file, no permission) becomes one line.
 */
import { mkdir, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { CliError } from './errors.js'

/** The sub-folder PGlite keeps its files in. */
export const PGDATA = 'pgdata'

/**
 * Makes sure `dir` holds an embedded database, or may get one: with `create`, missing folders are
 * made; without it, a missing folder or one without a database is refused with the flag to add.
 */
export async function prepareDataDir(dir: string, create: boolean): Promise<void> {
  const kind = await pathKind(dir)
  if (kind === 'missing') {
    if (!create) {
      throw new CliError(
        `${dir} does not exist: pass --create to make a new embedded database there (or check the path)`,
      )
    }
    await makeFolders(resolve(dir))
    return
  }
  if (kind === 'other') {
    throw new CliError(`${dir} is not a folder: --data-dir takes the folder of an embedded database`)
  }
  if (!create && (await pathKind(join(dir, PGDATA))) !== 'folder') {
    throw new CliError(
      `no embedded database in ${dir} (it has no ${PGDATA} folder): pass --create to make one there, or check the path`,
    )
  }
}

/** A file system error as one line about `path`, for errors the checks above did not foresee. */
export function fileSystemProblem(path: string, error: unknown): CliError {
  const code = (error as { code?: unknown } | null)?.code
  const why =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission denied'
      : code === 'EROFS'
        ? 'read-only file system'
        : code === 'ENOTDIR'
          ? 'a part of the path is a file, not a folder'
          : code === 'ENOENT'
            ? 'no such folder'
            : code === 'ENOSPC'
              ? 'no space left on the device'
              : error instanceof Error
                ? error.message
                : String(error)
  return new CliError(`cannot use ${path} as a database folder: ${why}`, { cause: error })
}

async function pathKind(path: string): Promise<'missing' | 'folder' | 'other'> {
  try {
    return (await stat(path)).isDirectory() ? 'folder' : 'other'
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return 'missing'
    throw fileSystemProblem(path, error)
  }
}

/**
 * Makes `path` and its missing parents one level at a time (`mkdir` with `recursive` never returns
 * on some paths, such as under /proc, on Node 20).
 */
async function makeFolders(path: string): Promise<void> {
  const missing: string[] = []
  let at = path
  while ((await pathKind(at)) === 'missing' && dirname(at) !== at) {
    missing.unshift(at)
    at = dirname(at)
  }
  if ((await pathKind(at)) !== 'folder') throw fileSystemProblem(path, { code: 'ENOTDIR' })
  for (const folder of missing) {
    try {
      await mkdir(folder)
    } catch (error) {
      throw fileSystemProblem(path, error)
    }
  }
}
