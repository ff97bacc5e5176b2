/** Preact hooks shared by the pages: the feed's version, and a ticking clock for running spans. */
import { useEffect, useState } from 'preact/hooks';
import type { Feed } from './feed.js';

export function useFeed(feed: Feed): number {
  const [version, setVersion] = useState(feed.state.version);
  useEffect(() => {
    const off = feed.subscribe(() => setVersion(feed.state.version));
    return () => void off();
  }, [feed]);
  return version;
}

/** Re-renders every `ms` while `active` (durations of running spans tick). */
export function useTicker(active: boolean, ms = 250): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [active, ms]);
  return now;
}

