/**
 * The transcript stage alone: CPU time of the agent's model-call component (src/agent/model-calls.ts
 * `observe`, plus the two per-event health metrics) per hook event, in one process, with the
 * agent's real telemetry meters (OTLP metrics configured, as in agent-load). Sessions as in
 * agent-load --transcripts: the transcript rows Claude Code 2.1.332 writes (./transcript.ts) are
 * appended before each event, outside the timed part, so only the agent's reading, parsing,
 * assembling, pricing and metric recording are timed; chat spans go to a sink that only counts.
 *
 * For an A/B of two commits, run it in a worktree of each, interleaved (the figure is noisy, the
 * ratio of medians is not):
 *   node .tmp/build/bench/agent-load/transcript-stage.js [--sessions 3000]
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createAgentMetrics } from '../../src/agent/metrics.js';
import { createModelCalls } from '../../src/agent/model-calls.js';
import { startTelemetry } from '../../src/agent/telemetry.js';
import type { BridgeEvent } from '../../src/model/types.js';
import { repoRoot } from '../hook-cost/common.js';
import { loadTemplates, PROJECT_DIR, SessionTranscript, TRANSCRIPT_FIXTURE, transcriptPath, transcriptSteps } from './transcript.js';

const { values: args } = parseArgs({ options: { sessions: { type: 'string', default: '3000' }, tools: { type: 'string', default: '6' } } });
const SESSIONS = Number(args.sessions);
const TOOLS = Number(args.tools);

async function main() {
  // a receiver that answers 200: the OTLP metrics reader is configured (as in the agent) but never pushes during the run
  const server = createServer((req, res) => req.resume().on('end', () => res.end('{}'))).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const root = mkdtempSync(join(tmpdir(), 'transcript-stage-'));
  const configDir = join(root, 'claude');
  const projectDir = join(configDir, 'projects', PROJECT_DIR);
  mkdirSync(projectDir, { recursive: true, mode: 0o700 });
  mkdirSync(join(root, 'home'), { mode: 0o700 });
  const telemetry = startTelemetry({
    serviceName: 'claude-code', resourceAttributes: {},
    otlp: { traces: { url: `${url}/v1/traces` }, logs: { url: `${url}/v1/logs` }, metrics: { url: `${url}/v1/metrics` } }, metricsExportIntervalMs: 3_600_000,
    localStore: new InMemorySpanExporter(), keepLocalCopy: false, flushDelayMs: 3_600_000, maxExportBatchSize: 512, maxQueueSize: 1 << 20,
    initialWatermark: 0, bufferMaxBytes: 1 << 28, retryMaxBackoffMs: 1000, hooks: { onExported() {}, onFailed() {}, onDropped() {} },
  });
  const health = createAgentMetrics(telemetry.meter, { openSpans: () => 0, openSessions: () => 0, spoolBacklog: () => 0, exportPending: () => 0, journalBytes: () => 0, quarantineEntries: () => 0, exportBufferBytes: () => 0 });
  let chatSpans = 0;
  const modelCalls = createModelCalls({
    home: join(root, 'home'), enabled: true, transcriptRoots: [], prices: {}, sink: { emitSpan: () => void chatSpans++ },
    meter: telemetry.modelCallMeter, healthMeter: telemetry.meter, watermark: () => 0, log: () => {}, env: { CLAUDE_CONFIG_DIR: configDir },
  });
  const templates = loadTemplates(join(repoRoot(), TRANSCRIPT_FIXTURE));

  let seq = 0;
  let busyMs = 0;
  let events = 0;
  const send = (name: string, sessionId: string, path: string, extra: Record<string, unknown> = {}) => {
    const event = { seq: ++seq, timeMs: Date.now(), name, known: true, sessionId, transcriptPath: path, cwd: '/home/dev/project', via: 'http', ...extra } as unknown as BridgeEvent;
    const t0 = performance.now();
    modelCalls.observe(event);
    health.countEvent(name, 'http');
    health.handling.record(0.1, { transport: 'http' });
    busyMs += performance.now() - t0;
    events++;
  };
  for (let s = 0; s < SESSIONS; s++) {
    const sid = randomUUID();
    const path = transcriptPath(projectDir, sid);
    const w = new SessionTranscript(templates, path, sid, randomUUID());
    for (const step of transcriptSteps(w, TOOLS, (i) => `toolu_stage_${sid.slice(0, 8)}_${i}`)) {
      send(step.name, sid, path, step.name === 'SessionEnd' ? { reason: 'other' } : step.toolUseId ? { toolUseId: step.toolUseId, toolName: 'Read' } : {});
    }
  }
  modelCalls.shutdown();
  await telemetry.shutdown().catch(() => {});
  server.close();
  rmSync(root, { recursive: true, force: true });
  const expected = SESSIONS * (TOOLS + 1);
  process.stdout.write(`${JSON.stringify({ sessions: SESSIONS, events, chatSpans, expectedChatSpans: expected, usPerEvent: Math.round((busyMs * 1000 * 100) / events) / 100 })}\n`);
  if (chatSpans !== expected) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`transcript-stage failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
