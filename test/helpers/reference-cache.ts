import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/**
 * Outputs of an independent Python reference, committed beside the test that compares with
 * them, so a run need not start PyTorch to redo a computation whose inputs have not changed.
 * Each entry is keyed by the sha256 of everything the output depends on (the reference script,
 * its weights, the settings, the input bytes): a changed input misses, and the test then runs
 * the reference live, so a stale entry can never make a comparison pass. With
 * ECAF_REFRESH_REFERENCES=1 the entries the run computed are written back to the file.
 */
export class ReferenceCache<Out> {
  private readonly entries: Record<string, Out>;
  private readonly used = new Set<string>();
  private added = 0;

  private constructor(readonly file: string) {
    try {
      this.entries = (JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, Out> }).entries;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.entries = {};
    }
  }

  static open<Out>(file: string): ReferenceCache<Out> {
    return new ReferenceCache<Out>(file);
  }

  /** The key of an output: sha256 over its parts, each length-prefixed so no two lists collide. */
  static key(...parts: (string | Uint8Array)[]): string {
    const h = createHash('sha256');
    for (const p of parts) {
      const bytes = typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
      h.update(`${bytes.length}:`).update(bytes);
    }
    return h.digest('hex');
  }

  get(key: string): Out | undefined {
    const out = this.entries[key];
    if (out !== undefined) this.used.add(key);
    return out;
  }

  /** An output the reference computed now (kept for this run; written back only when asked). */
  set(key: string, out: Out): void {
    this.entries[key] = out;
    this.used.add(key);
    this.added++;
  }

  /** Misses of this run, said on stderr; with ECAF_REFRESH_REFERENCES=1 the file keeps exactly the entries this run used. */
  finish(label: string): void {
    if (process.env.ECAF_REFRESH_REFERENCES === '1') {
      const kept = Object.fromEntries([...this.used].sort().map((k) => [k, this.entries[k]]));
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify({ note: 'outputs of the Python reference by input digest (test/helpers/reference-cache.ts)', entries: kept })}\n`);
      renameSync(tmp, this.file);
    } else if (this.added > 0) {
      console.warn(`${label}: ${this.added} reference output(s) not in ${this.file} were computed by Python now; ECAF_REFRESH_REFERENCES=1 stores them`);
    }
  }
}
