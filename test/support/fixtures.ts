/** Real payloads captured from Claude Code (recorded with the real CLI; kept in the repository so a fresh clone runs the model tests). */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURE_DIR = join(here, '../fixtures/claude-code-2.1.328/hooks');

export function fixtureNames(): string[] {
  return readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.json'));
}

export function fixture(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const file = name.endsWith('.json') ? name : `${name}.json`;
  return { ...(JSON.parse(readFileSync(join(FIXTURE_DIR, file), 'utf8')) as Record<string, unknown>), ...overrides };
}
