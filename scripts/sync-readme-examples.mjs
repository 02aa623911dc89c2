#!/usr/bin/env node
/**
 * Copies each example file into the code block that follows its `<!-- example: path -->` marker, in
 * README.md and every docs/*.md page (test/readme/readme-examples.test.ts fails when they differ).
 * Run: `npm run readme:sync`.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'

const root = new URL('../', import.meta.url)
const pages = [
  'README.md',
  ...readdirSync(new URL('docs/', root))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
]
for (const page of pages) {
  const path = new URL(page, root)
  const text = readFileSync(path, 'utf8')
  const synced = text.replace(/(<!-- example: (\S+) -->\s*```ts\n)[\s\S]*?```/g, (_m, head, file) => {
    return `${head}${readFileSync(new URL(file, root), 'utf8')}\`\`\``
  })
  writeFileSync(path, synced)
  console.log(`${page}: ${synced === text ? 'examples already in sync' : 'examples updated'}`)
}
