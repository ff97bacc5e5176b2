/**
 * The home is ours or refused. Everything the bridge keeps lives under CLAUDE_OTEL_HOME; another
 * local user who can plant a symlink or own a file there can clobber the victim's files, read the
 * token or inject events (reliability review, finding 5). This leaf module (Node built-ins only: the
 * hook hot path imports it) decides, with lstat, whether a home and the entries we use in it are
 * ours: a home or entry that is a symbolic link, or is owned by another uid, is refused with a
 * HomeRefused error; so is a home whose parent directory others can write without the sticky bit
 * (anyone could rename our home away and put theirs in its place). Group/other permission bits on
 * what we own are removed (everything in the home is private: the token, the journal holds event
 * content) and reported as repairs. Writes go through `writeFileAtomic` (a random temporary name
 * opened with O_CREAT|O_EXCL, which never follows a planted link, then rename) and private files
 * are read with O_NOFOLLOW and checked after opening (regular file, our uid).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync, renameSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { dirname, join } from 'node:path';

export class HomeRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HomeRefused';
  }
}

/** The layout secureHome checks: the home, the directories it creates, the files it may find. */
export interface HomeLayout {
  home: string;
  dirs: readonly string[];
  files: readonly string[];
}

export interface HomeProblem {
  path: string;
  problem: string;
  /** True when secureHome would repair it (a mode we can tighten); false when it refuses. */
  repairable: boolean;
}

export const currentUid = (): number => (typeof process.getuid === 'function' ? process.getuid() : -1);

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HomeRefused(`cannot inspect ${path}: ${(err as Error).message}`);
  }
}

const kind = (s: Stats): string => (s.isSymbolicLink() ? 'a symbolic link' : s.isDirectory() ? 'a directory' : s.isFile() ? 'a regular file' : s.isFIFO() ? 'a FIFO' : s.isSocket() ? 'a socket' : 'a device');

/** What is wrong with one existing entry (undefined: nothing). */
function problemOf(path: string, s: Stats, want: 'dir' | 'file', uid: number): HomeProblem | undefined {
  if (s.isSymbolicLink()) return { path, problem: `${path} is a symbolic link (we never follow links in the home)`, repairable: false };
  if (want === 'dir' ? !s.isDirectory() : !s.isFile()) return { path, problem: `${path} is ${kind(s)}, expected ${want === 'dir' ? 'a directory' : 'a regular file'}`, repairable: false };
  if (uid >= 0 && s.uid !== uid) return { path, problem: `${path} is owned by uid ${s.uid}, not by us (uid ${uid})`, repairable: false };
  if ((s.mode & 0o077) !== 0) return { path, problem: `${path} has mode ${(s.mode & 0o777).toString(8)}: group or others have access`, repairable: true };
  return undefined;
}

/** Read-only inspection (doctor): every problem of the home and its entries, nothing changed. */
export function inspectHome(layout: HomeLayout, uid = currentUid()): HomeProblem[] {
  const problems: HomeProblem[] = [];
  const parent = dirname(layout.home);
  try {
    const p = lstatSync(parent);
    // A parent others can write without the sticky bit lets them rename our home and plant their own.
    if ((p.mode & 0o002) !== 0 && (p.mode & 0o1000) === 0) problems.push({ path: parent, problem: `${parent} (the home's parent) is writable by everyone without the sticky bit`, repairable: false });
  } catch {
    /* no parent yet: created by us */
  }
  const home = lstatOrUndefined(layout.home);
  if (!home) return problems;
  const homeProblem = problemOf(layout.home, home, 'dir', uid);
  if (homeProblem) {
    problems.push(homeProblem);
    if (!homeProblem.repairable) return problems; // never look inside a home that is not ours
  }
  for (const [paths, want] of [[layout.dirs, 'dir'], [layout.files, 'file']] as const) {
    for (const path of paths) {
      const s = lstatOrUndefined(path);
      const problem = s && problemOf(path, s, want, uid);
      if (problem) problems.push(problem);
    }
  }
  return problems;
}

/**
 * Makes the home usable or throws HomeRefused: creates what is missing (mode 0700), refuses links,
 * foreign owners and wrong file types, and removes group/other bits from what we own.
 */
export function secureHome(layout: HomeLayout, options: { uid?: number; log?: (message: string) => void } = {}): { repaired: string[] } {
  const uid = options.uid ?? currentUid();
  if (!lstatOrUndefined(layout.home)) mkdirSync(layout.home, { recursive: true, mode: 0o700 });
  const repaired: string[] = [];
  const check = () => {
    const problems = inspectHome(layout, uid);
    const refused = problems.filter((p) => !p.repairable);
    if (refused.length) {
      throw new HomeRefused(`refusing to use ${layout.home}: ${refused.map((p) => p.problem).join('; ')}. Fix or remove it (or set CLAUDE_OTEL_HOME to a directory of your own).`);
    }
    return problems;
  };
  for (const p of check()) {
    const mode = lstatSync(p.path).mode & 0o777;
    chmodSync(p.path, mode & 0o700);
    repaired.push(`${p.path}: mode ${mode.toString(8)} -> ${(mode & 0o700).toString(8)}`);
    options.log?.(`home: tightened ${p.path} from mode ${mode.toString(8)} to ${(mode & 0o700).toString(8)}`);
  }
  for (const dir of layout.dirs) {
    if (!lstatOrUndefined(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  check(); // the directories just created, and nothing swapped meanwhile
  return { repaired };
}

/** True when `dir` is a directory of ours and not a link: a marker may be written there even if the home was refused. */
export function ownsDirectory(dir: string, uid = currentUid()): boolean {
  try {
    const s = lstatSync(dir);
    return s.isDirectory() && (uid < 0 || s.uid === uid);
  } catch {
    return false;
  }
}

/** A random sibling name for a temporary file: never predictable, so never pre-planted. */
export const temporaryName = (file: string): string => join(dirname(file), `.${file.slice(dirname(file).length + 1)}.${randomBytes(6).toString('hex')}.tmp`);

/** The name of the file a temporaryName() leftover belongs to (`.<name>.<random>.tmp` → `<name>`), else undefined. */
export const temporaryOf = (name: string): string | undefined => /^\.(.+)\.[0-9a-f]{12}\.tmp$/.exec(name)?.[1];

/** Writes `file` as a whole: a fresh temporary (O_EXCL: fails on any existing name or link) renamed over it. */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = temporaryName(file);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* best effort */
    }
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, file);
}

/** Creates `file` exclusively (false when it exists); never follows a link. */
export function createFileExclusive(file: string, data: string | Uint8Array, mode = 0o600): boolean {
  let fd: number;
  try {
    fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(file); // never leave a partial file behind (disk full)
    } catch {
      /* best effort */
    }
    throw err;
  }
  closeSync(fd);
  return true;
}

export interface PrivateRead {
  text: string;
  mode: number;
  uid: number;
}

/**
 * Reads a small file of ours without following a link (O_NOFOLLOW) and without blocking on a FIFO
 * (O_NONBLOCK); undefined when it is absent, a link, not a regular file, not owned by us, or larger
 * than maxBytes.
 */
export function readPrivateFile(file: string, maxBytes = 1 << 20, uid = currentUid()): PrivateRead | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const s = fstatSync(fd);
    if (!s.isFile() || (uid >= 0 && s.uid !== uid) || s.size > maxBytes) return undefined;
    const buf = Buffer.alloc(s.size);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return { text: buf.subarray(0, off).toString('utf8'), mode: s.mode & 0o777, uid: s.uid };
  } finally {
    closeSync(fd);
  }
}
