import { createReadStream, promises as fs } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * Append-only JSON-lines log. Each line is written with one write() call so a SIGKILL
 * leaves at most one torn final line, which readers skip.
 */
export class JsonlAppender {
  private constructor(private readonly handle: fs.FileHandle) {}

  static async open(file: string): Promise<JsonlAppender> {
    await repairTornTail(file);
    return new JsonlAppender(await fs.open(file, 'a'));
  }

  async append(rows: readonly object[]): Promise<void> {
    if (rows.length === 0) return;
    await this.handle.write(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }

  async sync(): Promise<void> {
    await this.handle.sync();
  }

  async close(): Promise<void> {
    await this.handle.sync();
    await this.handle.close();
  }
}

/** A killed writer can leave a last line without its newline: cut it so the next append starts clean. */
async function repairTornTail(file: string): Promise<void> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (stat.size === 0) return;
  const handle = await fs.open(file, 'r+');
  try {
    const tailSize = Math.min(stat.size, 1 << 20);
    const buf = Buffer.alloc(tailSize);
    await handle.read(buf, 0, tailSize, stat.size - tailSize);
    if (buf[tailSize - 1] === 0x0a) return;
    const lastNewline = buf.lastIndexOf(0x0a);
    const keep = lastNewline < 0 ? (tailSize === stat.size ? 0 : stat.size) : stat.size - tailSize + lastNewline + 1;
    await handle.truncate(keep);
  } finally {
    await handle.close();
  }
}

/** Stream the parsed lines of a JSONL file; a missing file yields nothing, unparsable lines are skipped. */
export async function* readJsonl<T>(file: string): AsyncGenerator<T> {
  try {
    await fs.access(file);
  } catch {
    return;
  }
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let row: T;
    try {
      row = JSON.parse(line) as T;
    } catch {
      continue; // a torn line from a killed run
    }
    yield row;
  }
}

/** The last line of each id is its state (crawl.jsonl and landmarks.jsonl both work this way). */
export async function readLastStates<T extends { id: string }>(file: string): Promise<Map<string, T>> {
  const states = new Map<string, T>();
  for await (const row of readJsonl<T>(file)) {
    if (row && typeof row.id === 'string') states.set(row.id, row);
  }
  return states;
}
