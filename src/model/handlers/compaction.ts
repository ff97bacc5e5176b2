/** Compaction: PreCompact opens a `claude_code.compaction` span, PostCompact closes it. */
import { CC } from '../attributes.js';
import { closeCompaction } from '../closing.js';
import type { Handler } from '../emitter.js';
import { spanKeys } from '../ids.js';
import { openSpan } from '../open-span.js';
import { contextParent, turnOrRoot } from '../owners.js';
import type { PostCompactEvent, PreCompactEvent } from '../types.js';

export const preCompact: Handler<PreCompactEvent> = ({ s }, ev) => {
  if (s.compaction) return;
  const parent = turnOrRoot(s, ev);
  s.compaction = openSpan(s, 'compaction', spanKeys.compaction(++s.compactions), 'claude_code.compaction', ev.timeMs, parent?.spanId ?? s.rootSpanId, {
    [CC.compactionTrigger]: ev.source ?? 'unknown',
  });
};

export const postCompact: Handler<PostCompactEvent> = (ctx, ev) => {
  const { s } = ctx;
  if (!s.compaction) {
    s.compaction = openSpan(s, 'compaction', spanKeys.compaction(++s.compactions), 'claude_code.compaction', ev.timeMs, contextParent(s), { [CC.gap]: 'missing_start' });
  }
  closeCompaction(ctx, ev.timeMs, {});
};

export const compactionHandlers = { PreCompact: preCompact, PostCompact: postCompact };
