/**
 * The web view's entry point (bundled by scripts/build-ui.mjs into dist/ui/app.js): a hash router
 * over three pages — sessions (#/), one session (#/s/<id>) and the live tail (#/tail) — sharing one
 * live feed (feed.ts).
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { createFeed, type Feed } from './feed.js';
import { useFeed } from './hooks.js';
import { SessionPage } from './session-page.js';
import { SessionsPage } from './sessions-page.js';
import { TailPage } from './tail-page.js';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    // The effect runs after the first paint: a hash that changed before the listener was there
    // (a link followed, or a navigation, while the page was loading) fired its event for nobody.
    on();
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

function App({ feed }: { feed: Feed }) {
  const hash = useHash();
  useFeed(feed);
  const session = /^#\/s\/(.+)$/.exec(hash);
  const page = session?.[1] ? 'session' : hash === '#/tail' ? 'tail' : 'sessions';
  return (
    <div class="app">
      <header class="top">
        <a class="brand" href="#/">claude-otel</a>
        <nav>
          <a href="#/" aria-current={page === 'sessions' ? 'page' : undefined}>Sessions</a>
          <a href="#/tail" aria-current={page === 'tail' ? 'page' : undefined}>Live tail</a>
        </nav>
        <span class={`conn ${feed.state.connected ? 'up' : 'down'}`} data-testid="connection">
          {feed.state.connected ? 'live' : 'reconnecting…'} · {feed.state.source === 'team' ? 'team: PostgreSQL + Redis' : `agent ${feed.state.live.agent.running ? 'running' : 'not running'}`}
        </span>
      </header>
      <main>
        {page === 'session' && session?.[1] ? <SessionPage feed={feed} id={decodeURIComponent(session[1])} /> : page === 'tail' ? <TailPage feed={feed} /> : <SessionsPage feed={feed} />}
      </main>
    </div>
  );
}

const feed = createFeed();
(window as unknown as { __uiFeed: unknown }).__uiFeed = feed.log;
render(<App feed={feed} />, document.getElementById('root')!);
void feed.start();
