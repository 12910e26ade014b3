/**
 * What the README snippet tests share: reading the ```ts block between `<!-- NAME:start -->` and
 * `<!-- NAME:end -->`, and type-checking a copy of it with strict settings, a package name mapped to a source file.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

export const ROOT = join(__dirname, '..', '..', '..');

/** The ```ts block between the README's `NAME:start` and `NAME:end` markers. */
export function readmeSnippet(name: string): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const match = new RegExp(`<!-- ${name}:start -->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${name}:end -->`).exec(readme);
  if (!match) throw new Error(`README.md has no \`\`\`ts block between the ${name} markers`);
  return match[1];
}

export interface StrictCheck {
  /** How many top-level statements the checked file has (proves the snippet was really read). */
  readonly statements: number;
  readonly diagnostics: string[];
}

/**
 * Type-checks `file` strictly (noEmit, CommonJS, Node10 resolution) with `paths` mapping package names to
 * repository sources; `extra` adds options (e.g. noUnusedParameters).
 */
export function strictTypeCheck(file: string, paths: ts.MapLike<string[]>, extra: ts.CompilerOptions = {}): StrictCheck {
  const options: ts.CompilerOptions = {
    strict: true,
    noUnusedLocals: true,
    noImplicitReturns: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(ROOT, 'node_modules', '@types')],
    baseUrl: ROOT,
    paths,
    ...extra,
  };
  const program = ts.createProgram([file], options);
  return {
    statements: program.getSourceFile(file)?.statements.length ?? 0,
    diagnostics: ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
  };
}
