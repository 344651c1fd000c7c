import { createReadStream } from 'node:fs';

/**
 * Streams the top-level entries of a JSON array or object without holding the file in memory:
 * each element's bytes are cut out by a byte scanner and parsed alone, so a 1,000,000-record
 * data.json costs the memory of one record, and a syntax error is reported with line and column.
 */
export interface TopLevelEntry {
  /** Position among the top-level entries. */
  index: number;
  /** The key, for the object form. */
  key?: string;
  value: unknown;
  /** 1-based line and column where the entry's value starts. */
  line: number;
  column: number;
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

export async function* streamTopLevel(
  file: string,
  onForm?: (form: TopLevelForm) => void,
): AsyncGenerator<TopLevelEntry> {
  let state: S = S.Start;
  let form: TopLevelForm = 'array';
  let line = 1;
  let col = 0; // column of the byte being read, 1-based after increment
  let index = 0;
  // collection of the current key or value
  let parts: Buffer[] = [];
  let collecting = false;
  let depth = 0;
  let inString = false;
  let escape = false;
  let startLine = 0;
  let startCol = 0;
  let key: string | undefined;
  let keyLine = 0;
  let keyCol = 0;
  let first = true;

  const fail = (detail: string): never => {
    throw new JsonSyntaxError(file, line, col, detail);
  };
  const finishText = (chunk: Buffer, end: number, begin: number): string => {
    parts.push(chunk.subarray(begin, end));
    const text = Buffer.concat(parts).toString('utf8');
    parts = [];
    collecting = false;
    return text;
  };
  const parseAt = (text: string, l: number, c: number): unknown => {
    try {
      return JSON.parse(text);
    } catch {
      const where = locateJsonError(text);
      const pos = advance(text, where.offset, l, c);
      throw new JsonSyntaxError(file, pos.line, pos.column, where.message);
    }
  };

  const stream = createReadStream(file, { highWaterMark: 1 << 20 });
  for await (const chunkAny of stream) {
    const chunk = chunkAny as Buffer;
    let begin = 0; // start of the collected part within this chunk
    let i = 0;
    if (first) {
      first = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) i = 3; // UTF-8 BOM
    }
    for (; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b === 0x0a) {
        line++;
        col = 0;
      } else if ((b & 0xc0) !== 0x80) {
        col++;
      }
      switch (state) {
        case S.Start:
          if (WS[b]) continue;
          if (b === 0x5b) form = 'array';
          else if (b === 0x7b) form = 'object';
          else fail('data.json must be a JSON array of records or an object whose keys are the ids');
          onForm?.(form);
          state = S.ExpectFirst;
          continue;
        case S.ExpectFirst:
        case S.ExpectEntry:
          if (WS[b]) continue;
          if (state === S.ExpectFirst && b === (form === 'array' ? 0x5d : 0x7d)) {
            state = S.End;
            continue;
          }
          if (form === 'object') {
            if (b !== 0x22) fail('expected a string key');
            state = S.InKey;
            collecting = true;
            begin = i;
            keyLine = line;
            keyCol = col;
            inString = true;
            escape = false;
            continue;
          }
          state = S.InValue;
          break; // fall into value start below
        case S.InKey:
          if (escape) escape = false;
          else if (b === 0x5c) escape = true;
          else if (b === 0x22) {
            key = parseAt(finishText(chunk, i + 1, begin), keyLine, keyCol) as string;
            state = S.AfterKey;
          } else if (b < 0x20) fail('control character in a key');
          continue;
        case S.AfterKey:
          if (WS[b]) continue;
          if (b !== 0x3a) fail("expected ':' after the key");
          state = S.ExpectValue;
          continue;
        case S.ExpectValue:
          if (WS[b]) continue;
          state = S.InValue;
          break;
        case S.InValue:
          if (inString) {
            if (escape) escape = false;
            else if (b === 0x5c) escape = true;
            else if (b === 0x22) {
              inString = false;
              if (depth === 0) {
                yield { index: index++, key, value: parseAt(finishText(chunk, i + 1, begin), startLine, startCol), line: startLine, column: startCol };
                state = S.AfterValue;
              }
            }
            continue;
          }
          if (b === 0x22) inString = true;
          else if (b === 0x7b || b === 0x5b) depth++;
          else if (b === 0x7d || b === 0x5d) {
            if (depth === 0) {
              // a primitive ended by the container's closing bracket
              yield { index: index++, key, value: parseAt(finishText(chunk, i, begin), startLine, startCol), line: startLine, column: startCol };
              if (b !== (form === 'array' ? 0x5d : 0x7d)) fail('mismatched closing bracket');
              state = S.End;
              continue;
            }
            depth--;
            if (depth === 0) {
              yield { index: index++, key, value: parseAt(finishText(chunk, i + 1, begin), startLine, startCol), line: startLine, column: startCol };
              state = S.AfterValue;
            }
          } else if (depth === 0 && (WS[b] || b === 0x2c)) {
            yield { index: index++, key, value: parseAt(finishText(chunk, i, begin), startLine, startCol), line: startLine, column: startCol };
            state = S.AfterValue;
            if (b === 0x2c) state = S.ExpectEntry;
          }
          continue;
        case S.AfterValue:
          if (WS[b]) continue;
          if (b === 0x2c) state = S.ExpectEntry;
          else if (b === (form === 'array' ? 0x5d : 0x7d)) state = S.End;
          else fail(form === 'array' ? "expected ',' or ']' after a record" : "expected ',' or '}' after a record");
          continue;
        case S.End:
          if (!WS[b]) fail('unexpected content after the end of the top-level value');
          continue;
      }
      // start of a value (reached only by `break` above)
      collecting = true;
      begin = i;
      startLine = line;
      startCol = col;
      depth = 0;
      escape = false;
      inString = b === 0x22;
      if (b === 0x7b || b === 0x5b) depth = 1;
      else if (b === 0x7d || b === 0x5d || b === 0x2c) fail('expected a value');
    }
    if (collecting) parts.push(chunk.subarray(begin));
  }
  if (state === S.Start) throw new JsonSyntaxError(file, line, col, 'the file is empty');
  if (state !== S.End) throw new JsonSyntaxError(file, line, col, 'unexpected end of file');
}

/** Line and column reached after reading `offset` characters of `text` from (line, col). */
function advance(text: string, offset: number, line: number, col: number): { line: number; column: number } {
  let l = line;
  let c = col;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      l++;
      c = 1;
    } else c++;
  }
  return { line: l, column: c };
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
