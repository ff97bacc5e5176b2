/** The sessions list: running sessions first, live; search by session id, prompt id or tool_use_id. */
import { useEffect, useState } from 'preact/hooks';
import type { Feed } from './feed.js';
import { formatDuration, formatStart, projectName, shortId } from './format.js';
import { useTicker } from './hooks.js';
import { VirtualList } from './virtual-list.js';

export function SessionsPage({ feed }: { feed: Feed }) {
  const [query, setQuery] = useState('');
  const [matches, setMatches] = useState<Set<string> | undefined>(undefined);
  const [selected, setSelected] = useState(0);
  const rows = feed.state.rows;
  const now = useTicker(rows.some((r) => r.running), 1000);
  useEffect(() => {
    if (!query.trim()) return setMatches(undefined);
    let stale = false;
    const t = setTimeout(() => void feed.search(query).then((m) => !stale && setMatches(m)), 150);
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [query, feed, feed.state.version]);
  const shown = matches ? rows.filter((r) => matches.has(r.sessionId)) : rows;
  const open = (i: number) => {
    const r = shown[i];
    if (r) location.hash = `#/s/${encodeURIComponent(r.sessionId)}`;
  };
  return (
    <section class="page sessions">
      <div class="toolbar">
        <input type="search" placeholder="Search: session id, prompt id or tool_use_id" value={query} aria-label="search sessions" data-testid="search" onInput={(e) => setQuery((e.currentTarget as HTMLInputElement).value)} />
        <span class="count">{shown.length} sessions</span>
      </div>
      <div class="thead srow">
        <span>session</span><span>state</span><span>project</span><span>started</span><span class="num">duration</span><span class="num">turns</span><span class="num">tools</span><span class="num">errors</span>
      </div>
      {shown.length === 0 ? (
        <p class="empty">{rows.length === 0 ? (feed.state.source === 'team' ? "No sessions in the team's PostgreSQL yet: point the collector at the sink." : 'No sessions in the local store yet: run Claude Code with the bridge installed.') : 'No session matches.'}</p>
      ) : (
        <VirtualList
          count={shown.length}
          rowHeight={34}
          selected={Math.min(selected, shown.length - 1)}
          onSelect={setSelected}
          onEnter={open}
          label="sessions"
          testId="sessions"
          renderRow={(i) => {
            const r = shown[i]!;
            const duration = r.running && r.start ? now - Date.parse(r.start) : (r.durationMs ?? 0);
            return (
              <a class="srow" href={`#/s/${encodeURIComponent(r.sessionId)}`} data-session-id={r.sessionId} data-state={r.running ? 'running' : r.open ? 'open' : 'ended'} tabIndex={-1}>
                <span class="mono" title={r.sessionId}>{shortId(r.sessionId)}</span>
                <span class={`state ${r.running ? 'running' : r.open ? 'open' : 'ended'}`}>{r.running ? `running · ${r.openSpans} open` : r.open ? 'open' : 'ended'}</span>
                <span title={r.cwd}>{projectName(r.cwd)}</span>
                <span>{formatStart(r.start)}</span>
                <span class="num">{formatDuration(duration)}</span>
                <span class="num">{r.turns ?? 0}</span>
                <span class="num">{r.tools ?? 0}</span>
                <span class={`num${(r.errors ?? 0) > 0 ? ' bad' : ''}`}>{r.errors ?? 0}</span>
              </a>
            );
          }}
        />
      )}
    </section>
  );
}
