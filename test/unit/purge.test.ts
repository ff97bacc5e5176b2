import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { homeLayout, homePaths } from '../../src/agent/paths.js';
import { planPurge, stateNames } from '../../src/install/purge.js';
import { temporaryName, writeFileAtomic } from '../../src/shared/home.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function home(): string {
  const root = mkdtempSync(join(tmpdir(), 'purge-'));
  roots.push(root);
  const h = join(root, '.claude-otel');
  mkdirSync(h, { mode: 0o700 });
  return h;
}

describe('planPurge', () => {
  it('removes every entry of the home layout, and the temp files of our atomic writes, and keeps the rest', () => {
    const h = home();
    const layout = homeLayout(homePaths(h));
    for (const d of layout.dirs) mkdirSync(d, { recursive: true, mode: 0o700 });
    for (const f of layout.files) writeFileSync(f, 'x', { mode: 0o600 });
    const p = homePaths(h);
    // what a crash in the middle of an atomic write leaves, for files of the layout
    const leftovers = [temporaryName(p.modelCalls), temporaryName(p.token), `${p.agentInfo}.tmp-123-ab`];
    for (const t of leftovers) writeFileSync(t, 'partial');
    writeFileSync(p.configFile, '{}');
    writeFileSync(join(h, 'my-notes.txt'), 'mine');
    writeFileSync(join(h, '.my-notes.txt.backup.tmp'), 'mine too'); // a temp-like name of nothing of ours

    const plan = planPurge(h);
    const top = [...layout.dirs, ...layout.files].filter((f) => dirname(f) === h);
    expect(new Set(plan.remove)).toEqual(new Set([...top, ...leftovers]));
    expect(plan.keep.sort()).toEqual([join(h, '.my-notes.txt.backup.tmp'), p.configFile, join(h, 'my-notes.txt')].sort());
  });

  it('knows the files the agent, the model-call component and the web view write', () => {
    const names = stateNames(home());
    for (const n of ['token', 'journal.jsonl', 'spool', 'store', 'quarantine', 'model-calls.json', 'ui-token', 'agent.log']) expect(names.has(n), n).toBe(true);
    expect(names.has('config.json')).toBe(false);
  });

  it('writeFileAtomic names its temporary after the file, so a crash leaves something purge recognises', () => {
    const h = home();
    const file = homePaths(h).uiToken;
    writeFileAtomic(file, 'secret\n');
    expect(planPurge(h).remove).toEqual([file]);
    expect(basename(temporaryName(file))).toMatch(/^\.ui-token\.[0-9a-f]+\.tmp$/);
  });
});
