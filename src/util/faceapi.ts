import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';

/**
 * face-api through its node-wasm build (tfjs-node cannot install here): the WASM backend,
 * with its binaries from the installed package, models from face-api's own model/ folder.
 * One copy per process or worker thread: the WASM backend is single-threaded.
 */
const require = createRequire(import.meta.url);
export type FaceApi = typeof import('@vladmandic/face-api');
export type FaceApiNet = 'ssdMobilenetv1' | 'faceLandmark68Net' | 'faceRecognitionNet' | 'ageGenderNet';

const FACE_API_DIR = path.dirname(require.resolve('@vladmandic/face-api/package.json'));
export const FACE_API_MODEL_DIR = path.join(FACE_API_DIR, 'model');
export const FACE_API_DEMO_DIR = path.join(FACE_API_DIR, 'demo');

let ready: Promise<FaceApi> | undefined;

async function init(): Promise<FaceApi> {
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');
  const wasmDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  wasm.setWasmPaths(wasmDir + path.sep);
  // the bundle requires this same @tensorflow/tfjs instance, so the backend set here is the one it uses
  const tf = require('@tensorflow/tfjs') as typeof import('@tensorflow/tfjs');
  const faceapi = require(path.join(FACE_API_DIR, 'dist', 'face-api.node-wasm.js')) as FaceApi;
  await tf.setBackend('wasm');
  await tf.ready();
  return faceapi;
}

/** The face-api module with the named nets loaded (each loaded once per process). */
export async function loadFaceApi(nets: readonly FaceApiNet[]): Promise<FaceApi> {
  ready ??= init();
  const faceapi = await ready;
  for (const net of nets) {
    if (!faceapi.nets[net].isLoaded) await faceapi.nets[net].loadFromDisk(FACE_API_MODEL_DIR);
  }
  return faceapi;
}

/** Decoded RGB pixels, 8 bits per channel, row-major. */
export interface RgbImage {
  data: Buffer;
  width: number;
  height: number;
}

/** Decode with sharp, EXIF orientation applied, alpha dropped: the coordinates every stage uses. */
export async function decodeRgb(input: string | Buffer): Promise<RgbImage> {
  const { data, info } = await sharp(input, { failOn: 'error' }).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** An int32 [h, w, 3] tensor of an image, as face-api's nets take it. */
export function imageTensor(faceapi: FaceApi, img: RgbImage): import('@vladmandic/face-api').tf.Tensor3D {
  return faceapi.tf.tensor3d(new Int32Array(img.data), [img.height, img.width, 3], 'int32');
}
