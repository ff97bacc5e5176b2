/**
 * Real payloads captured from Claude Code (recorded with the real CLI; kept in the repository so a
 * fresh clone runs the model tests), one folder per recorded version.
 *
 * `fixture(name)` reads the current version's recording (CURRENT_VERSION). A payload that version
 * did not record is named with its version: `fixture('2.1.328/Notification')` (2.1.332 recorded no
 * Notification in `-p` mode); never found by falling back to another version. The tests that should
 * hold for every real payload (parsing, capture off, fuzzing) take `recordedPayloads()`: every
 * version's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** The versions recorded in test/fixtures/claude-code-<version>/hooks, oldest first. */
export const RECORDED_VERSIONS = ['2.1.328', '2.1.332'] as const;
export type RecordedVersion = (typeof RECORDED_VERSIONS)[number];
/** The Claude Code release the bridge is built against (package.json devDependency). */
export const CURRENT_VERSION: RecordedVersion = '2.1.332';

export const fixtureDir = (version: RecordedVersion = CURRENT_VERSION): string => join(here, `../fixtures/claude-code-${version}/hooks`);

export interface RecordedPayload {
  version: RecordedVersion;
  /** `<version>/<file>`: what `fixture()` takes. */
  name: string;
  /** The file name: `PostToolUse.Agent.json`. */
  file: string;
  path: string;
}

/** Every recorded payload of `version`, or of every version. */
export function recordedPayloads(version?: RecordedVersion): RecordedPayload[] {
  return (version ? [version] : RECORDED_VERSIONS).flatMap((v) =>
    readdirSync(fixtureDir(v))
      .filter((file) => file.endsWith('.json'))
      .sort()
      .map((file) => ({ version: v, name: `${v}/${file}`, file, path: join(fixtureDir(v), file) })),
  );
}

/** `PostToolUse` or `PostToolUse.json` (the current version), `2.1.328/Notification` (that version). */
function pathOf(name: string): string {
  const file = name.endsWith('.json') ? name : `${name}.json`;
  const slash = file.indexOf('/');
  if (slash < 0) return join(fixtureDir(), file);
  const version = file.slice(0, slash) as RecordedVersion;
  if (!RECORDED_VERSIONS.includes(version)) throw new Error(`no recording of Claude Code ${version} (have ${RECORDED_VERSIONS.join(', ')})`);
  return join(fixtureDir(version), file.slice(slash + 1));
}

export function fixture(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...(JSON.parse(readFileSync(pathOf(name), 'utf8')) as Record<string, unknown>), ...overrides };
}
