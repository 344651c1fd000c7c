/**
 * The one interface every model kind sits behind (builtin face-api, ONNX, PyTorch worker):
 * a batch of preprocessed images in, one raw embedding per image out. Flip augmentation,
 * normalisation and caching are done by the caller, once, for all kinds.
 */

/** How an aligned RGB face becomes the model's float input. */
export interface Preprocessing {
  /** Square input side in pixels (the aligned face is resized to it). */
  size: number;
  /** Per channel, in the model's channel order: value = (pixel / 255 - mean) / std. */
  mean: [number, number, number];
  std: [number, number, number];
  /** Feed channels as B, G, R instead of R, G, B. */
  bgr: boolean;
  /** Memory layout of one image: channels first (PyTorch, most ONNX) or last (tfjs). */
  layout: 'nchw' | 'nhwc';
}

/** How the two views of flip test-time augmentation are combined into one embedding. */
export type FlipRule =
  /** MTLFace's `encode`: normalise each view, add, normalise. */
  | 'mtlface'
  /** insightface's `verification.py`: add the raw outputs, normalise. */
  | 'insightface';

export interface EmbedderInfo {
  kind: 'builtin' | 'onnx' | 'torch';
  /** What the report names as the model: a file name or "builtin". */
  model: string;
  /** Where it runs, as reported: "cpu", "cuda", "cuda (fp16)". */
  device: string;
  /** Rule used when flip augmentation is on. */
  flipRule: FlipRule;
  /** Anything else worth reporting (detected architecture, input name, ...). */
  details: Record<string, string | number>;
  /** Identifies the weights for the embedding cache: a hash of the model file, or a fixed name. */
  weightsKey: string;
  /** Arithmetic of the forward pass: fp16 embeddings differ from fp32 ones, so they are cached apart. */
  precision: 'fp32' | 'fp16';
}

/** What some models estimate beside the identity, per image of a batch. */
export interface FaceEstimates {
  /** Age in years, one per image (NaN: the model has no age head). */
  age: Float32Array;
  /** Probability that the face is male, one per image (NaN: no gender head). */
  male: Float32Array;
  /** Logits of MTLFace's 7 age groups, 7 per image (absent: no group head). */
  ageGroupLogits?: Float32Array;
}

/** Which estimates an embedder gives (an embedder without any has no `estimates`). */
export interface EstimateHeads {
  age: boolean;
  gender: boolean;
  ageGroups: boolean;
  /** Identifies the weights behind the estimates (cached apart from the embeddings). */
  weightsKey: string;
}

export interface Embedder {
  readonly info: EmbedderInfo;
  readonly preprocessing: Preprocessing;
  /** Embedding length. */
  readonly dim: number;
  /**
   * Embed `n` images laid out back to back in `input` (n * 3 * size * size floats, in
   * `preprocessing.layout`); resolves to n * dim floats, unnormalised.
   */
  embed(input: Float32Array, n: number): Promise<Float32Array>;
  /** The model's heads beside the embedding (age, gender), when it has any. */
  readonly estimates?: EstimateHeads;
  /**
   * `embed` plus each image's estimates, from the same forward pass where the model allows.
   * Only the first `originals` images (default n) need them, the rest being mirror images: a
   * model whose estimates cost a separate network may leave those NaN.
   */
  embedAndEstimate?(input: Float32Array, n: number, originals?: number): Promise<{ embeddings: Float32Array; estimates: FaceEstimates }>;
  close(): Promise<void>;
}
