/**
 * The `conveyor` bin runs the TypeScript source only in a checkout of the repository and the build
 * everywhere else, also when the installed package ships src/ and the application has tsx.
 */
import { execFile } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url))
const dirs: string[] = []
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
})

/** A package folder with the real bin, a source and a built CLI that each print their name, and tsx importable. */
async function packageWithBothClis(options: { checkout: boolean }): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'conveyor-bin-'))
  dirs.push(root)
  await mkdir(join(root, 'bin'))
  await mkdir(join(root, 'src/cli'), { recursive: true })
  await mkdir(join(root, 'dist/esm/cli'), { recursive: true })
  await mkdir(join(root, 'node_modules'))
  await copyFile(join(REPO_ROOT, 'bin/conveyor.js'), join(root, 'bin/conveyor.js'))
  await writeFile(join(root, 'package.json'), JSON.stringify({ name: 'conveyor-jobs', type: 'module' }))
  await writeFile(join(root, 'src/cli/main.ts'), "const from: string = 'source'\nconsole.log(from)\n")
  await writeFile(join(root, 'dist/esm/cli/main.js'), "console.log('build')\n")
  await symlink(join(REPO_ROOT, 'node_modules/tsx'), join(root, 'node_modules/tsx'), 'dir')
  if (options.checkout) await writeFile(join(root, 'tsconfig.json'), '{}')
  return root
}

describe('bin/conveyor.js', () => {
  it('runs the build of an installed package even when src/ and tsx are there', async () => {
    const root = await packageWithBothClis({ checkout: false })
    const { stdout } = await run(process.execPath, [join(root, 'bin/conveyor.js')])
    expect(stdout.trim()).toBe('build')
  })

  it('runs the TypeScript source in a checkout (tsconfig.json present)', async () => {
    const root = await packageWithBothClis({ checkout: true })
    const { stdout } = await run(process.execPath, [join(root, 'bin/conveyor.js')])
    expect(stdout.trim()).toBe('source')
  })
})
