import { readFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { buildSync } from 'esbuild';
import ts from 'typescript';
import { CODE_FILE_HELPER } from './code-file';

/** The repo files a module needs at run time, and the third-party packages it imports. */
export interface ModuleClosure {
  /** Repo-relative paths, sorted: modules and the non-code files they load through `codeFile`. */
  files: string[];
  /** Package names (`sentiment`, `@duckdb/node-api`), sorted. */
  packages: string[];
}

/**
 * The transitive closure of `entries` (repo-relative), resolved by esbuild's bundler exactly as
 * the code is resolved at run time; third-party packages stay external and are recorded by name.
 * A `codeFile(__dirname, 'x.ts')` is a module loaded by path (a worker thread): its own closure joins.
 */
export function moduleClosure(repoRoot: string, entries: readonly string[]): ModuleClosure {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [...entries];
  const bundled = new Set<string>();
  while (pending.length > 0) {
    const entry = pending.pop()!;
    if (bundled.has(entry)) continue;
    bundled.add(entry);
    const result = buildSync({
      entryPoints: [path.join(repoRoot, entry)],
      absWorkingDir: repoRoot,
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'cjs',
      packages: 'external',
      logLevel: 'silent',
    });
    for (const [input, meta] of Object.entries(result.metafile.inputs)) {
      const rel = input.split(path.sep).join('/');
      files.add(rel);
      for (const imported of meta.imports) if (imported.external && isPackage(imported.path)) packages.add(packageName(imported.path));
      if (/\.[cm]?tsx?$/.test(rel)) {
        for (const asset of codeFilesOf(repoRoot, rel)) {
          files.add(asset);
          if (/\.[cm]?tsx?$/.test(asset)) pending.push(asset);
        }
      }
    }
  }
  return { files: [...files].sort(), packages: [...packages].sort() };
}

/**
 * A third-party package, as opposed to a Node builtin or a relative import that esbuild left
 * unresolved because TypeScript erases it (an import used only for types): not run, not code.
 */
function isPackage(specifier: string): boolean {
  return !isBuiltin(specifier) && !specifier.startsWith('.') && !path.isAbsolute(specifier);
}

/** `@scope/name/sub/path` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** The files a module names in `codeFile(__dirname, '…')` calls, found in its syntax tree. */
function codeFilesOf(repoRoot: string, rel: string): string[] {
  const text = readFileSync(path.join(repoRoot, rel), 'utf8');
  if (!text.includes(CODE_FILE_HELPER)) return [];
  const source = ts.createSourceFile(rel, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === CODE_FILE_HELPER) {
      const [dir, name] = node.arguments;
      if (node.arguments.length !== 2 || !dir || !ts.isIdentifier(dir) || dir.text !== '__dirname' || !name || !ts.isStringLiteral(name)) {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart());
        throw new Error(`${rel}:${line + 1}: ${CODE_FILE_HELPER}() takes __dirname and a string literal, so that the code version can see the file it loads`);
      }
      found.push(path.posix.join(path.posix.dirname(rel), name.text));
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}
