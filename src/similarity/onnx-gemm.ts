/**
 * A block of dot products A · Bᵀ on onnxruntime's CPU GEMM (MLAS: SIMD, all cores), for the
 * leave-one-out identification of 100,000 images, which plain JS loops take an hour to score.
 * The one-node ONNX model (Gemm, transB = 1) is encoded here by hand: a few protobuf fields
 * (also used by bench/bin-read.ts for a model whose time is negligible).
 */
import type { InferenceSession } from 'onnxruntime-node';
import type { BlockProduct } from './block-product.js';

// protobuf wire encoding: varint (type 0) and length-delimited (type 2) fields only
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}
const int = (field: number, v: number): number[] => [...varint(field << 3), ...varint(v)];
const bytes = (field: number, b: number[] | Uint8Array): number[] => [...varint((field << 3) | 2), ...varint(b.length), ...b];
const str = (field: number, s: string): number[] => bytes(field, new TextEncoder().encode(s));

/** ValueInfoProto of a float tensor; a dimension is a size (dim_value) or a name (dim_param). */
function floatTensor(name: string, dims: (string | number)[]): number[] {
  const shape = dims.flatMap((d) => bytes(1, typeof d === 'number' ? int(1, d) : str(2, d))); // TensorShapeProto.dim
  const tensorType = [...int(1, 1), ...bytes(2, shape)]; // elem_type FLOAT, shape
  return [...str(1, name), ...bytes(2, bytes(1, tensorType))]; // name, type { tensor_type }
}

/** One node of a hand-made graph: integer attributes only. */
export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  ints?: Record<string, number>;
}

/** ModelProto bytes (opset 13) of float tensors in, float tensors out; dimensions are names (symbolic) or sizes. */
export function onnxModelBytes(nodes: readonly OnnxNode[], inputs: Record<string, (string | number)[]>, outputs: Record<string, (string | number)[]>): Uint8Array {
  const node = (n: OnnxNode, k: number) => [
    ...n.inputs.flatMap((i) => str(1, i)),
    ...n.outputs.flatMap((o) => str(2, o)),
    ...str(3, `n${k}`),
    ...str(4, n.op),
    ...Object.entries(n.ints ?? {}).flatMap(([name, v]) => bytes(5, [...str(1, name), ...int(3, v), ...int(20, 2)])), // AttributeProto INT
  ];
  const graph = [
    ...nodes.flatMap((n, k) => bytes(1, node(n, k))),
    ...str(2, 'ecaf'),
    ...Object.entries(inputs).flatMap(([name, dims]) => bytes(11, floatTensor(name, dims))),
    ...Object.entries(outputs).flatMap(([name, dims]) => bytes(12, floatTensor(name, dims))),
  ];
  return Uint8Array.from([...int(1, 7), ...str(2, 'ecaf'), ...bytes(7, graph), ...bytes(8, [...str(1, ''), ...int(2, 13)])]);
}

/** Y[m, n] = Gemm(A[m, k], B[n, k], transB = 1). */
export const gemmModelBytes = (): Uint8Array => onnxModelBytes([{ op: 'Gemm', inputs: ['A', 'B'], outputs: ['Y'], ints: { transB: 1 } }], { A: ['m', 'k'], B: ['n', 'k'] }, { Y: ['m', 'n'] });

/** A BlockProduct on onnxruntime's CPU provider; `close()` releases the session. */
export async function openOnnxBlockProduct(opts: { threads?: number } = {}): Promise<{ product: BlockProduct; close: () => Promise<void> }> {
  const ort = await import('onnxruntime-node');
  const session: InferenceSession = await ort.InferenceSession.create(gemmModelBytes(), {
    executionProviders: ['cpu'],
    ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
  });
  const product: BlockProduct = async (a, rows, b, cols, dim) => {
    const out = await session.run({
      A: new ort.Tensor('float32', a.subarray(0, rows * dim), [rows, dim]),
      B: new ort.Tensor('float32', b.subarray(0, cols * dim), [cols, dim]),
    });
    return out.Y!.data as Float32Array;
  };
  return { product, close: () => session.release() };
}
