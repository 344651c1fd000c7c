/**
 * npm run bench:ffhq: seconds per face of FFHQ's step 6 (transform onto the 4x square, Lanczos
 * shrink to the output), as align did it before (every sample of the 4096x4096 square, then
 * libvips' Lanczos 3 shrink) and as the fused pass of src/align/warp.ts does it now (at the samples
 * per pixel ffhqSamples chooses), on the faces face-api finds in its demo photos and in
 * ../shared/data/people (ECAF_SHARED_DATA or that default). Also: how far the outputs differ, from
 * each other, from the fused pass at the full 4x density, and with --pil from the independent
 * PIL/numpy/scipy reference of test/align/ffhq_reference.py.
 * Options: --ffhq-size N (1024) --pil --max-photos N (all) --samples K (every face at K samples per pixel
 * instead of ffhqSamples' choice: times each density on the same faces)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FaceDetector } from '../dist/align/detect.js';
import { ffhqKeyPointsFrom68, ffhqPlan, ffhqQuad, type FfhqKeyPoints } from '../dist/align/ffhq.js';
import { ffhqSource, quadInverse, resizeRgb } from '../dist/align/ffhq-image.js';
import { transformResize } from '../dist/align/warp.js';
import { decodeRgb, FACE_API_DEMO_DIR, type RgbImage } from '../dist/util/faceapi.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}
const SIZE = Number(arg('ffhq-size', '1024'));
const TRANSFORM = 4 * SIZE;
const WITH_PIL = process.argv.includes('--pil');
const MAX_PHOTOS = Number(arg('max-photos', 'Infinity'));
const SAMPLES = process.argv.includes('--samples') ? Number(arg('samples', '')) : null;
const SHARED = process.env.ECAF_SHARED_DATA ?? path.join(ROOT, '..', 'shared', 'data');
const PYTHON = '/usr/bin/python3';
const REFERENCE = path.join(ROOT, 'test', 'align', 'ffhq_reference.py');

interface Face {
  file: string;
  keys: FfhqKeyPoints;
}

async function photos(): Promise<string[]> {
  const files = Array.from({ length: 6 }, (_, i) => path.join(FACE_API_DEMO_DIR, `sample${i + 1}.jpg`));
  const people = path.join(SHARED, 'people');
  if (existsSync(people)) {
    for (const n of (await fs.readdir(people)).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort()) files.push(path.join(people, n));
  } else {
    process.stderr.write(`(no ${people}: set ECAF_SHARED_DATA to include it)\n`);
  }
  return files.slice(0, MAX_PHOTOS);
}

async function faces(files: string[]): Promise<Face[]> {
  const detector = await FaceDetector.create();
  const out: Face[] = [];
  for (const file of files) {
    const img = await decodeRgb(file);
    for (const d of await detector.detect(img)) {
      const lm = await detector.landmarks(img, d.box);
      if (lm) out.push({ file, keys: ffhqKeyPointsFrom68(lm) });
    }
  }
  return out;
}

/** Wall and process CPU seconds (CPU counts libvips' threads too) of one call. */
async function timed<T>(f: () => T | Promise<T>): Promise<{ value: T; wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await f();
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1e6 };
}

function diff(a: Buffer, b: Buffer): { max: number; mean: number } {
  let max = 0, sum = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    sum += d;
    if (d > max) max = d;
  }
  return { max, mean: sum / a.length };
}

