// With content capture OFF (the default), nothing of a session's content may leave the agent on
// any path: span attributes, span status messages, span events, log records, metric labels, the
// files in CLAUDE_OTEL_HOME (local store, journal) and /v1/status.
//
// Every real payload of every recorded version (test/fixtures/claude-code-*/hooks/; a session each) is sent, plus the cases the
// reliability review found (finding 4) and their neighbours, with a unique canary in EVERY string
// field and a real-looking secret next to it. The only fields left as they are, are the ones the
// trace model records by design as identity (session, prompt, tool and agent ids, the tool name,
// the event name, cwd, permission mode) and model names: they are not content. Fields with a
// documented value set (SessionStart.source, SessionEnd.reason, StopFailure.error, …) are planted
// too: an agent may record such a field only as one of its documented values, never pass it through.
// Transcript paths are planted too and must not leave; the agent keeps them in its own journal (it
// reads the transcript from there after a restart), so that one file of the home may hold them.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CURRENT_VERSION, RECORDED_VERSIONS, fixture, recordedPayloads, type RecordedVersion } from '../support/fixtures.js';
import { removeHome, startTestAgent, waitFor, type TestAgent } from '../support/agent-harness.js';
import { startOtlpReceiver } from '../support/otlp-receiver.js';

const SID = 'cccccccc-0ff0-4000-8000-00000000c0ff';
/** One session per recorded version; the current version's carries the review cases too. */
const digits = (version: RecordedVersion) => version.replace(/\D/g, '');
const sessionOf = (version: RecordedVersion) => (version === CURRENT_VERSION ? SID : `cccccccc-0ff0-4000-8000-${digits(version).padStart(12, '0')}`);
const PROMPT = 'p-capture-off';

/** Top-level fields the trace model exports by design (ids and names), and ids inside tool payloads it links by. */
const IDENTITY = new Set([
  'session_id', 'hook_event_name', 'prompt_id', 'tool_use_id', 'tool_name', 'agent_id', 'agent_type', 'cwd', 'permission_mode',
  'model', 'from_model', 'to_model', 'requested_model',
]);
const IDENTITY_PATHS = new Set(['tool_response.agentId', 'tool_input.subagent_type', 'tool_calls.tool_use_id', 'tool_calls.tool_name']);
/** Top-level fields the agent keeps in its journal (never exports): where the transcript is. */
const JOURNALED = new Set(['transcript_path', 'agent_transcript_path']);

const hex = (n: number) => randomBytes(n).toString('hex').slice(0, n);
const alnum = (n: number) => Array.from(randomBytes(n), (b) => 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789'[b % 56]).join('');

interface Plant { canary: string; secret: string; needle: string; where: string; journaled: boolean }
const plants: Plant[] = [];

/** A canary and a real-looking secret (the needle is its random part, searched for verbatim). */
function plant(where: string, journaled = false): string {
  const n = plants.length;
  const canary = `CANARY${String(n).padStart(4, '0')}x${hex(8)}`;
  const kinds = [
    () => { const s = alnum(40); return { secret: `AWS_SECRET_ACCESS_KEY=${s}`, needle: s }; },
    () => { const s = alnum(36); return { secret: `ghp_${s}`, needle: s }; },
    () => { const s = `Summer${alnum(8)}!`; return { secret: `password: ${s}`, needle: s }; },
    () => { const s = hex(48); return { secret: `Authorization: Bearer ${s}`, needle: s }; },
  ];
  const { secret, needle } = kinds[n % kinds.length]!();
  plants.push({ canary, secret, needle, where, journaled });
  return `${canary} ${secret}`;
}

/** Replaces every string in a payload (except identity fields) with a canary and a secret. */
function plantEverywhere(value: unknown, where: string, path: string[] = []): unknown {
  if (typeof value === 'string') {
    const dotted = path.filter((p) => !/^\d+$/.test(p)).join('.');
    if ((path.length === 1 && IDENTITY.has(path[0]!)) || IDENTITY_PATHS.has(dotted)) return value;
    return plant(`${where}:${path.join('.')}`, path.length === 1 && JOURNALED.has(path[0]!));
  }
  if (Array.isArray(value)) return value.map((v, i) => plantEverywhere(v, where, [...path, String(i)]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plantEverywhere(v, where, [...path, k])]));
  }
  return value;
}

