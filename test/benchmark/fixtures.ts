import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { FACE_API_DEMO_DIR } from '../../src/util/faceapi.js';
import { PYTHON } from '../helpers/python.js';
import { sharedFiles } from '../helpers/run-dir.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** What tiny_onnx.py imports: tests of its model run inside describeWithPython(TINY_ONNX_MODULES). */
export const TINY_ONNX_MODULES = ['numpy', 'torch'] as const;

/** tiny.onnx, tiny_b1.onnx, input.bin and torch_out.bin in `dir`, made by real PyTorch (tiny_onnx.py) once per test run. */
export function makeTinyOnnx(dir: string): void {
  sharedFiles('tiny-onnx', dir, (folder) => {
    const run = spawnSync(PYTHON, [path.join(HERE, 'tiny_onnx.py'), folder], { encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`tiny_onnx.py failed: ${run.stderr}`);
  });
}

/** A small ECAF root: 4 people x (2 child + 2 adult photos) of synthetic 40x40 "faces". */
export async function makeRoot(root: string): Promise<void> {
  const mtcnn = path.join(root, 'image_data', 'img_mtcnn');
  await fs.mkdir(mtcnn, { recursive: true });
  await fs.mkdir(path.join(root, 'image_pairs'));
  const records: object[] = [];
  let seed = 3;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let p = 0; p < 4; p++) {
    const base = Buffer.alloc(40 * 40 * 3);
    for (let i = 0; i < base.length; i++) base[i] = Math.floor(rand() * 256);
    for (const [group, ages] of [['child', [5, 8]], ['adult', [25, 41]]] as const) {
      for (let k = 0; k < 2; k++) {
        const id = `P${p}_${group}_${k + 1}`;
        const px = Buffer.from(base.map((v) => Math.max(0, Math.min(255, v + Math.floor((rand() - 0.5) * 60)))));
        await sharp(px, { raw: { width: 40, height: 40, channels: 3 } }).jpeg({ quality: 95 }).toFile(path.join(mtcnn, `${id}.jpg`));
        records.push({ id, url: `http://example.org/${id}.jpg`, age: ages[k], identity: `P${p}` });
      }
    }
  }
  await fs.writeFile(path.join(root, 'image_data', 'data.json'), JSON.stringify(records));
  // children protocol, 2 folds of 4 positives then 4 negatives; one pair names an image that is not there
  const lines: string[] = [];
  for (let f = 0; f < 2; f++) {
    for (let p = 0; p < 4; p++) lines.push(`P${p}_child_${f + 1}.jpg P${p}_adult_${f + 1}.jpg 1`);
    for (let p = 0; p < 4; p++) lines.push(`P${p}_child_${f + 1}.jpg ${p === 3 && f === 1 ? 'P9_adult_1.jpg' : `P${(p + 1) % 4}_adult_${2 - f}.jpg`} -1`);
  }
  await fs.writeFile(path.join(root, 'image_pairs', 'children.txt'), lines.join('\n') + '\n');
  await fs.writeFile(path.join(root, 'image_pairs', 'children.json'), JSON.stringify({ protocol: 'children', foldSize: 8, parameters: { childMaxAge: 10, adultMinAge: 20 } }));
}


/** A root of 40 copies of face-api's demo photos as "aligned" faces and a 20-pair list, image_pairs/demo.txt. */
export async function makeDemoPhotoRoot(root: string): Promise<void> {
  const mtcnn = path.join(root, 'image_data', 'img_mtcnn');
  await fs.mkdir(mtcnn, { recursive: true });
  await fs.mkdir(path.join(root, 'image_pairs'));
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) {
    await fs.symlink(path.join(FACE_API_DEMO_DIR, `sample${(i % 6) + 1}.jpg`), path.join(mtcnn, `f${i}.jpg`));
    if (i % 2) lines.push(`f${i - 1}.jpg f${i}.jpg ${i % 4 === 1 ? 1 : -1}`);
  }
  await fs.writeFile(path.join(root, 'image_pairs', 'demo.txt'), lines.join('\n') + '\n');
}
