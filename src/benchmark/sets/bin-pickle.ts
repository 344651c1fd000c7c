/**
 * insightface's verification `.bin` files (agedb_30.bin, lfw.bin, calfw.bin, cplfw.bin,
 * cfp_fp.bin): a pickle of `(bins, issame_list)`, images 2k and 2k+1 being pair k.
 *
 * A reader of exactly that structure, written here rather than taken from npm: pickle is a
 * program for a stack machine, and a general reader would have to resolve globals; this one
 * executes nothing, knows one global (`_codecs.encode`, how Python 3 protocol 2 writes bytes)
 * and refuses every other opcode, global and shape (docs/benchmark-sets.md).
 */
import { UsageError } from '../../util/errors.js';

/** The file is not a `.bin` set this reader accepts: the CLI exits 2. */
export class BinFormatError extends UsageError {
  override name = 'BinFormatError';
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly detail: string,
  ) {
    super(`${file}: not an insightface .bin pair set at byte ${offset}: ${detail}`);
  }
}

export interface BinSet {
  /** The encoded images (JPEG or PNG) as views into the file's buffer; 2k and 2k+1 are pair k. */
  images: Buffer[];
  /** `issame_list`: pair k shows one person. */
  same: boolean[];
}

/** A pickled str/unicode: its UTF-8 bytes, decoded only when needed. */
class Text {
  constructor(readonly utf8: Buffer) {}
}
/** The only callable a file may name. */
class CodecsEncode {}
class Mark {}
class Tuple {
  constructor(readonly items: Value[]) {}
}
type Value = Buffer | Text | boolean | number | Value[] | Tuple | CodecsEncode | Mark;

const MARK = new Mark();
const CODECS_ENCODE = new CodecsEncode();
const LATIN1_NAMES = new Set(['latin1', 'latin-1', 'iso-8859-1', 'iso8859-1']);

/**
 * `str.encode('latin1')` of a pickled text, straight from its UTF-8 bytes: Python 3 writes a
 * bytes object b as `_codecs.encode(b.decode('latin1'), 'latin1')`, so every code point is < 256.
 */
