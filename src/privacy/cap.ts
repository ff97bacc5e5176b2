/** UTF-8 safe truncation of captured values. */

export const truncationMarker = (droppedBytes: number): string => `…[truncated ${droppedBytes} bytes]`;

/**
 * Returns `text` unchanged when it fits in `maxBytes` (UTF-8); otherwise its longest prefix that
 * ends on a character boundary followed by `…[truncated N bytes]`, the whole result fitting in
 * `maxBytes` (when maxBytes is too small to hold the marker, the bare prefix is returned).
 * `extraDroppedBytes` adds bytes already removed before the call to the reported count.
 */
export function capValue(text: string, maxBytes: number, extraDroppedBytes = 0): string {
  const limit = Math.max(0, Math.floor(maxBytes));
  const totalBytes = Buffer.byteLength(text, 'utf8');
  if (totalBytes <= limit && extraDroppedBytes <= 0) return text;
  if (totalBytes <= limit) return text + markerThatFits(limit - totalBytes, extraDroppedBytes);
  // Reserve room for the marker; the digits of the largest possible count bound its length.
  const longestMarker = Buffer.byteLength(truncationMarker(totalBytes + extraDroppedBytes), 'utf8');
  const keepBudget = longestMarker <= limit ? limit - longestMarker : limit;
  const prefix = utf8Prefix(text, keepBudget);
  const dropped = totalBytes - Buffer.byteLength(prefix, 'utf8') + extraDroppedBytes;
  return longestMarker <= limit ? prefix + truncationMarker(dropped) : prefix;
}

function markerThatFits(room: number, dropped: number): string {
  const marker = truncationMarker(dropped);
  return Buffer.byteLength(marker, 'utf8') <= room ? marker : '';
}

/** The longest prefix of `text` whose UTF-8 encoding has at most `maxBytes` bytes. */
export function utf8Prefix(text: string, maxBytes: number): string {
  // Every UTF-16 unit encodes to at least one byte, so maxBytes units are always enough.
  const buf = Buffer.from(text.length > maxBytes ? text.slice(0, maxBytes) : text, 'utf8');
  if (buf.length <= maxBytes) return buf.toString('utf8');
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end -= 1;
  return buf.subarray(0, end).toString('utf8');
}
