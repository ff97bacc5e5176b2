/** The live tail: events as they arrive (spans landing in the store, spans opening in the agent). */
import type { Feed } from './feed.js';

export function TailPage({ feed }: { feed: Feed }) {
  const events = [...feed.state.tail].reverse();
  return (
    <section class="page tail">
      <h1>Live tail</h1>
      {events.length === 0 ? <p class="empty">Waiting for events…</p> : null}
      <ol class="tail-list" data-testid="tail">
        {events.slice(0, 200).map((e) => (
          <li key={e.seq} class={`tail-${e.kind}${e.span?.status.code === 'error' ? ' bad' : ''}`}>
            <span class="mono">{new Date(e.atMs).toISOString().slice(11, 23)}</span>
            <span class="kind">{e.kind === 'span' ? 'closed' : e.kind === 'live' ? 'opened' : 'feed'}</span>
            <span>{e.text}</span>
            {e.sessionId ? <a class="mono" href={`#/s/${encodeURIComponent(e.sessionId)}`}>{e.sessionId.slice(0, 8)}</a> : null}
          </li>
        ))}
      </ol>
    </section>
  );
}
