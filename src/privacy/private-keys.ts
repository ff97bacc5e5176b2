/**
 * Private keys, which span lines and encodings, so they are found by scanning rather than by one
 * regex: PEM blocks (RFC 7468 `-----BEGIN … PRIVATE KEY-----`, also JSON-escaped and with the END
 * line cut off), PEM encoded once more in base64 (kubeconfig `client-key-data`, Kubernetes Secret
 * `data:` values, which start with `LS0tLS1CRUdJTi`, the base64 of `-----BEGIN`), and PuTTY `.ppk`
 * files (`Private-Lines: N` followed by base64 lines). Each uses `indexOf` or a sticky class run, so
 * the work is linear in the text.
 */
import { redactionMarker } from './pattern-kit.js';

export interface RedactionResult {
  text: string;
  redactions: number;
}

const PEM_BEGIN = /-----BEGIN ([A-Z0-9 ]{0,40})PRIVATE KEY( BLOCK)?-----/g;
const PEM_BODY = /[A-Za-z0-9+/=\s\\:,-]*/y;

/** Replaces PEM private key blocks, including ones whose END line is missing (truncated output). */
export function redactPem(text: string): RedactionResult {
  if (!text.includes('PRIVATE KEY')) return { text, redactions: 0 };
  let out = '';
  let last = 0;
  let redactions = 0;
  const begin = new RegExp(PEM_BEGIN.source, 'g');
  const body = new RegExp(PEM_BODY.source, 'y');
  let m: RegExpExecArray | null;
  while ((m = begin.exec(text)) !== null) {
    const start = m.index;
    const afterBegin = start + m[0].length;
    const endMarker = `-----END ${m[1] ?? ''}PRIVATE KEY${m[2] ?? ''}-----`;
    const endIdx = text.indexOf(endMarker, afterBegin);
    let stop: number;
    if (endIdx >= 0) {
      stop = endIdx + endMarker.length;
    } else {
      body.lastIndex = afterBegin;
      body.exec(text);
      stop = body.lastIndex;
    }
    out += text.slice(last, start) + redactionMarker('private-key');
    redactions += 1;
    last = stop;
    begin.lastIndex = Math.max(stop, afterBegin);
  }
  if (redactions === 0) return { text, redactions: 0 };
  return { text: out + text.slice(last), redactions };
}

/** base64 of "-----BEGIN": the start of a PEM block encoded once more. */
const B64_PEM = /(?<![A-Za-z0-9+/])LS0tLS1CRUdJTi(?:[A-Za-z0-9+/=]|\r?\n|\\n)*/g;

/** Replaces base64-encoded PEM blocks that hold a private key (certificates are public and stay). */
export function redactBase64Pem(text: string): RedactionResult {
  if (!text.includes('LS0tLS1CRUdJTi')) return { text, redactions: 0 };
  let redactions = 0;
  const out = text.replace(new RegExp(B64_PEM.source, 'g'), (run) => {
    const head = Buffer.from(run.slice(0, 120).replace(/\\n|\s/g, ''), 'base64').toString('latin1');
    if (!/^-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY/.test(head)) return run;
    redactions += 1;
    // Keep the line break that ended the run.
    const tail = /(?:\r?\n|\\n)+$/.exec(run)?.[0] ?? '';
    return redactionMarker('private-key') + tail;
  });
  return { text: out, redactions };
}

const PPK = /(Private-Lines:[ \t]*\d{1,4}(?:\r?\n|\\r\\n|\\n))((?:[A-Za-z0-9+/=]|\r?\n|\\r\\n|\\n)+)/g;

/** Replaces the private part of a PuTTY key file. */
export function redactPuttyKey(text: string): RedactionResult {
  if (!text.includes('Private-Lines:')) return { text, redactions: 0 };
  let redactions = 0;
  const out = text.replace(new RegExp(PPK.source, 'g'), (_m, head: string, body: string) => {
    redactions += 1;
    const tail = /(?:\r?\n|\\r\\n|\\n)+$/.exec(body)?.[0] ?? '';
    return `${head}${redactionMarker('private-key')}${tail}`;
  });
  return { text: out, redactions };
}
