/**
 * Compaction: PreCompact opens a `claude_code.compaction` span, PostCompact closes it. Its events
 * carry a prompt_id of their own (not the turn's): it belongs to the run (segment or root), or to
 * the turn of its prompt_id when one is open (auto-compaction inside a turn).
 */
import { CC } from '../attributes.js';
import { closeCompaction } from '../closing.js';
import type { Handler } from '../emitter.js';
import { spanKeys } from '../ids.js';
import { openSpan } from '../open-span.js';
import { contextParent } from '../owners.js';
import type { PostCompactEvent, PreCompactEvent } from '../types.js';

export const preCompact: Handler<PreCompactEvent> = ({ s }, ev) => {
  if (s.compaction) return;
  const parent = (ev.promptId ? s.turns.get(ev.promptId)?.spanId : undefined) ?? contextParent(s);
  s.compaction = openSpan(s, 'compaction', spanKeys.compaction(ev.timeMs), 'claude_code.compaction', ev.timeMs, parent, {
    [CC.compactionTrigger]: ev.source ?? 'unknown',
  });
};

export const postCompact: Handler<PostCompactEvent> = (ctx, ev) => {
  const { s } = ctx;
  if (!s.compaction) {
    s.compaction = openSpan(s, 'compaction', spanKeys.compaction(ev.timeMs), 'claude_code.compaction', ev.timeMs, contextParent(s), { [CC.gap]: 'missing_start' });
  }
  closeCompaction(ctx, ev.timeMs, {});
};

export const compactionHandlers = { PreCompact: preCompact, PostCompact: postCompact };
