import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..', '..')
const src = join(root, 'src')

/** The package's entry points (package.json `exports`). */
const ENTRY_POINTS = [
  'src/index.ts',
  'src/adapters/memory/index.ts',
  'src/adapters/postgres/index.ts',
  'src/admin/index.ts',
  'src/instrumentation/index.ts',
].map((p) => join(root, p))

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

const program = ts.createProgram(ENTRY_POINTS, {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  skipLibCheck: true,
  noEmit: true,
})
const checker = program.getTypeChecker()

function resolved(symbol: ts.Symbol): ts.Symbol {
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
}

/** Every symbol the entry points export, by identity and by name. */
const exported = new Set<ts.Symbol>()
const exportedNames = new Set<string>()
for (const entry of ENTRY_POINTS) {
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!
  for (const symbol of checker.getExportsOfModule(module)) {
    exported.add(resolved(symbol))
    exportedNames.add(symbol.name)
  }
}

const isOurs = (decl: ts.Declaration) => decl.getSourceFile().fileName.startsWith(src)
const NAMED_TYPE =
  ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Class | ts.SymbolFlags.Enum

/** Whether a class member is part of its public surface. */
function isPublicMember(member: ts.ClassElement): boolean {
  if (member.name && ts.isPrivateIdentifier(member.name)) return false
  const flags = ts.getCombinedModifierFlags(member as ts.Declaration)
  return (flags & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) === 0
}

/** Named types of this package that an exported declaration's signature mentions. */
function referencedTypes(decl: ts.Node): Map<ts.Symbol, string> {
  const found = new Map<ts.Symbol, string>()
  const visit = (node: ts.Node): void => {
    if (ts.isClassDeclaration(node) && node !== decl) return
    if (ts.isClassElement(node) && !isPublicMember(node)) return
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      // A signature, not the implementation: visit parameters and the return type only.
      for (const p of node.parameters) visit(p)
      if (node.type) visit(node.type)
      for (const t of node.typeParameters ?? []) visit(t)
      return
    }
    if (ts.isPropertyDeclaration(node) && node.initializer && !node.type) return
    if (ts.isTypeReferenceNode(node) || ts.isExpressionWithTypeArguments(node) || ts.isTypeQueryNode(node)) {
      const name = ts.isTypeReferenceNode(node)
        ? node.typeName
        : ts.isTypeQueryNode(node)
          ? node.exprName
          : node.expression
      const symbol = checker.getSymbolAtLocation(name)
      if (symbol) {
        const target = resolved(symbol)
        if (target.flags & NAMED_TYPE && target.declarations?.some(isOurs)) found.set(target, target.name)
      }
    }
    ts.forEachChild(node, visit)
  }
  if (ts.isVariableDeclaration(decl)) {
    if (decl.type) visit(decl.type)
  } else visit(decl)
  return found
}

/** Whether the class `name` declared in `file` extends `ConveyorError` (directly or not). */
function isConveyorError(name: string, file: string): boolean {
  const source = program.getSourceFile(file)
  const decl = source?.statements.find(
    (s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === name,
  )
  if (!decl) return false
  let type: ts.Type | undefined = checker.getTypeAtLocation(decl)
  while (type) {
    if (type.symbol?.name === 'ConveyorError') return true
    type = (type as ts.InterfaceType).symbol && checker.getBaseTypes(type as ts.InterfaceType)[0]
  }
  return false
}

describe('entry points', () => {
  it('export every type of this package that an exported signature mentions', () => {
    const missing = new Set<string>()
    for (const symbol of exported) {
      for (const decl of symbol.declarations ?? []) {
        if (!isOurs(decl)) continue
        for (const [target, name] of referencedTypes(decl)) {
          if (exported.has(target)) continue
          const where = relative(root, target.declarations![0]!.getSourceFile().fileName)
          missing.add(`${name} (${where}), used by ${symbol.name}`)
        }
      }
    }
    expect([...missing].sort()).toEqual([])
  })

  it('export every error class of the library (every subclass of ConveyorError)', () => {
    const errors: string[] = []
    for (const file of files(src)) {
      const text = readFileSync(file, 'utf8')
      for (const m of text.matchAll(/export class (\w+) extends (?:ConveyorError|\w+Error)\b/g)) {
        if (isConveyorError(m[1]!, file)) errors.push(m[1]!)
      }
    }
    expect(errors.length).toBeGreaterThan(15)
    expect(errors.filter((name) => !exportedNames.has(name)).sort()).toEqual([])
  })
})
