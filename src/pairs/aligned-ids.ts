import { createReadStream, promises as fs } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { readMergedJsonl } from '../distribute/logs.js';
import { InputError } from '../util/errors.js';
import { distFile } from '../util/paths.js';

async function requireLandmarksLog(file: string): Promise<void> {
  await fs.access(file).catch(() => {
    throw new InputError({ file, expected: 'the log of aligned images (pairs name aligned images only)', found: 'nothing there' }, ['run:align']);
  });
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;

/**
 * Where the string value of `"key"` starts in `line` (`"key": "`, any JSON spacing), or -1.
 * Searches only the line, so a line without the key costs its own length, never the chunk's.
 */
function stringFieldStart(line: string, key: string): number {
  for (let k = line.indexOf(key); k >= 0; k = line.indexOf(key, k + 1)) {
    let i = k + key.length;
    while (isSpace(line.charCodeAt(i))) i++;
    if (line.charCodeAt(i) !== 0x3a) continue; // a value that reads like the key, not the key
    i++;
    while (isSpace(line.charCodeAt(i))) i++;
    return line.charCodeAt(i) === 0x22 ? i + 1 : -1;
  }
  return -1;
}

/** The id and whether the status is ok, of a line that names both as plain strings; null otherwise. */
function fastState(line: string): { id: string; ok: boolean } | null {
  const i = stringFieldStart(line, '"id"');
  const j = i < 0 ? -1 : line.indexOf('"', i);
  const s = stringFieldStart(line, '"status"');
  if (j < 0 || s < 0) return null;
  const id = line.slice(i, j);
  return id.includes('\\') ? null : { id, ok: line.startsWith('ok"', s) };
}

/**
 * Ids whose last landmarks.jsonl line says `ok`. A real line holds 68 landmark pairs: parsing a
 * million of them would dominate the run, so the id and status strings are cut out of each
 * line directly (align's compact form and Python's `json.dumps` spacing alike); a line whose
 * id holds an escape is parsed. Linear in the file's size: every search stays in its line.
 * A line counts only when complete (ends with `}`): a killed writer can leave a torn last line.
 */
export async function readAlignedIds(files: string | readonly string[]): Promise<Set<string>> {
  if (typeof files !== 'string' && files.length !== 1) return readMergedAlignedIds(files);
  const file = typeof files === 'string' ? files : files[0]!;
  await requireLandmarksLog(file);
  const ok = new Set<string>(); // adds and deletes in file order: the last line of an id decides
  const state = (id: string, isOk: boolean): void => {
    if (isOk) ok.add(id);
    else ok.delete(id);
  };
  const onLine = (text: string, from: number, to: number): void => {
    let end = to;
    while (end > from && text.charCodeAt(end - 1) <= 0x20) end--;
    if (end === from || text.charCodeAt(end - 1) !== 0x7d) return;
    const line = text.slice(from, end);
    const fast = fastState(line);
    if (fast) return state(fast.id, fast.ok);
    try {
      const row = JSON.parse(line) as { id?: unknown; status?: unknown };
      if (typeof row.id === 'string') state(row.id, row.status === 'ok');
    } catch {
      // a torn or foreign line: not a state
    }
  };
  // pieces of a line longer than a chunk wait here: joined once its newline comes, never re-searched
  let pending: string[] = [];
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const piece = chunk as string;
    let nl = piece.indexOf('\n');
    if (nl < 0) {
      pending.push(piece);
      continue;
    }
    const text = pending.join('') + piece;
    let from = 0;
    for (nl += text.length - piece.length; nl >= 0; nl = text.indexOf('\n', from)) {
      onLine(text, from, nl);
      from = nl + 1;
    }
    pending = [text.slice(from)];
  }
  const rest = pending.join('');
  onLine(rest, 0, rest.length);
  return ok;
}

/** Ids whose last line over several landmarks logs (a sharded align, docs/cluster.md) is ok, merged by time. */
async function readMergedAlignedIds(files: readonly string[]): Promise<Set<string>> {
  if (files.length === 0) throw new InputError({ file: 'image_data/landmarks.jsonl', expected: 'the log of aligned images (pairs name aligned images only)', found: 'nothing there' }, ['run:align']);
  const ok = new Set<string>();
  for await (const row of readMergedJsonl<{ id?: unknown; status?: unknown; time?: unknown }>(files)) {
    if (typeof row.id !== 'string') continue;
    if (row.status === 'ok') ok.add(row.id);
    else ok.delete(row.id);
  }
  return ok;
}

/** Ids sent to the worker per message: big enough that messaging costs little, small enough to overlap. */
const BATCH = 16384;

/**
 * Which ids aligned, answered on another core: a worker thread scans landmarks.jsonl while the
 * caller streams data.json and sends it the record ids in batches (newline-joined: valid ids
 * hold no newline); the worker answers each batch with one flag per id once its scan is done.
 */
export class AlignedIdFilter {
  private readonly worker: Worker;
  private batch: string[] = [];
  private readonly answers: Promise<Uint8Array>[] = [];
  private readonly waiting: ((flags: Uint8Array) => void)[] = [];
  private readonly failure: Promise<never>;

  private constructor(files: readonly string[]) {
    this.worker = new Worker(distFile('pairs/aligned-ids-worker.js'), { workerData: files });
    this.worker.on('message', (flags: Uint8Array) => this.waiting.shift()!(flags));
    this.failure = new Promise<never>((_, reject) => {
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`the landmarks.jsonl reader stopped (exit code ${code})`)));
    });
    this.failure.catch(() => undefined); // surfaced by flags()
  }

  /** Over every landmarks log of the root (one, or several after a sharded align). */
  static async open(files: readonly string[], mainLog: string): Promise<AlignedIdFilter> {
    if (files.length === 0) await requireLandmarksLog(mainLog);
    return new AlignedIdFilter(files);
  }

  add(id: string): void {
    if (this.batch.push(id) === BATCH) this.send();
  }

  /** One flag per id added, in order: 1 when its last landmarks.jsonl line is `ok`. */
  async flags(): Promise<Uint8Array> {
    this.send();
    try {
      const parts = await Promise.race([Promise.all(this.answers), this.failure]);
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    } finally {
      await this.close();
    }
  }

  /** Stop the worker (also when the caller gives up early: a live worker keeps the process alive). */
  async close(): Promise<void> {
    await this.worker.terminate();
  }

  private send(): void {
    if (this.batch.length === 0) return;
    this.answers.push(new Promise((resolve) => this.waiting.push(resolve)));
    this.worker.postMessage(this.batch.join('\n'));
    this.batch = [];
  }
}
