import { promises as fs } from 'node:fs';

/**
 * Streams the top-level entries of a JSON array or object without holding the file in memory:
 * each element's bytes are cut out by a byte scanner and parsed alone, so a 1,000,000-record
 * data.json costs the memory of one record, and a syntax error is reported with line and column.
 * The scanner jumps through strings with indexOf and tracks byte offsets only: lines and
 * columns are worked out from the file when an error needs them.
 */
export interface TopLevelEntry {
  /** Position among the top-level entries. */
  index: number;
  /** The key, for the object form. */
  key?: string;
  value: unknown;
  /** Byte offset in the file where the entry's value starts (positionAt gives line and column). */
  offset: number;
}

export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly detail: string,
  ) {
    super(`${file}: invalid JSON at line ${line}, column ${column}: ${detail}`);
  }
}

export type TopLevelForm = 'array' | 'object';

const enum S {
  Start,
  ExpectFirst, // after '[' or '{': an entry or the closing bracket
  ExpectEntry, // after ',': an entry
  InKey,
  AfterKey,
  ExpectValue,
  InValue,
  AfterValue,
  End,
}

const WS = new Uint8Array(256);
for (const c of [0x20, 0x09, 0x0a, 0x0d]) WS[c] = 1;

/** 1-based line and column (in characters) of a byte offset of `file`. */
export async function positionAt(file: string, offset: number): Promise<{ line: number; column: number }> {
  const handle = await fs.open(file, 'r');
  try {
    let line = 1;
    let column = 1;
    let pos = 0;
    const buf = Buffer.alloc(1 << 20);
    while (pos < offset) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, offset - pos), pos);
      if (bytesRead === 0) break;
      for (let i = 0; i < bytesRead; i++) {
        const b = buf[i]!;
        if (b === 0x0a) {
          line++;
          column = 1;
        } else if ((b & 0xc0) !== 0x80 && !(pos === 0 && i < 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf)) column++;
      }
      pos += bytesRead;
    }
    return { line, column };
  } finally {
    await handle.close();
  }
}

