/**
 * Limits applied to one hook event at the edge, before it is parsed, so that no single input can
 * exhaust the agent's 128 MB heap, overflow the stack, or hold the event loop:
 * - MAX_EVENT_BYTES (8 MiB): the HTTP body cap and the spool file cap. Parsing, validating and
 *   measuring an event costs about four times its size on the heap; 8 MiB keeps that near 32 MB,
 *   a quarter of the heap, and is far above what Claude Code sends (tool outputs are truncated by
 *   the CLI; an image read is a few MB of base64).
 * - MAX_EVENT_DEPTH (200): nesting of arrays/objects. JSON.stringify (used to measure and capture
 *   tool input/output) overflows the stack at about 5,000 levels; real payloads nest < 20 levels.
 *   Checked on the raw text, in one pass, before JSON.parse.
 * - MAX_EVENT_FIELDS (100): top-level fields. Unknown and point events keep their scalar fields
 *   as details, each redacted; a 60k-field event took a second of CPU. Claude Code sends < 30,
 *   and the OTel SDK keeps at most 128 attributes per record anyway.
 */
export const MAX_EVENT_BYTES = 8 * 1024 * 1024;
export const MAX_EVENT_DEPTH = 200;
export const MAX_EVENT_FIELDS = 100;

/** Fields that identify an event or key its span: kept however many fields are dropped. */
const IDENTITY = ['session_id', 'hook_event_name', 'tool_name', 'tool_use_id', 'prompt_id', 'agent_id', 'agent_type', 'cwd', 'permission_mode'];

const OPEN_OBJ = 123; // {
const OPEN_ARR = 91; // [
const CLOSE_OBJ = 125;
const CLOSE_ARR = 93;
const QUOTE = 34;
const BACKSLASH = 92;

/** More than `max` opening brackets: counted with indexOf (native), so typical events cost ~1 µs. */
function moreThan(text: string, max: number): boolean {
  let n = 0;
  for (const open of ['{', '[']) {
    for (let i = text.indexOf(open); i >= 0; i = text.indexOf(open, i + 1)) if (++n > max) return true;
  }
  return false;
}

/** True when the JSON text nests deeper than `max` (strings are skipped; the text need not be valid). */
export function exceedsDepth(text: string, max = MAX_EVENT_DEPTH): boolean {
  if (text.length <= max || !moreThan(text, max)) return false; // cannot nest deeper than it has brackets
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
    } else if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (++depth > max) return true;
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      depth--;
    }
  }
  return false;
}

/**
 * An object with at most `max` own fields: the identity fields, then the others in order.
 * Returns the same object when it is within the cap (the common case costs one counting loop).
 */
export function capFields(value: Record<string, unknown>, max = MAX_EVENT_FIELDS): { value: Record<string, unknown>; dropped: number } {
  let count = 0;
  for (const key in value) {
    if (Object.hasOwn(value, key) && ++count > max) break;
  }
  if (count <= max) return { value, dropped: 0 };
  const kept: Record<string, unknown> = {};
  let keptCount = 0;
  for (const key of IDENTITY) {
    if (Object.hasOwn(value, key)) {
      kept[key] = value[key];
      keptCount++;
    }
  }
  let total = 0;
  for (const key of Object.keys(value)) {
    total++;
    if (keptCount >= max || Object.hasOwn(kept, key)) continue;
    Object.defineProperty(kept, key, { value: value[key], enumerable: true, writable: true, configurable: true });
    keptCount++;
  }
  return { value: kept, dropped: total - keptCount };
}
