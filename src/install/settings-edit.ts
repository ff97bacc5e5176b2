/**
 * Pure edits of a parsed Claude Code settings object: add or remove our hook entries and our
 * env key, leaving every other hook, matcher group and setting as it was.
 */
import { isOurHook, type HookEntries } from './hook-entries.js';

export type Settings = Record<string, unknown>;

export class InstallError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InstallError';
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Checks the parts of the settings we touch have the shape Claude Code expects; throws otherwise. */
export function assertEditable(settings: unknown, file: string): asserts settings is Settings {
  if (!isObject(settings)) throw new InstallError(`${file} must hold a JSON object; nothing was changed`);
  if (settings.hooks !== undefined) {
    if (!isObject(settings.hooks)) throw new InstallError(`"hooks" in ${file} is not an object; fix it by hand, nothing was changed`);
    for (const [event, groups] of Object.entries(settings.hooks)) {
      if (!Array.isArray(groups)) {
        throw new InstallError(`"hooks.${event}" in ${file} is not an array; fix it by hand, nothing was changed`);
      }
    }
  }
  if (settings.env !== undefined && !isObject(settings.env)) {
    throw new InstallError(`"env" in ${file} is not an object; fix it by hand, nothing was changed`);
  }
}

/**
 * Removes our hooks; drops matcher groups, event arrays and `hooks` only when our removal emptied them.
 * `positions`: per event, where our first hook was (an index into the kept groups), so a new
 * version's hooks can go back to the same place.
 */
export function removeOurHooks(settings: Settings, port?: number): { settings: Settings; removed: number; positions: Map<string, number> } {
  const out = clone(settings);
  const positions = new Map<string, number>();
  if (!isObject(out.hooks)) return { settings: out, removed: 0, positions };
  let removed = 0;
  const hooks = out.hooks;
  for (const [event, groups] of Object.entries(hooks)) {
    if (!Array.isArray(groups)) continue;
    const kept: unknown[] = [];
    for (const group of groups) {
      if (!isObject(group) || !Array.isArray(group.hooks)) {
        kept.push(group);
        continue;
      }
      const others = group.hooks.filter((h) => !isOurHook(h, port));
      const ours = group.hooks.length - others.length;
      removed += ours;
      if (ours === 0) kept.push(group);
      else if (others.length > 0) kept.push({ ...group, hooks: others });
      // Ours go where the group was (after it when the user's hooks in it stay).
      if (ours > 0 && !positions.has(event)) positions.set(event, kept.length);
    }
    if (kept.length === 0 && groups.length > 0) delete hooks[event];
    else hooks[event] = kept;
  }
  if (Object.keys(hooks).length === 0 && removed > 0) delete out.hooks;
  return { settings: out, removed, positions };
}

/**
 * Replaces any hooks of ours with `entries`: in place where an earlier install (any version, path or
 * port) left ours, else appended after the user's own matcher groups. Events we no longer subscribe
 * lose ours; every other hook and group stays where it was.
 */
export function addOurHooks(settings: Settings, entries: HookEntries, port?: number): Settings {
  const { settings: out, positions } = removeOurHooks(settings, port);
  const remaining: Record<string, unknown> = isObject(out.hooks) ? out.hooks : {};
  const before = isObject(settings.hooks) ? Object.keys(settings.hooks) : [];
  const merged: Record<string, unknown> = {};
  // Events keep their order in the file (an event that held only ours is not moved to the end).
  for (const event of new Set([...before, ...Object.keys(remaining), ...Object.keys(entries)])) {
    const ours = entries[event as keyof HookEntries];
    if (!ours) {
      if (event in remaining) merged[event] = remaining[event];
      continue;
    }
    const existing = Array.isArray(remaining[event]) ? (remaining[event] as unknown[]) : [];
    const at = positions.get(event) ?? existing.length;
    merged[event] = [...existing.slice(0, at), ...clone(ours), ...existing.slice(at)];
  }
  // And `hooks` keeps its place among the settings.
  const result: Settings = {};
  for (const key of new Set([...Object.keys(settings), ...Object.keys(out), 'hooks'])) {
    if (key === 'hooks') result.hooks = merged;
    else if (key in out) result[key] = out[key];
  }
  return result;
}

export function setEnvValue(settings: Settings, key: string, value: string): Settings {
  const out = clone(settings);
  out.env = { ...(isObject(out.env) ? out.env : {}), [key]: value };
  return out;
}

/** Removes `env[key]`; drops `env` when that removal emptied it. */
export function removeEnvValue(settings: Settings, key: string): Settings {
  const out = clone(settings);
  if (!isObject(out.env) || !(key in out.env)) return out;
  const { [key]: _removed, ...rest } = out.env;
  if (Object.keys(rest).length === 0) delete out.env;
  else out.env = rest;
  return out;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}
