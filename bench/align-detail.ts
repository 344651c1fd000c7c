/**
 * bench:align's detail section (issue 21), one thread, CPU time per photo of face-api's demo photos:
 * MTCNN at detection size 1024 split into its three nets and the rest (pyramid and crop resizing,
 * boxes), JavaScript against SIMD kernels; FFHQ's step per face at 512 and 1024, both kernels;
 * P-Net once per pyramid level against the same levels packed into one tensor; R-Net/O-Net in
 * batches of several sizes; 1 and 2 intra-op threads.
 */
import { detectionImage, FaceDetector, MTCNN_SETTINGS } from '../dist/align/detect.js';
import { ffhqKeyPointsFrom5 } from '../dist/align/ffhq.js';
import { alignFfhq } from '../dist/align/ffhq-image.js';
import { levelSize, pyramidScales } from '../dist/align/mtcnn/boxes.js';
import { mtcnnFaces } from '../dist/align/mtcnn/detect.js';
import { openMtcnnNets, type MtcnnNets } from '../dist/align/mtcnn/nets.js';
import { packRgb, resizeToInput } from '../dist/align/mtcnn/resample.js';
import { useSimd } from '../dist/align/simd/kernels.js';
import { decodeRgb, type RgbImage } from '../dist/util/faceapi.js';

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** The nets, each call's CPU added up per net, and how many crops R-Net and O-Net saw. */
function timed(nets: MtcnnNets) {
  const t = { pnet: 0, rnet: 0, onet: 0, pnetCalls: 0, rnetCrops: 0, onetCrops: 0 };
  const wrap: MtcnnNets = {
    async pnet(input, h, w) {
      const c = cpuMs();
      const out = await nets.pnet(input, h, w);
      t.pnet += cpuMs() - c;
      t.pnetCalls++;
      return out;
    },
    async rnet(input, n) {
      const c = cpuMs();
      const out = await nets.rnet(input, n);
      t.rnet += cpuMs() - c;
      t.rnetCrops += n;
      return out;
    },
    async onet(input, n) {
      const c = cpuMs();
      const out = await nets.onet(input, n);
      t.onet += cpuMs() - c;
      t.onetCrops += n;
      return out;
    },
  };
  return { t, wrap };
}

const ROUNDS = 3;

async function split(images: RgbImage[], nets: MtcnnNets): Promise<string[]> {
  const rows = ['| kernels | MTCNN ms per photo (CPU) | P-Net | R-Net | O-Net | the rest: resizing, boxes | faces | P-Net calls, R-Net / O-Net crops per photo |', '|---|---|---|---|---|---|---|---|'];
  const acc = { js: [] as number[][], simd: [] as number[][] };
  let info = '';
  // alternating rounds: both kernels see the same load
  for (let round = 0; round < ROUNDS; round++) {
    for (const kernels of ['js', 'simd'] as const) {
      useSimd(kernels === 'simd');
      const { t, wrap } = timed(nets);
      await mtcnnFaces(images[0]!, wrap, MTCNN_SETTINGS); // warm-up
      Object.assign(t, { pnet: 0, rnet: 0, onet: 0, pnetCalls: 0, rnetCrops: 0, onetCrops: 0 });
      let faces = 0;
      const c = cpuMs();
      for (const img of images) faces += (await mtcnnFaces(img, wrap, MTCNN_SETTINGS)).length;
      const all = (cpuMs() - c) / images.length, n = images.length;
      acc[kernels].push([all, t.pnet / n, t.rnet / n, t.onet / n, all - (t.pnet + t.rnet + t.onet) / n, faces]);
      info = `${(t.pnetCalls / n).toFixed(1)}, ${(t.rnetCrops / n).toFixed(0)} / ${(t.onetCrops / n).toFixed(0)}`;
    }
  }
  useSimd(true);
  for (const kernels of ['js', 'simd'] as const) {
    // the best round of each column: the least disturbed by other load
    const best = acc[kernels].reduce((a, b) => a.map((v, i) => Math.min(v, b[i]!)));
    rows.push(`| ${kernels} | ${best.slice(0, 5).map((v) => v.toFixed(1)).join(' | ')} | ${best[5]} | ${info} |`);
  }
  return rows;
}

/** P-Net's inputs of a photo's pyramid (SIMD resize). */
function levels(img: RgbImage): { input: Float32Array; w: number; h: number }[] {
  const packed = packRgb(img);
  return pyramidScales(img.width, img.height, MTCNN_SETTINGS.minFace).map((s) => {
    const [w, h] = levelSize(img.width, img.height, s);
    const input = new Float32Array(3 * w * h);
    resizeToInput(packed, { x: 0, y: 0, width: img.width, height: img.height }, w, h, input);
    return { input, w, h };
  });
}

/** The levels stacked into one tensor as wide as the first, 12 rows apart (cost only: the cells along the seams are not the levels' own). */
function packed(ls: { input: Float32Array; w: number; h: number }[]): { input: Float32Array; w: number; h: number } {
  const w = ls[0]!.w, h = ls.reduce((a, l) => a + l.h + 12, -12);
  const input = new Float32Array(3 * w * h);
  let y0 = 0;
  for (const l of ls) {
    for (let c = 0; c < 3; c++) for (let y = 0; y < l.h; y++) input.set(l.input.subarray((c * l.h + y) * l.w, (c * l.h + y + 1) * l.w), (c * h + y0 + y) * w);
    y0 += l.h + 12;
  }
  return { input, w, h };
}

