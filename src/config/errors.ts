/** Configuration errors that name the field, the problem, where the value came from and the fix. */
import { fieldSpec } from './fields.js';

export interface ConfigIssue {
  path: string;
  problem: string;
  fix: string;
  origin?: string;
}

export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];
  constructor(issues: readonly ConfigIssue[]) {
    super(
      `Invalid configuration:\n${issues
        .map((i) => `  ${i.path}${i.origin ? ` (from ${i.origin})` : ''}: ${i.problem}. Fix: ${i.fix}.`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
    this.issues = issues;
  }
}


interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
  expected?: string;
}

export function describeIssue(
  issue: ZodIssueLike,
  valueAt: (path: string) => unknown,
  origins: Record<string, string>,
  configPath: string,
): ConfigIssue {
  const base = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys' && issue.keys) {
    const path = issue.keys.map((k) => (base ? `${base}.${k}` : k)).join(', ');
    return {
      path,
      problem: 'is not a known setting',
      fix: `remove it from ${configPath} or correct the spelling (settings are listed in docs/configuration.md)`,
      origin: `file ${configPath}`,
    };
  }
  const value = valueAt(base);
  const shown = value === undefined ? 'missing' : JSON.stringify(value);
  const origin = originFor(base, origins);
  const spec = fieldSpec(base);
  let problem: string;
  if (issue.code === 'invalid_type') {
    problem = value === undefined ? `is missing (expected ${issue.expected ?? 'a value'})` : `${shown} is not ${article(issue.expected)}`;
  } else if (issue.code === 'too_small' || issue.code === 'too_big') {
    problem = `${shown} is out of range (${issue.message.replace(/^Too (small|big): /, '')})`;
  } else if (issue.code === 'invalid_value') {
    problem = `${shown} is not allowed (${issue.message.replace(/^Invalid option: /, '')})`;
  } else {
    problem = `${shown} ${issue.message.replace(/^Invalid input: /, '')}`;
  }
  const expectation = spec ? spec.expect : fixFor(base);
  return { path: base || '(root)', problem, fix: fixText(origin, expectation), ...(origin ? { origin } : {}) };
}

export function fixText(origin: string | undefined, expectation: string): string {
  if (!origin) return `use ${expectation}`;
  if (origin.startsWith('env ')) return `set the environment variable ${origin.slice(4)} to ${expectation}, or unset it`;
  if (origin.startsWith('flag ')) return `pass ${origin.slice(5)} ${expectation}`;
  if (origin.startsWith('file ')) return `in ${origin.slice(5)}, use ${expectation}`;
  return `use ${expectation}`;
}

function article(expected: string | undefined): string {
  if (!expected) return 'valid';
  if (expected === 'record' || expected === 'object') return 'an object';
  if (expected === 'array' || expected === 'int') return `an ${expected === 'int' ? 'integer' : expected}`;
  return `a ${expected}`;
}

function fixFor(path: string): string {
  if (path === 'thresholds.default' || (path.startsWith('thresholds.perTool.') && path.split('.').length === 3)) {
    return 'milliseconds with fastMs < slowMs < verySlowMs';
  }
  if (path.startsWith('redaction.extraPatterns')) return 'a valid JavaScript regular expression that matches some text';
  if (path.startsWith('export.otlpHeaders') || path.startsWith('export.resourceAttributes')) return 'string values';
  return 'a valid value (see docs/configuration.md)';
}

function originFor(path: string, origins: Record<string, string>): string | undefined {
  let p = path;
  while (p) {
    if (origins[p] && origins[p] !== 'default' && !origins[p]?.startsWith('profile')) return origins[p];
    const cut = p.lastIndexOf('.');
    if (cut < 0) break;
    p = p.slice(0, cut);
  }
  // An issue on a parent object (e.g. fastMs < slowMs) comes from whichever child was set by the user.
  const child = Object.keys(origins).find(
    (k) => k.startsWith(`${path}.`) && origins[k] !== 'default' && !origins[k]?.startsWith('profile'),
  );
  return child ? origins[child] : undefined;
}
