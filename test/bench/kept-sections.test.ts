/** The report keeps the sections other runs maintain in BENCHMARKS.md when it rewrites the file. */
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { keptSections } from '../../bench/lib/report.js'

it('keeps the isolation and storage-goals sections, each up to its end marker', async () => {
  const path = join(await mkdtemp(join(tmpdir(), 'conveyor-bench-')), 'BENCHMARKS.md')
  const isolation = '## Isolated handlers: overhead per job\n\nfigures\n<!-- isolation:end -->'
  const storage = '## Storage v2 goals (issue 19)\n\n| goal |\n<!-- storage-goals:end -->'
  await writeFile(path, `# Benchmarks\n\ngenerated\n\n${isolation}\n\ntrailing\n\n${storage}\n`)
  expect(await keptSections(path)).toBe(`\n${isolation}\n\n${storage}\n`)
  await writeFile(path, '# Benchmarks\n\n## Storage v2 goals (issue 19)\n\nno end marker\n')
  expect(await keptSections(path)).toBe('')
  expect(await keptSections(join(path, 'missing'))).toBe('')
})
