import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')
const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md'))
// Pages without examples are left out: an empty suite fails in vitest.
const pages = [
  'README.md',
  ...docs
    .map((f) => `docs/${f}`)
    .filter((page) => readFileSync(join(root, page), 'utf8').includes('<!-- example: ')),
]

/**
 * Every code block preceded by `<!-- example: path -->`, in the README and in docs/, must equal that
 * file, which runs as a test (`npm run readme:sync` copies them in).
 */
describe.each(pages)('examples in %s', (page) => {
  const text = readFileSync(join(root, page), 'utf8')
  const blocks = [...text.matchAll(/<!-- example: (\S+) -->\s*```ts\n([\s\S]*?)```/g)]

  if (page === 'README.md') {
    it('has examples', () => {
      expect(blocks.length).toBeGreaterThan(0)
    })
  }

  for (const [, path, code] of blocks) {
    it(`${path} matches`, () => {
      expect(code).toBe(readFileSync(join(root, path!), 'utf8'))
    })
  }
})
