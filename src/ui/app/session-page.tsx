/**
 * One session: a waterfall of turns, tools and subagents (each subagent in its own lane), errors,
 * denials and gap marks, running spans ticking; a details panel with the selected span's attributes
 * and events; a link to the trace in Jaeger when a Jaeger URL is configured.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { SessionRow } from '../source.js';
import type { Feed } from './feed.js';
import { formatDuration, formatStart, projectName } from './format.js';
import { useTicker } from './hooks.js';
import { VirtualList } from './virtual-list.js';
import { buildWaterfall, GAP_EXPLAINED, type WaterfallRow } from './waterfall-rows.js';

const GLYPH: Record<WaterfallRow['mark'], string> = { ok: '✓', error: '✗', denied: '⊘', interrupted: '■', gap: '…', running: '◷', closing: '◷', none: '' };

export function SessionPage({ feed, id }: { feed: Feed; id: string }) {
  const [row, setRow] = useState<SessionRow | undefined | null>(undefined);
  const [selected, setSelected] = useState(0);
  const [details, setDetails] = useState(false);
  useEffect(() => {
    setRow(undefined);
    void feed.loadSession(id).then((r) => setRow(r ?? null));
  }, [id, feed]);
  const sessionId = row?.sessionId ?? id;
  const live = feed.liveOf(sessionId);
  const running = (live?.spans.length ?? 0) > 0;
  const now = useTicker(running);
  const stored = feed.state.spans.get(sessionId);
  const traceId = row?.traceId ?? live?.traceId ?? '';
  const waterfall = useMemo(() => buildWaterfall([...(stored?.values() ?? [])], feed.unstoredOf(sessionId), traceId, now), [feed.state.version, now, sessionId, traceId]);
  const current = feed.state.rows.find((r) => r.sessionId === sessionId) ?? row ?? undefined;

  if (row === null && !live && !stored?.size) return <section class="page"><p class="empty">No session '{id}' in the {feed.state.source === 'team' ? "team's PostgreSQL" : 'store'}.</p></section>;
  const sel = waterfall.rows[Math.min(selected, waterfall.rows.length - 1)];
  const total = Math.max(waterfall.totalMs, 1);
  return (
    <section class="page session">
      <div class="summary">
        <h1 class="mono">{sessionId}</h1>
        <p>
          {running || (feed.state.source === 'team' && current?.running) ? <span class="state running">running</span> : <span class="state ended">{current?.open ? 'open' : 'ended'}</span>} · {projectName(current?.cwd)} · {formatStart(current?.start)} · {formatDuration(waterfall.totalMs)} · {current?.turns ?? 0} turns · {current?.tools ?? 0} tools · <span class={(current?.errors ?? 0) > 0 ? 'bad' : ''}>{current?.errors ?? 0} errors</span>
          {feed.state.jaegerUrl && traceId ? <> · <a href={`${feed.state.jaegerUrl.replace(/\/$/, '')}/trace/${traceId}`} target="_blank" rel="noreferrer" data-testid="jaeger">open in Jaeger</a></> : null}
        </p>
        <p class="legend">✓ ok · <span class="bad">✗ error</span> · <span class="denied">⊘ denied</span> · ■ interrupted · <span class="gap">… gap (an event the bridge did not get)</span> · <span class="running">◷ running</span> · ↑/↓ select, Enter details, Esc close</p>
      </div>
      <div class={`split${details ? ' with-details' : ''}`}>
        <div class="waterfall" onKeyDown={(e) => e.key === 'Escape' && setDetails(false)}>
          <div class="axis"><span /><span>0s</span><span>{formatDuration(waterfall.totalMs)}</span></div>
          <VirtualList
            count={waterfall.rows.length}
            rowHeight={26}
            selected={Math.min(selected, waterfall.rows.length - 1)}
            onSelect={setSelected}
            onEnter={(i) => {
              setSelected(i);
              setDetails(true);
            }}
            label="spans"
            testId="waterfall"
            renderRow={(i) => {
              const r = waterfall.rows[i]!;
              const left = (r.startMs / total) * 100;
              const width = Math.max(0.4, (r.durationMs / total) * 100);
              return (
                <div class={`wrow mark-${r.mark} lane-${r.lane % 6}`} data-span-id={r.key} data-name={r.name} data-depth={r.depth} data-mark={r.mark} data-lane={r.lane}>
                  <span class="label" style={{ paddingLeft: `${r.depth * 14 + 6}px` }} title={r.label}>{r.label}</span>
                  <span class="track"><span class="bar" style={{ left: `${left}%`, width: `${Math.min(width, 100 - left)}%` }} /></span>
                  <span class="dur" data-testid="duration">{formatDuration(r.durationMs)}</span>
                  <span class="note">{GLYPH[r.mark]} {r.note}</span>
                </div>
              );
            }}
          />
        </div>
        {details && sel ? <Details row={sel} onClose={() => setDetails(false)} /> : null}
      </div>
    </section>
  );
}

function Details({ row, onClose }: { row: WaterfallRow; onClose(): void }) {
  const span = row.span;
  const gap = typeof span?.attributes['claude_code.gap'] === 'string' ? (span.attributes['claude_code.gap'] as string) : undefined;
  const attrs = Object.entries(span?.attributes ?? {}).filter(([k]) => !k.startsWith('claude_code.ui.')).sort(([a], [b]) => a.localeCompare(b));
  return (
    <aside class="details" data-testid="details" aria-label="span details">
      <div class="dhead">
        <h2>{row.label}</h2>
        <button type="button" onClick={onClose} aria-label="close details">×</button>
      </div>
      <p class="mono">{row.name} · {span?.spanId ?? 'missing parent'} · {formatDuration(row.durationMs)}{row.running ? ' (running)' : ''}</p>
      {span?.status.code === 'error' ? <p class="bad">status ERROR{span.status.message ? `: ${span.status.message}` : ''}</p> : null}
      {gap ? <p class="gap">gap {gap}: {GAP_EXPLAINED[gap] ?? 'an event was missing.'}</p> : null}
      <table>
        <tbody>
          {attrs.map(([k, v]) => (
            <tr key={k}><th>{k}</th><td class="mono">{typeof v === 'string' ? v : JSON.stringify(v)}</td></tr>
          ))}
        </tbody>
      </table>
      {span && span.events.length > 0 ? (
        <>
          <h3>events</h3>
          <ul>{span.events.map((e, i) => <li key={i} class="mono">{e.name}</li>)}</ul>
        </>
      ) : null}
    </aside>
  );
}
