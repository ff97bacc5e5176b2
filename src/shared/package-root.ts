/**
 * The root of this package's files (bin/, migrations/, dist/ui, package.json), found from the
 * running module instead of a fixed number of `..`: the same code runs from src/ (tests), from
 * dist/ (tsc) and from the esbuild bundle in plugin/claude-otel/dist/ (with its chunks one level
 * deeper), and each layout has a package.json named claude-otel-bridge at its root.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PACKAGE_NAME = 'claude-otel-bridge';

let cached: { root: string; version: string } | undefined;

function find(from: string): { root: string; version: string } {
  for (let dir = dirname(fileURLToPath(from)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === PACKAGE_NAME) return { root: dir, version: typeof pkg.version === 'string' ? pkg.version : 'dev' };
    } catch {
      /* no package.json here (or not JSON): keep going up */
    }
    if (dirname(dir) === dir) throw new Error(`no package.json named ${PACKAGE_NAME} above ${fileURLToPath(from)}`);
  }
}

function located(): { root: string; version: string } {
  cached ??= find(import.meta.url);
  return cached;
}

/** The package root directory (holds package.json, bin/, migrations/, dist/). */
export function packageRoot(): string {
  return located().root;
}

/** The version in that package.json. */
export function packageVersion(): string {
  try {
    return located().version;
  } catch {
    return 'dev';
  }
}

/** A path inside the package root. */
export function packagePath(...parts: string[]): string {
  return join(packageRoot(), ...parts);
}
