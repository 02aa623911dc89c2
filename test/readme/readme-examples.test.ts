import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')
const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'))
const pages = ['README.md', ...docs.map((f) => `docs/${f}`)]
const examples = pages.flatMap((page) =>
  [...readFileSync(join(root, page), 'utf8').matchAll(/<!-- example: (\S+) -->\s*```ts\n([\s\S]*?)```/g)].map(
    ([, path, code]) => ({ page, path: path!, code: code! }),
  ),
)

/**
 * Every code block preceded by `<!-- example: path -->`, in the README and in docs/, must equal that
 * file, which runs as a test (`npm run readme:sync` copies them in).
 */
describe('README and docs examples', () => {
  it('the README has examples', () => {
    expect(examples.filter((e) => e.page === 'README.md').length).toBeGreaterThan(0)
  })

  for (const { page, path, code } of examples) {
    it(`${path} matches its block in ${page}`, () => {
      expect(code).toBe(readFileSync(join(root, path), 'utf8'))
    })
  }
})
