import { createReadStream, promises as fs } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { UsageError } from '../util/errors.js';
import { distFile } from '../util/paths.js';

async function requireLandmarksLog(file: string): Promise<void> {
  await fs.access(file).catch(() => {
    throw new UsageError(`${file}: not found: pairs name aligned images only (run \`ecaf align\` first)`);
  });
}

/** Where a line's id or status string starts, in the compact form JSON.stringify writes; -1 otherwise. */
function fieldStart(text: string, key: string, from: number, to: number): number {
  const i = text.indexOf(key, from);
  return i >= 0 && i < to ? i + key.length : -1;
}

/**
 * Ids whose last landmarks.jsonl line says `ok`. A real line holds 68 landmark pairs: parsing a
 * million of them would dominate the run, so the id and status of a compact line (as align
 * writes it: `{"id":"...","status":"...",...}`) are cut out directly; other lines are parsed.
 * A line counts only when complete (ends with `}`): a killed writer can leave a torn last line.
 */
export async function readAlignedIds(file: string): Promise<Set<string>> {
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
    const i = fieldStart(text, '"id":"', from, end);
    const j = i < 0 ? -1 : text.indexOf('"', i);
    const s = fieldStart(text, '"status":"', from, end);
    const id = j < 0 ? '' : text.slice(i, j);
    if (i >= 0 && s >= 0 && !id.includes('\\')) {
      state(id, text.startsWith('ok"', s));
      return;
    }
    try {
      const row = JSON.parse(text.slice(from, end)) as { id?: unknown; status?: unknown };
      if (typeof row.id === 'string') state(row.id, row.status === 'ok');
    } catch {
      // a torn or foreign line: not a state
    }
  };
  let rest = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = rest + (chunk as string);
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      onLine(text, from, nl);
      from = nl + 1;
    }
    rest = text.slice(from);
  }
  onLine(rest, 0, rest.length);
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

  private constructor(file: string) {
    this.worker = new Worker(distFile('pairs/aligned-ids-worker.js'), { workerData: file });
    this.worker.on('message', (flags: Uint8Array) => this.waiting.shift()!(flags));
    this.failure = new Promise<never>((_, reject) => {
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`the landmarks.jsonl reader stopped (exit code ${code})`)));
    });
    this.failure.catch(() => undefined); // surfaced by flags()
  }

  static async open(file: string): Promise<AlignedIdFilter> {
    await requireLandmarksLog(file);
    return new AlignedIdFilter(file);
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