async function pnetPacking(images: RgbImage[], nets: MtcnnNets): Promise<string[]> {
  const pyramids = images.map(levels);
  const per = { levels: Infinity, packed: Infinity };
  let pixels = { levels: 0, packed: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    let c = cpuMs();
    for (const ls of pyramids) for (const l of ls) await nets.pnet(l.input, l.h, l.w);
    per.levels = Math.min(per.levels, (cpuMs() - c) / images.length);
    const packs = pyramids.map(packed);
    c = cpuMs();
    for (const p of packs) await nets.pnet(p.input, p.h, p.w);
    per.packed = Math.min(per.packed, (cpuMs() - c) / images.length);
    pixels = { levels: pyramids.reduce((a, ls) => a + ls.reduce((b, l) => b + l.w * l.h, 0), 0) / images.length, packed: packs.reduce((a, p) => a + p.w * p.h, 0) / images.length };
  }
  return [
    '| P-Net | calls per photo | input pixels per photo | ms per photo (CPU) |',
    '|---|---|---|---|',
    `| one call per pyramid level (as align runs it) | ${(pyramids.reduce((a, ls) => a + ls.length, 0) / images.length).toFixed(1)} | ${(pixels.levels / 1e6).toFixed(2)} M | ${per.levels.toFixed(1)} |`,
    `| the levels packed into one tensor | 1 | ${(pixels.packed / 1e6).toFixed(2)} M | ${per.packed.toFixed(1)} |`,
  ];
}

async function batches(nets: MtcnnNets): Promise<string[]> {
  const rows = ['| net | crops | batch size | calls | ms for the crops (CPU) |', '|---|---|---|---|---|'];
  for (const [name, side, crops, sizes] of [['rnet', 24, 320, [16, 64, 160, 320]], ['onet', 48, 32, [8, 16, 32]]] as const) {
    const input = new Float32Array(crops * 3 * side * side).map((_, i) => ((i * 2654435761) % 255) / 128 - 1);
    for (const size of sizes) {
      let best = Infinity;
      for (let round = 0; round < ROUNDS; round++) {
        const c = cpuMs();
        for (let at = 0; at < crops; at += size) {
          const n = Math.min(size, crops - at);
          await nets[name](input.subarray(at * 3 * side * side, (at + n) * 3 * side * side), n);
        }
        best = Math.min(best, cpuMs() - c);
      }
      rows.push(`| ${name === 'rnet' ? 'R-Net' : 'O-Net'} | ${crops} | ${size} | ${Math.ceil(crops / size)} | ${best.toFixed(1)} |`);
    }
  }
  return rows;
}

async function threads(images: RgbImage[]): Promise<string[]> {
  const rows = ['| intra-op threads per net | ms per photo (CPU) | ms per photo (wall, this thread alone) |', '|---|---|---|'];
  for (const n of [1, 2]) {
    const nets = await openMtcnnNets(undefined, n);
    await mtcnnFaces(images[0]!, nets, MTCNN_SETTINGS);
    let cpu = Infinity, wall = Infinity;
    for (let round = 0; round < ROUNDS; round++) {
      const c = cpuMs(), t = performance.now();
      for (const img of images) await mtcnnFaces(img, nets, MTCNN_SETTINGS);
      cpu = Math.min(cpu, (cpuMs() - c) / images.length);
      wall = Math.min(wall, (performance.now() - t) / images.length);
    }
    rows.push(`| ${n} | ${cpu.toFixed(1)} | ${wall.toFixed(1)} |`);
  }
  return rows;
}

/** FFHQ's step (shrink, crop, pad, the fused transform) on every MTCNN face of the photos, from its 5 points. */
async function ffhqStep(files: string[]): Promise<string[]> {
  const detector = await FaceDetector.create({ detector: 'mtcnn', threads: 1 });
  const faces: { img: RgbImage; points: [number, number][] }[] = [];
  for (const f of files) {
    const img = await decodeRgb(f);
    for (const d of await detector.detect(img, MTCNN_SETTINGS)) if (d.points5) faces.push({ img, points: d.points5 as [number, number][] });
  }
  const rows = ['| FFHQ size | kernels | faces | ms per face (CPU) |', '|---|---|---|---|'];
  for (const size of [512, 1024]) {
    const best = { js: Infinity, simd: Infinity };
    for (let round = 0; round < 2; round++) {
      for (const kernels of ['js', 'simd'] as const) {
        useSimd(kernels === 'simd');
        const c = cpuMs();
        for (const f of faces) await alignFfhq(f.img, ffhqKeyPointsFrom5(f.points), size, 4 * size);
        best[kernels] = Math.min(best[kernels], (cpuMs() - c) / faces.length);
      }
    }
    for (const kernels of ['js', 'simd'] as const) rows.push(`| ${size} 4x step | ${kernels} | ${faces.length} | ${best[kernels].toFixed(1)} |`);
  }
  useSimd(true);
  return rows;
}

/** The section's tables, as markdown (best of ROUNDS rounds per cell). */
export async function detailBench(files: string[]): Promise<string> {
  process.stderr.write('detail: MTCNN split, FFHQ step, P-Net packing, batch sizes, threads...\n');
  const images: RgbImage[] = [];
  for (const f of files) images.push(await detectionImage(await decodeRgb(f), MTCNN_SETTINGS.detectSize));
  const nets = await openMtcnnNets(undefined, 1);
  const out = [
    `MTCNN at detection size ${MTCNN_SETTINGS.detectSize} on ${images.length} photos (the photo's shrink to it excluded), one thread, onnxruntime with 1 intra-op thread, best of ${ROUNDS}:`,
    '',
    ...(await split(images, nets)),
    '',
    'FFHQ step per face (5 points of MTCNN, best of 2):',
    '',
    ...(await ffhqStep(files)),
    '',
    ...(await pnetPacking(images, nets)),
    '',
    ...(await batches(nets)),
    '',
    ...(await threads(images)),
  ];
  return `${out.join('\n')}\n`;
}
