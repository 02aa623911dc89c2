#!/usr/bin/env node
/**
 * Builds the package into dist/: `dist/esm` (tsc: ES modules, declarations, source and declaration
 * maps) and `dist/cjs` (the same modules as CommonJS, one file per source file, by esbuild, next to
 * copies of the declarations). Each tree has a package.json giving its module type, so Node and
 * TypeScript read `dist/cjs` as CommonJS, declarations included, while the root stays ESM.
 * The CLI (src/cli) is built for ESM only: the `conveyor` bin is the only thing that runs it.
 * Maps point at ../../src, which the package ships. Run by `npm run build` and `npm pack` (prepack).
 */
import { spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const src = join(root, 'src')
const dist = join(root, 'dist')
const esm = join(dist, 'esm')
const cjs = join(dist, 'cjs')

/** Source files of the CommonJS tree: everything but the CLI. */
const isCjsSource = (file) => file.endsWith('.ts') && !relative(src, file).startsWith('cli')

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  )
}

rmSync(dist, { recursive: true, force: true })

const tsc = spawnSync(
  process.execPath,
  [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
  {
    cwd: root,
    stdio: 'inherit',
  },
)
if (tsc.status !== 0) process.exit(tsc.status ?? 1)

const sources = walk(src).filter(isCjsSource)
// `import.meta.url` does not exist in CommonJS: the modules that use it get it from their file name.
const usesImportMeta = (file) => readFileSync(file, 'utf8').includes('import.meta.url')
const common = {
  outdir: cjs,
  outbase: src,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
}
await build({ ...common, entryPoints: sources.filter((f) => !usesImportMeta(f)) })
await build({
  ...common,
  entryPoints: sources.filter(usesImportMeta),
  define: { 'import.meta.url': '__conveyorModuleUrl' },
  // "use strict" first: a directive only counts at the very top of the file.
  banner: {
    js: "'use strict';\nconst __conveyorModuleUrl = require('node:url').pathToFileURL(__filename).href;",
  },
})

// The declarations are the same text for both trees; under dist/cjs they are read as CommonJS.
for (const file of walk(esm)) {
  const rel = relative(esm, file)
  if (!/\.d\.ts(\.map)?$/.test(rel) || !isCjsSource(join(src, rel.replace(/\.d\.ts(\.map)?$/, '.ts'))))
    continue
  mkdirSync(dirname(join(cjs, rel)), { recursive: true })
  cpSync(file, join(cjs, rel))
}

writeFileSync(join(esm, 'package.json'), `${JSON.stringify({ type: 'module' }, null, 2)}\n`)
writeFileSync(join(cjs, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`)
console.log(`build: dist/esm (tsc) and dist/cjs (${sources.length} modules, esbuild)`)