/** Entries are parsed one at a time as they are consumed, so parsed records die young (no promotion to the old heap). */
export async function* streamTopLevel(file: string, onForm?: (form: TopLevelForm) => void): AsyncGenerator<TopLevelEntry> {
  let state: S = S.Start;
  let form: TopLevelForm = 'array';
  let close = 0x5d; // the closing bracket of the top-level form
  let index = 0;
  // collection of the current key or value
  let parts: Buffer[] = [];
  let collecting = false;
  let depth = 0;
  let inString = false;
  let escape = false;
  let start = 0; // byte offset of the current value
  let key: string | undefined;
  let keyStart = 0;
  let base = 0; // byte offset of the current chunk
  let errorAt: { offset: number; detail: string } | undefined;

  const fail = (offset: number, detail: string): never => {
    errorAt = { offset, detail };
    throw errorAt;
  };
  const cut = (chunk: Buffer, begin: number, end: number): string => {
    let text: string;
    if (parts.length === 0) text = chunk.toString('utf8', begin, end);
    else {
      parts.push(chunk.subarray(begin, end));
      text = Buffer.concat(parts).toString('utf8');
      parts = [];
    }
    collecting = false;
    return text;
  };
  const parseAt = (text: string, at: number): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      const where = locateJsonError(text);
      return fail(at + Buffer.byteLength(text.slice(0, where.offset)), where.message);
    }
  };
  /** Scan a string body from i: the index of its closing quote, or -1 (escape carried over). */
  const stringEnd = (chunk: Buffer, i: number): number => {
    const n = chunk.length;
    if (escape) {
      escape = false;
      i++;
    }
    for (;;) {
      const q = chunk.indexOf(0x22, i);
      if (q < 0) {
        let k = n - 1;
        while (k >= i && chunk[k] === 0x5c) k--;
        escape = ((n - 1 - k) & 1) === 1;
        return -1;
      }
      let k = q - 1;
      while (k >= i && chunk[k] === 0x5c) k--;
      if (((q - 1 - k) & 1) === 0) return q;
      i = q + 1; // an escaped quote
    }
  };

  // one read buffer reused for the whole file: no megabyte of garbage per read
  const handle = await fs.open(file, 'r');
  const buffer = Buffer.allocUnsafe(1 << 20);
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      const n = chunk.length;
      let found: TopLevelEntry | undefined;
      let begin = 0; // start of the collected part within this chunk
      let i = base === 0 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? 3 : 0; // UTF-8 BOM
      const emit = (end: number) => {
        const value = parseAt(cut(chunk, begin, end), start);
        found = key === undefined ? { index: index++, value, offset: start } : { index: index++, key, value, offset: start };
      };
      // scan to the next entry, hand it over, go on: one parsed record alive at a time
      for (;;) {
        while (i < n && found === undefined) {
          const b = chunk[i]!;
          switch (state) {
            case S.InValue: {
              if (inString) {
                const q = stringEnd(chunk, i);
                if (q < 0) {
                  i = n;
                  continue;
                }
                inString = false;
                i = q + 1;
                if (depth === 0) {
                  emit(i);
                  state = S.AfterValue;
                }
                continue;
              }
              for (; i < n; i++) {
                const c = chunk[i]!;
                if (c === 0x22) {
                  inString = true;
                  i++;
                  break;
                }
                if (c === 0x7b || c === 0x5b) depth++;
                else if (c === 0x7d || c === 0x5d) {
                  if (depth === 0) {
                    emit(i); // a primitive ended by the container's closing bracket
                    if (c !== close) fail(base + i, 'mismatched closing bracket');
                    state = S.End;
                    i++;
                    break;
                  }
                  depth--;
                  if (depth === 0) {
                    emit(i + 1);
                    state = S.AfterValue;
                    i++;
                    break;
                  }
                } else if (depth === 0 && (WS[c] || c === 0x2c)) {
                  emit(i);
                  state = c === 0x2c ? S.ExpectEntry : S.AfterValue;
                  i++;
                  break;
                }
              }
              continue;
            }
            case S.InKey: {
              const q = stringEnd(chunk, i);
              if (q < 0) {
                i = n;
                continue;
              }
              key = parseAt(cut(chunk, begin, q + 1), keyStart) as string;
              state = S.AfterKey;
              i = q + 1;
              continue;
            }
            case S.Start:
              i++;
              if (WS[b]) continue;
              if (b === 0x5b) form = 'array';
              else if (b === 0x7b) form = 'object';
              else fail(base + i - 1, 'data.json must be a JSON array of records or an object whose keys are the ids');
              close = form === 'array' ? 0x5d : 0x7d;
              onForm?.(form);
              state = S.ExpectFirst;
              continue;
            case S.ExpectFirst:
            case S.ExpectEntry:
              if (WS[b]) {
                i++;
                continue;
              }
              if (state === S.ExpectFirst && b === close) {
                state = S.End;
                i++;
                continue;
              }
              if (form === 'object') {
                if (b !== 0x22) fail(base + i, 'expected a string key');
                state = S.InKey;
                collecting = true;
                begin = i;
                keyStart = base + i;
                escape = false;
                i++;
                continue;
              }
              break; // a value starts here: below
            case S.AfterKey:
              i++;
              if (WS[b]) continue;
              if (b !== 0x3a) fail(base + i - 1, "expected ':' after the key");
              state = S.ExpectValue;
              continue;
            case S.ExpectValue:
              if (WS[b]) {
                i++;
                continue;
              }
              break; // a value starts here: below
            case S.AfterValue:
              i++;
              if (WS[b]) continue;
              if (b === 0x2c) state = S.ExpectEntry;
              else if (b === close) state = S.End;
              else fail(base + i - 1, form === 'array' ? "expected ',' or ']' after a record" : "expected ',' or '}' after a record");
              continue;
            case S.End:
              if (!WS[b]) fail(base + i, 'unexpected content after the end of the top-level value');
              i++;
              continue;
          }
          // start of a value (reached only by `break` above)
          if (b === 0x7d || b === 0x5d || b === 0x2c) fail(base + i, 'expected a value');
          state = S.InValue;
          collecting = true;
          begin = i;
          start = base + i;
          escape = false;
          inString = b === 0x22;
          depth = b === 0x7b || b === 0x5b ? 1 : 0;
          i++;
        }
        if (found === undefined) break;
        const entry: TopLevelEntry = found;
        found = undefined;
        yield entry;
      }
      if (collecting) parts.push(Buffer.from(chunk.subarray(begin))); // a copy: the buffer is read into again
      base += n;
    }
    if (state === S.Start) fail(Math.max(0, base - 1), 'the file is empty');
    if (state !== S.End) fail(Math.max(0, base - 1), 'unexpected end of file');
  } catch (err) {
    if (err !== errorAt || !errorAt) throw err;
    const pos = await positionAt(file, errorAt.offset);
    throw new JsonSyntaxError(file, pos.line, pos.column, errorAt.detail);
  } finally {
    await handle.close();
  }
}

/**
 * Offset of the first syntax error in `text` (JSON.parse does not say where, portably).
 * A small recursive-descent checker, run only after JSON.parse has failed.
 */
export function locateJsonError(text: string): { offset: number; message: string } {
  let i = 0;
  class Stop extends Error {
    constructor(
      readonly offset: number,
      message: string,
    ) {
      super(message);
    }
  }
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const stop = (message: string): never => {
    throw new Stop(i, i >= text.length ? 'unexpected end of input' : message);
  };
  const str = () => {
    i++; // opening quote
    while (i < text.length) {
      const ch = text[i]!;
      if (ch === '"') {
        i++;
        return;
      }
      if (ch === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            i++;
            stop('bad \\u escape');
          }
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else {
          i++;
          stop('bad escape in a string');
        }
      } else if (ch.charCodeAt(0) < 0x20) stop('control character in a string');
      else i++;
    }
    stop('unterminated string');
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') stop(`expected a string key, found ${JSON.stringify(text[i] ?? '')}`);
        str();
        ws();
        if (text[i] !== ':') stop("expected ':'");
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        stop("expected ',' or '}'");
      }
    } else if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        stop("expected ',' or ']'");
      }
    } else if (ch === '"') str();
    else if (ch !== undefined && /[-0-9]/.test(ch)) {
      const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
      if (!m || m[0] === '-') stop('bad number');
      i += m![0].length;
    } else {
      for (const lit of ['true', 'false', 'null']) {
        if (text.startsWith(lit, i)) {
          i += lit.length;
          return;
        }
      }
      stop(`unexpected ${JSON.stringify(ch ?? '')}`);
    }
  };
  try {
    value();
    ws();
    if (i < text.length) stop('unexpected content after the value');
  } catch (err) {
    if (err instanceof Stop) return { offset: err.offset, message: err.message };
    throw err;
  }
  return { offset: text.length, message: 'invalid JSON' };
}