/** Every real fixture of a version, in an order that opens its session first and ends it last, each with its own tool id. */
function fixturePayloads(version: RecordedVersion): { name: string; body: Record<string, unknown> }[] {
  const files = recordedPayloads(version).map((p) => p.file);
  const order = (n: string) => (n.startsWith('SessionStart.json') ? 0 : n.startsWith('UserPromptSubmit.json') ? 1 : n.startsWith('SessionEnd') ? 3 : 2);
  return files
    .sort((a, b) => order(a) - order(b) || a.localeCompare(b))
    .map((file, i) => {
      const name = `${version}/${file}`;
      const raw = fixture(name, { session_id: sessionOf(version), prompt_id: PROMPT });
      const v = digits(version);
      if (typeof raw.tool_use_id === 'string') raw.tool_use_id = `toolu_fx${v}_${i}`;
      if (Array.isArray(raw.tool_calls)) raw.tool_calls = raw.tool_calls.map((c: Record<string, unknown>, j: number) => ({ ...c, tool_use_id: `toolu_fx${v}_${i}_${j}` }));
      return { name, body: plantEverywhere(raw, name) as Record<string, unknown> };
    });
}

/** The cases of finding 4 and their neighbours: text quoting tool output on the status/denial paths. */
function reviewPayloads(): { name: string; body: Record<string, unknown> }[] {
  const base = { session_id: SID, prompt_id: PROMPT, cwd: '/home/dev/project', transcript_path: plant('transcript_path', true) };
  const pre = (id: string) => ({ ...base, hook_event_name: 'PreToolUse', tool_name: 'Bash', tool_use_id: id, tool_input: { command: plant(`pre ${id}`), description: plant(`pre ${id} description`) } });
  return [
    { name: 'PreToolUse tb1', body: pre('toolu_tb1') },
    { name: 'PreToolUse tb2', body: pre('toolu_tb2') },
    {
      name: 'PostToolBatch quoting output (finding 4)',
      body: {
        ...base, hook_event_name: 'PostToolBatch',
        tool_calls: [
          { tool_use_id: 'toolu_tb1', tool_name: 'Bash', tool_input: { command: plant('batch input') }, tool_response: `${plant('batch response line 1')}\n${plant('batch response line 2')}` },
          { tool_use_id: 'toolu_tb2', tool_name: 'Bash', tool_response: `Permission to use Bash has been denied. ${plant('batch denied response')}` },
        ],
      },
    },
    { name: 'PreToolUse pd1', body: pre('toolu_pd1') },
    {
      name: 'PermissionDenied whose reason quotes output',
      body: { ...base, hook_event_name: 'PermissionDenied', tool_name: 'Bash', tool_use_id: 'toolu_pd1', tool_input: { command: plant('denied input') }, reason: `Denied: the command printed ${plant('denied reason')}` },
    },
    { name: 'PreToolUse tf1', body: pre('toolu_tf1') },
    {
      name: 'PostToolUseFailure whose error quotes output',
      body: {
        ...base, hook_event_name: 'PostToolUseFailure', tool_name: 'Bash', tool_use_id: 'toolu_tf1', tool_input: { command: plant('failure input') },
        error: `${plant('failure error line 1')}\n${plant('failure error line 2')}`, is_interrupt: false, duration_ms: 12,
      },
    },
    { name: 'PreToolUse tf2', body: { ...pre('toolu_tf2'), tool_name: 'Edit' } },
    {
      name: 'PostToolUseFailure of a non-Bash tool (no "Exit code" first line)',
      body: { ...base, hook_event_name: 'PostToolUseFailure', tool_name: 'Edit', tool_use_id: 'toolu_tf2', error: `<tool_use_error>String to replace not found in file. ${plant('edit error')}</tool_use_error>` },
    },
    {
      name: 'an unknown event with string fields',
      body: { ...base, hook_event_name: 'FutureCanaryEvent', summary: plant('unknown summary'), detail: plant('unknown detail'), count: 3, nested: { text: plant('unknown nested') } },
    },
    { name: 'StopFailure with an error text', body: { ...base, hook_event_name: 'StopFailure', error: plant('stop failure error'), last_assistant_message: plant('stop failure message') } },
  ];
}

function readTree(dir: string): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...readTree(p));
    else if (st.isFile()) out.push({ path: p, text: readFileSync(p, 'utf8') });
  }
  return out;
}

