#!/usr/bin/env node
/**
 * Copies each example file into the README block that follows its `<!-- example: path -->` marker
 * (test/readme/readme-examples.test.ts fails when they differ). Run: `npm run readme:sync`.
 */
import { readFileSync, writeFileSync } from 'node:fs'

const root = new URL('../', import.meta.url)
const readmePath = new URL('README.md', root)
const readme = readFileSync(readmePath, 'utf8')
const synced = readme.replace(/(<!-- example: (\S+) -->\s*```ts\n)[\s\S]*?```/g, (_m, head, path) => {
  return `${head}${readFileSync(new URL(path, root), 'utf8')}\`\`\``
})
writeFileSync(readmePath, synced)
console.log(synced === readme ? 'README examples already in sync' : 'README examples updated')
