// Reads the import statements of the repository's TypeScript sources into a graph, marking which ones load code at run time.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** The repository root (this file runs from dist/test/house/). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface ImportEdge {
  /** Repo-relative path of the importing file, e.g. `src/study/config.ts`. */
  from: string;
  /** Repo-relative path of the imported file, or the package name (`@tensorflow/tfjs`, `node:fs`). */
  to: string;
  line: number;
  /** False for `import type`, `export type` and imports whose every name is marked `type`: erased by tsc. */
  runtime: boolean;
  /** An `import('...')` expression rather than a statement. */
  dynamic: boolean;
}

/** Every `.ts` file under the given repo-relative directories (declaration files excluded). */
export function sourceFiles(...dirs: string[]): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(path.join(ROOT, rel)).sort()) {
      const child = `${rel}/${name}`;
      if (statSync(path.join(ROOT, child)).isDirectory()) walk(child);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(child);
    }
  };
  for (const d of dirs) walk(d);
  return out;
}

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`; `node:` builtins stay whole. */
function packageName(spec: string): string {
  if (spec.startsWith('node:')) return spec;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** A relative specifier as the repo-relative source file it names (`./x.js` is `./x.ts` in the sources). */
function resolveRelative(from: string, spec: string): string {
  const base = path.join(path.dirname(path.join(ROOT, from)), spec);
  const candidates = [base.replace(/\.js$/, '.ts'), base, `${base}.ts`, path.join(base, 'index.ts')];
  const hit = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  if (!hit) throw new Error(`${from}: cannot resolve import '${spec}' to a source file`);
  return path.relative(ROOT, hit).split(path.sep).join('/');
}

/** The imports and re-exports of one file. */
export function importsOf(file: string): ImportEdge[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const edges: ImportEdge[] = [];
  const add = (spec: string, node: ts.Node, runtime: boolean, dynamic: boolean) => {
    const to = spec.startsWith('.') ? resolveRelative(file, spec) : packageName(spec);
    edges.push({ from: file, to, line: sf.getLineAndCharacterOfPosition(node.getStart()).line + 1, runtime, dynamic });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node, !isTypeOnlyImport(node.importClause), false);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node, !isTypeOnlyExport(node), false);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)
      && ts.isStringLiteral(node.moduleReference.expression)) {
      add(node.moduleReference.expression.text, node, !node.isTypeOnly, false);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      // A literal dynamic import still loads its module when that line runs; a computed one cannot be followed.
      const arg = node.arguments[0];
      if (arg && ts.isStringLiteralLike(arg)) add(arg.text, node, true, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return edges;
}

/** `import type ...`, or `import { type A, type B }` with no default or namespace binding (a bare `import 'x'` runs x). */
function isTypeOnlyImport(clause: ts.ImportClause | undefined): boolean {
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  if (clause.name || !clause.namedBindings || !ts.isNamedImports(clause.namedBindings)) return false;
  const elements = clause.namedBindings.elements;
  return elements.length > 0 && elements.every((e) => e.isTypeOnly);
}

function isTypeOnlyExport(node: ts.ExportDeclaration): boolean {
  if (node.isTypeOnly) return true;
  const clause = node.exportClause;
  return clause !== undefined && ts.isNamedExports(clause) && clause.elements.length > 0 && clause.elements.every((e) => e.isTypeOnly);
}

export class ImportGraph {
  readonly edges: ImportEdge[];
  private readonly byFile = new Map<string, ImportEdge[]>();

  constructor(files: string[]) {
    this.edges = files.flatMap(importsOf);
    for (const e of this.edges) this.byFile.set(e.from, [...(this.byFile.get(e.from) ?? []), e]);
  }

  /** Run-time edges out of `file`, read on demand so closures can leave the scanned directories. */
  runtimeImports(file: string): ImportEdge[] {
    if (!this.byFile.has(file)) this.byFile.set(file, file.endsWith('.ts') ? importsOf(file) : []);
    return this.byFile.get(file)!.filter((e) => e.runtime);
  }

  /**
   * Everything `entry` loads at run time, transitively, each with the chain of imports that reaches it
   * (so a failing rule can say which line to change).
   */
  runtimeClosure(entry: string): Map<string, ImportEdge[]> {
    const chains = new Map<string, ImportEdge[]>([[entry, []]]);
    const queue = [entry];
    while (queue.length) {
      const file = queue.shift()!;
      for (const e of this.runtimeImports(file)) {
        if (chains.has(e.to)) continue;
        chains.set(e.to, [...chains.get(file)!, e]);
        if (e.to.endsWith('.ts')) queue.push(e.to);
      }
    }
    return chains;
  }
}

/** `a.ts:3 -> b.ts:7 -> @tensorflow/tfjs`, for messages. */
export function describeChain(chain: ImportEdge[]): string {
  return chain.map((e) => `${e.from}:${e.line}${e.dynamic ? ' (dynamic import)' : ''}`).concat(chain.length ? [chain[chain.length - 1]!.to] : []).join(' -> ');
}

export function describeEdge(e: ImportEdge): string {
  return `${e.from}:${e.line} imports ${e.to}${e.dynamic ? ' (dynamic import)' : ''}${e.runtime ? '' : ' (type-only)'}`;
}