describe('content capture off: nothing of content leaves, on any path', () => {
  let agent: TestAgent;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  const surfaces = new Map<string, string>();
  let sent = 0;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    agent = await startTestAgent({
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        CLAUDE_OTEL_CAPTURE_PROMPTS: 'false', CLAUDE_OTEL_CAPTURE_TOOL_INPUTS: 'false', CLAUDE_OTEL_CAPTURE_TOOL_OUTPUTS: 'false',
      },
    });
    const all: { name: string; body: Record<string, unknown> }[] = [];
    for (const version of RECORDED_VERSIONS) {
      const payloads = fixturePayloads(version);
      if (version !== CURRENT_VERSION) {
        all.push(...payloads);
        continue;
      }
      const last = payloads.findIndex((p) => p.name.startsWith(`${version}/SessionEnd`));
      all.push(...payloads.slice(0, last), ...reviewPayloads(), ...payloads.slice(last));
    }
    for (const { name, body } of all) {
      const res = await agent.post(JSON.stringify(body));
      expect(res.status, name).toBe(200);
      sent++;
    }
    await waitFor(() => receiver.spans.filter((s) => s.name === 'invoke_agent claude-code').length === RECORDED_VERSIONS.length, 20_000, 'the session root spans');
    await waitFor(() => receiver.logs.length > 0, 10_000, 'log records');
    surfaces.set('/metrics', await agent.metrics());
    surfaces.set('/v1/status', await fetch(`${agent.url}/v1/status`, { headers: { authorization: `Bearer ${agent.token}` } }).then((r) => r.text()));
    await agent.stop();
    surfaces.set('exported spans', JSON.stringify(receiver.spans));
    surfaces.set('exported log records', JSON.stringify(receiver.logs));
    for (const f of readTree(agent.home)) surfaces.set(`file ${f.path.slice(agent.home.length + 1)}`, f.text);
  }, 120_000);

  afterAll(async () => {
    await receiver?.close();
    if (agent) removeHome(agent.home);
  });

  /** Planted values found on a surface, as "where the value was planted → what was found". */
  function leaksIn(surface: (name: string) => boolean): string[] {
    const found: string[] = [];
    for (const [name, text] of surfaces) {
      if (!surface(name)) continue;
      for (const p of plants) {
        if (p.journaled && name === 'file journal.jsonl') continue;
        if (text.includes(p.canary)) found.push(`${p.where} → canary in ${name}`);
        if (text.includes(p.needle)) found.push(`${p.where} → secret in ${name}`);
      }
    }
    return found;
  }

  it('sent every fixture and the review cases, with canaries in every content field, and exported the session', () => {
    for (const version of RECORDED_VERSIONS) expect(recordedPayloads(version).length, version).toBeGreaterThanOrEqual(30);
    expect(sent).toBeGreaterThanOrEqual(recordedPayloads().length + 10);
    expect(plants.filter((p) => p.journaled).length).toBeGreaterThan(20);
    expect(plants.length).toBeGreaterThan(100);
    // The pipeline really ran: tool spans with their ids, point events as log records, the local store.
    expect(receiver.spans.some((s) => s.attributes['gen_ai.tool.call.id'] === 'toolu_tb1')).toBe(true);
    expect(receiver.spans.some((s) => s.attributes['gen_ai.tool.call.id'] === 'toolu_tf1' && s.status.code === 2)).toBe(true);
    expect(receiver.logs.some((l) => l.eventName === 'claude_code.hook.FutureCanaryEvent')).toBe(true);
    expect([...surfaces.keys()].some((k) => k.startsWith('file store/'))).toBe(true);
    // And capture is off: no content attribute at all.
    for (const s of receiver.spans) {
      for (const key of ['claude_code.prompt', 'claude_code.tool.input', 'claude_code.tool.output']) expect(s.attributes[key], s.name).toBeUndefined();
    }
  });

  it('no canary or secret in exported span attributes, events or status messages', () => {
    expect(leaksIn((n) => n === 'exported spans')).toEqual([]);
  });

  it('no canary or secret in exported log records (bodies and attributes)', () => {
    expect(leaksIn((n) => n === 'exported log records')).toEqual([]);
  });

  it('no canary or secret in the metrics (labels included)', () => {
    expect(surfaces.get('/metrics')).toContain('claude_otel_events');
    expect(leaksIn((n) => n === '/metrics')).toEqual([]);
  });

  it('no canary or secret in /v1/status', () => {
    expect(surfaces.get('/v1/status')).toContain('"pid"');
    expect(leaksIn((n) => n === '/v1/status')).toEqual([]);
  });

  it('no canary or secret in the local store files', () => {
    expect(leaksIn((n) => n.startsWith('file store/'))).toEqual([]);
  });

  it('no canary or secret in any other file of the home (journal, watermark, agent.json)', () => {
    expect(leaksIn((n) => n.startsWith('file ') && !n.startsWith('file store/'))).toEqual([]);
  });
});