function latin1FromUtf8(u: Buffer, fail: (why: string) => never): Buffer {
  let ascii = true;
  for (let i = 0; i < u.length; i++) {
    if (u[i]! >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return u;
  const out = Buffer.allocUnsafe(u.length);
  let n = 0;
  for (let i = 0; i < u.length; i++) {
    const c = u[i]!;
    if (c < 0x80) out[n++] = c;
    else if ((c === 0xc2 || c === 0xc3) && i + 1 < u.length && (u[i + 1]! & 0xc0) === 0x80) out[n++] = ((c & 0x03) << 6) | (u[++i]! & 0x3f);
    else fail('a latin1 string holds a character above U+00FF');
  }
  return out.subarray(0, n);
}

/** Parse a `.bin` set from its bytes; `file` names it in errors. Images are views into `buf` (no copies unless protocol 2 latin1 text needs one). */
export function parseBinSet(buf: Buffer, file: string): BinSet {
  const stack: Value[] = [];
  const memo = new Map<number, Value>();
  let pos = 0;
  let op = 0;
  const fail = (why: string): never => {
    throw new BinFormatError(file, op, why);
  };
  const need = (n: number): number => {
    if (pos + n > buf.length) fail(`the file ends inside an opcode (needs ${n} more bytes)`);
    const at = pos;
    pos += n;
    return at;
  };
  const u8 = () => buf[need(1)]!;
  const u32 = () => buf.readUInt32LE(need(4));
  const u64 = (): number => {
    const v = buf.readBigUInt64LE(need(8));
    if (v > BigInt(buf.length)) fail(`a length of ${v} bytes is larger than the file`);
    return Number(v);
  };
  const bytes = (n: number) => buf.subarray(need(n), pos);
  const line = (): string => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) fail('a text argument has no end of line');
    const s = buf.toString('latin1', pos, end);
    pos = end + 1;
    return s;
  };
  const pop = (): Value => {
    const v = stack.pop();
    if (v === undefined || v === MARK) fail('the stack is empty where a value is needed');
    return v!;
  };
  const popMark = (): Value[] => {
    let k = stack.length - 1;
    while (k >= 0 && stack[k] !== MARK) k--;
    if (k < 0) fail('no MARK before a LIST/APPENDS/TUPLE');
    const items = stack.splice(k);
    return items.slice(1);
  };
  const top = (): Value => {
    if (!stack.length) fail('the stack is empty where a value is needed');
    return stack[stack.length - 1]!;
  };
  const global = (module: string, name: string): void => {
    if (module !== '_codecs' || name !== 'encode') fail(`refused global ${module}.${name}: only _codecs.encode (Python 3 bytes) is allowed`);
    stack.push(CODECS_ENCODE);
  };
  const text = (v: Value): string => (v instanceof Text ? v.utf8.toString('utf8') : fail('expected a string'));

  // protocol 2+ files open with PROTO, protocol 0/1 tuples with MARK or EMPTY_LIST
  if (![0x80, 0x28, 0x5d].includes(buf[0] ?? -1)) fail('the file does not start like a pickle (byte 0x80, the protocol opcode)');
  for (;;) {
    op = pos;
    const code = u8();
    switch (code) {
      case 0x80: // PROTO
        if (u8() > 5) fail('pickle protocol above 5');
        break;
      case 0x95: // FRAME: a length hint only
        u64();
        break;
      case 0x2e: {
        // STOP
        return shape(pop(), fail);
      }
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push(new Tuple([]));
        break;
      case 0x6c: // LIST
        stack.push(popMark());
        break;
      case 0x74: // TUPLE
        stack.push(new Tuple(popMark()));
        break;
      case 0x85: // TUPLE1
        stack.push(new Tuple([pop()]));
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push(new Tuple([pop(), b]));
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(new Tuple([pop(), b, c]));
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop();
        const l = top();
        if (!Array.isArray(l)) fail('APPEND to something that is not a list');
        (l as Value[]).push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const l = top();
        if (!Array.isArray(l)) fail('APPENDS to something that is not a list');
        for (const v of items) (l as Value[]).push(v);
        break;
      }
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x49: {
        // INT: protocol 0/1 writes True / False as I01 / I00
        const s = line();
        if (s === '01') stack.push(true);
        else if (s === '00') stack.push(false);
        else if (/^-?\d{1,9}$/.test(s)) stack.push(Number(s));
        else fail(`INT ${JSON.stringify(s)}`);
        break;
      }
      case 0x54: // BINSTRING (Python 2 str)
      case 0x42: // BINBYTES
        stack.push(bytes(u32()));
        break;
      case 0x55: // SHORT_BINSTRING (Python 2 str)
      case 0x43: // SHORT_BINBYTES
        stack.push(bytes(u8()));
        break;
      case 0x8e: // BINBYTES8
        stack.push(bytes(u64()));
        break;
      case 0x58: // BINUNICODE
        stack.push(new Text(bytes(u32())));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(new Text(bytes(u8())));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(new Text(bytes(u64())));
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        global(module, line());
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = text(pop());
        global(text(pop()), name);
        break;
      }
      case 0x52: {
        // REDUCE: only _codecs.encode(text, 'latin1')
        const args = pop();
        const fn = pop();
        if (fn !== CODECS_ENCODE) fail('REDUCE of something other than _codecs.encode');
        if (!(args instanceof Tuple) || args.items.length !== 2 || !(args.items[0] instanceof Text) || !(args.items[1] instanceof Text)) fail('_codecs.encode takes (string, encoding) here');
        const [s, enc] = (args as Tuple).items as [Text, Text];
        if (!LATIN1_NAMES.has(enc.utf8.toString('latin1').toLowerCase())) fail(`_codecs.encode with encoding ${JSON.stringify(enc.utf8.toString('utf8'))}: only latin1 is how bytes are pickled`);
        stack.push(latin1FromUtf8(s.utf8, fail));
        break;
      }
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const k = code === 0x68 ? u8() : u32();
        const v = memo.get(k);
        if (v === undefined) fail(`memo entry ${k} was never stored`);
        stack.push(v!);
        break;
      }
      default:
        fail(`opcode 0x${code.toString(16).padStart(2, '0')} (${JSON.stringify(String.fromCharCode(code))}) is not part of the (bins, issame_list) structure`);
    }
  }
}

/** The unpickled value must be (list of bytes, list of bools) with two images per label. */
function shape(v: Value, fail: (why: string) => never): BinSet {
  const items = v instanceof Tuple ? v.items : Array.isArray(v) ? v : fail('the pickle holds no (bins, issame_list) pair');
  if (items.length !== 2) fail(`expected (bins, issame_list), found ${items.length} items`);
  const [bins, labels] = items as [Value, Value];
  if (!Array.isArray(bins)) fail('bins is not a list');
  if (!Array.isArray(labels)) fail('issame_list is not a list');
  const images = (bins as Value[]).map((b, i) => (Buffer.isBuffer(b) ? b : fail(`bins[${i}] is not bytes`)));
  const same = (labels as Value[]).map((l, i) => (typeof l === 'boolean' ? l : l === 0 || l === 1 ? l === 1 : fail(`issame_list[${i}] is not a boolean`)));
  if (images.length !== 2 * same.length) fail(`${images.length} images for ${same.length} labels: expected two images per pair`);
  if (!same.length) fail('no pairs');
  return { images, same };
}
