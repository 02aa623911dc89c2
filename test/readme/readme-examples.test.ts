import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')
const readme = readFileSync(join(root, 'README.md'), 'utf8')

/** Every code block preceded by `<!-- example: path -->` must equal that file, which runs as a test. */
describe('README examples', () => {
  const blocks = [...readme.matchAll(/<!-- example: (\S+) -->\s*```ts\n([\s\S]*?)```/g)]

  it('has examples', () => {
    expect(blocks.length).toBeGreaterThan(0)
  })

  for (const [, path, code] of blocks) {
    it(`${path} matches the README`, () => {
      expect(code).toBe(readFileSync(join(root, path!), 'utf8'))
    })
  }
})
