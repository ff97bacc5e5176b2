/**
 * Records test/golden/model-calls.spans.json: the local store's spans of the recorded 2.1.332
 * session with transcripts (test/fixtures/claude-code-2.1.332/transcripts), replayed through the
 * real agent with no collector (test/support/transcript-replay.ts). The waterfall golden renders it.
 * Run: npx vite-node scripts/record-model-call-store.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listSessions, readSessionFile } from '../src/store/session-reader.js';
import { replayTranscriptSession } from '../test/support/transcript-replay.js';

const r = await replayTranscriptSession();
const store = join(r.agentHome, 'store');
const [summary] = await listSessions(store);
if (!summary || summary.sessionId !== r.sessionId) throw new Error(`the store does not hold session ${r.sessionId}`);
const file = (await readSessionFile(store, summary.fileKey))!;
const out = join(import.meta.dirname, '..', 'test', 'golden', 'model-calls.spans.json');
writeFileSync(out, `${JSON.stringify(file.spans, null, 2)}\n`);
console.log(`${file.spans.length} spans (${file.spans.filter((s) => s.attributes['claude_code.span.kind'] === 'model_call').length} model calls) → ${out}`);
process.exit(0);