async function pil(face: Face, dir: string): Promise<RgbImage> {
  const points = path.join(dir, 'points.json');
  const out = path.join(dir, 'ref.png');
  const k = face.keys;
  await fs.writeFile(points, JSON.stringify({ eye_left: k.eyeLeft, eye_right: k.eyeRight, mouth_left: k.mouthLeft, mouth_right: k.mouthRight }));
  const r = spawnSync(PYTHON, [REFERENCE, face.file, points, String(SIZE), String(TRANSFORM), out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${REFERENCE} failed on ${face.file}: ${r.stderr}`);
  return decodeRgb(out);
}

interface Row {
  samples: number;
  spacing: number;
  old: { wall: number; cpu: number };
  fused: { wall: number; cpu: number };
  vsOld: { max: number; mean: number };
  vsExact: { max: number; mean: number } | null;
  pilOld?: { max: number; mean: number };
  pilFused?: { max: number; mean: number };
}

async function main(): Promise<void> {
  const load0 = os.loadavg();
  const list = await faces(await photos());
  process.stderr.write(`${list.length} faces\n`);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ecaf-bench-ffhq-'));
  const rows: Row[] = [];
  try {
    for (const [i, face] of [list[0]!, ...list].entries()) {
      const img = await decodeRgb(face.file);
      const plan = ffhqPlan(ffhqQuad(face.keys), img.width, img.height, SIZE, TRANSFORM);
      const source = await ffhqSource(img, plan);
      const inverse = quadInverse(plan.quad, TRANSFORM);
      // before: every sample of the transform square (PIL's bilinear, truncated), then libvips' Lanczos 3 shrink
      const old = await timed(async () => resizeRgb(transformResize(source, inverse, TRANSFORM, TRANSFORM, 1), SIZE, SIZE));
      const samples = SAMPLES ?? plan.samples;
      const fused = await timed(() => transformResize(source, inverse, SIZE, TRANSFORM, samples));
      if (i === 0) continue; // the first face once more, untimed: JIT warm-up
      const exact = samples < TRANSFORM / SIZE ? transformResize(source, inverse, SIZE, TRANSFORM, TRANSFORM / SIZE) : null;
      const row: Row = {
        samples,
        spacing: plan.qsize / SIZE,
        old: { wall: old.wall, cpu: old.cpu },
        fused: { wall: fused.wall, cpu: fused.cpu },
        vsOld: diff(fused.value.data, old.value.data),
        vsExact: exact ? diff(fused.value.data, exact.data) : null,
      };
      if (WITH_PIL) {
        const ref = await pil(face, dir);
        row.pilOld = diff(old.value.data, ref.data);
        row.pilFused = diff(fused.value.data, ref.data);
      }
      rows.push(row);
      process.stderr.write(`${i}/${list.length} ${path.basename(face.file)} k=${row.samples} old ${old.wall.toFixed(3)} s fused ${fused.wall.toFixed(3)} s\n`);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  const load1 = os.loadavg();

  const groups = [...new Set(rows.map((r) => r.samples))].sort().map((k) => ({ name: `${k}`, rows: rows.filter((r) => r.samples === k) }));
  groups.push({ name: 'all', rows });
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const f3 = (x: number): string => x.toFixed(3);
  const agg = (rs: Row[], pick: (r: Row) => { max: number; mean: number } | null | undefined): string => {
    const ds = rs.map(pick).filter((d): d is { max: number; mean: number } => Boolean(d));
    return ds.length ? `${Math.max(...ds.map((d) => d.max))} / ${f3(mean(ds.map((d) => d.mean)))}` : '-';
  };
  console.log(`FFHQ step 6 at ${SIZE} (transform ${TRANSFORM}), ${rows.length} faces; load average ${load0.map((l) => l.toFixed(1)).join(' ')} before, ${load1.map((l) => l.toFixed(1)).join(' ')} after; ${os.cpus().length} cores\n`);
  const pilCols = WITH_PIL ? ' old - PIL max / mean | fused - PIL max / mean |' : '';
  console.log(`| samples per pixel | faces | source px per output px | old s/face (CPU) | fused s/face (CPU) | speed-up (CPU) | fused - old max / mean | fused - full density max / mean |${pilCols}`);
  console.log(`|---|---|---|---|---|---|---|---|${WITH_PIL ? '---|---|' : ''}`);
  for (const g of groups) {
    if (!g.rows.length) continue;
    const sp = g.rows.map((r) => r.spacing);
    const oldW = mean(g.rows.map((r) => r.old.wall)), oldC = mean(g.rows.map((r) => r.old.cpu));
    const newW = mean(g.rows.map((r) => r.fused.wall)), newC = mean(g.rows.map((r) => r.fused.cpu));
    const pilPart = WITH_PIL ? ` ${agg(g.rows, (r) => r.pilOld)} | ${agg(g.rows, (r) => r.pilFused)} |` : '';
    console.log(
      `| ${g.name} | ${g.rows.length} | ${f3(Math.min(...sp))}-${f3(Math.max(...sp))} | ${f3(oldW)} (${f3(oldC)}) | ${f3(newW)} (${f3(newC)}) | ${(oldW / newW).toFixed(1)}x (${(oldC / newC).toFixed(1)}x) | ${agg(g.rows, (r) => r.vsOld)} | ${agg(g.rows, (r) => r.vsExact)} |${pilPart}`,
    );
  }
}

await main();
