/**
 * npm run bench:align: photos/s and faces/s of `ecaf align` with 2 workers on face-api's 1920-px
 * demo photos (repeated) and on ../shared/data/people/ (ECAF_SHARED_DATA or that default), the
 * process's peak RSS per worker, and the share of worker time per step, for each configuration in
 * one run: "before" (the JavaScript kernels, FFHQ 1024: what align did before issue 21) and "after"
 * (the SIMD kernels at the default FFHQ 512, at 1024, and with --ffhq-fast), so the step table
 * compares them on the same machine at the same time. --ssd adds face-api's SSD.
 * Then detection alone on one thread: faces found and ms per photo, wall and CPU, of MTCNN at
 * several detection sizes / minimum faces (and SSD), and MTCNN's CPU per photo split into
 * onnxruntime's nets and the rest, JavaScript against SIMD kernels, and FFHQ's step (bench/align-detail.ts: also P-Net
 * per level against one packed tensor, R-Net/O-Net batch sizes, intra-op threads).
 * The load average is printed: the machine may be shared.
 * Options: --repeat N (3: copies of the 6 demo photos) --workers 2 (or 1,2) --ssd
 *          --only align|detect|ort --detect 'mtcnn:1024:20,...' (detector:detect-size:min-face)
 */
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { align, type AlignSummary } from '../dist/align/index.js';
import { FaceDetector, MTCNN_SETTINGS, type AlignKernels } from '../dist/align/detect.js';
import { useSimd } from '../dist/align/simd/kernels.js';
import { detailBench } from './align-detail.js';
import { decodeRgb, FACE_API_DEMO_DIR } from '../dist/util/faceapi.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}
const REPEAT = Number(arg('repeat', '3'));
const WORKERS = arg('workers', '2').split(',').map(Number);
const SSD = process.argv.includes('--ssd');
const SHARED = process.env.ECAF_SHARED_DATA ?? path.join(ROOT, '..', 'shared', 'data');
const ONLY = arg('only', '');
const DETECT = arg('detect', `${SSD ? 'ssd,' : ''}mtcnn:640:20,mtcnn:1024:20,mtcnn:1280:20`).split(',');
const load = () => os.loadavg().map((v) => v.toFixed(1)).join(' ');

interface PhotoSet {
  name: string;
  files: string[];
}

async function sets(): Promise<PhotoSet[]> {
  const demo = Array.from({ length: 6 }, (_, i) => path.join(FACE_API_DEMO_DIR, `sample${i + 1}.jpg`));
  const out: PhotoSet[] = [{ name: `face-api demo/sample1..6.jpg (1920 px) x${REPEAT}`, files: Array.from({ length: REPEAT }, () => demo).flat() }];
  const people = path.join(SHARED, 'people');
  if (existsSync(people)) {
    const names = (await fs.readdir(people)).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort();
    out.push({ name: `shared/data/people (${names.length} photos, 512-2048 px)`, files: names.map((n) => path.join(people, n)) });
  } else {
    process.stderr.write(`(no ${people}: set ECAF_SHARED_DATA to include it)\n`);
  }
  return out;
}

/** A dataset root holding the photos as crawl would have stored them. */
async function makeRoot(files: string[]): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'ecaf-bench-align-'));
  const raw = path.join(root, 'image_data', 'raw');
  await fs.mkdir(raw, { recursive: true });
  const records = [];
  const crawl = [];
  for (const [i, file] of files.entries()) {
    const ext = file.toLowerCase().endsWith('.png') ? 'png' : 'jpg';
    const id = `photo_${String(i).padStart(4, '0')}`;
    await fs.copyFile(file, path.join(raw, `${id}.${ext}`));
    records.push({ id, image_url: `http://127.0.0.1/${id}.${ext}` });
    crawl.push(JSON.stringify({ id, url: `http://127.0.0.1/${id}.${ext}`, status: 'ok', format: ext, attempts: 1, time: new Date().toISOString() }));
  }
  await fs.writeFile(path.join(root, 'image_data', 'data.json'), JSON.stringify(records));
  await fs.writeFile(path.join(root, 'image_data', 'crawl.jsonl'), crawl.join('\n') + '\n');
  return root;
}

/** One row of the align table: which kernels, FFHQ size and step, detector and pool size. */
interface Config {
  kernels: AlignKernels;
  ffhqSize: number;
  fast: boolean;
  detector: 'mtcnn' | 'ssd';
  workers: number;
}

interface Row extends Config {
  set: string;
  summary: AlignSummary;
  peakRssMb: number;
  baseRssMb: number;
  /** Process CPU seconds (every thread) from the workers' start-up to the end: the cost of the photos, whatever else the machine runs. */
  cpuSeconds: number;
}

const cpuSeconds = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function measure(set: PhotoSet, c: Config): Promise<Row> {
  const root = await makeRoot(set.files);
  const baseRss = process.memoryUsage().rss;
  let peak = baseRss;
  // CPU sampled with the RSS: the sample at the end of start-up (known afterwards) starts the photos' CPU
  const started = performance.now();
  const cpu: { at: number; cpu: number }[] = [{ at: 0, cpu: cpuSeconds() }];
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
    cpu.push({ at: (performance.now() - started) / 1000, cpu: cpuSeconds() });
  }, 50);
  try {
    const summary = await align({ root, workers: c.workers, ffhqSize: c.ffhqSize, ffhqFast: c.fast, progress: false, detector: c.detector, kernels: c.kernels });
    const ready = cpu.find((s) => s.at >= summary.startupSeconds) ?? cpu[cpu.length - 1]!;
    return { ...c, set: set.name, summary, peakRssMb: peak / 2 ** 20, baseRssMb: baseRss / 2 ** 20, cpuSeconds: cpuSeconds() - ready.cpu };
  } finally {
    clearInterval(timer);
    await fs.rm(root, { recursive: true, force: true });
  }
}

function report(rows: Row[]): string {
  const lines = [
    `| photos | kernels | detector | workers | FFHQ | photos/s (after start-up) | faces/s | start-up s | peak RSS per worker | CPU s per photo (process) | photos/s the CPU allows on ${os.cpus().length} free cores | worker s per photo | detection | landmarks | FFHQ warp | 5-point warp | decode | encode+write |`,
    `|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|`,
  ];
  for (const r of rows) {
    const s = r.summary;
    const run = s.wallSeconds - s.startupSeconds;
    const t = s.timings;
    const total = t.decode + t.detect + t.landmarks + t.ffhq + t.mtcnn + t.write;
    const share = (v: number) => `${((100 * v) / total).toFixed(0)}% (${(v / s.processed).toFixed(3)} s)`;
    lines.push(
      `| ${r.set} | ${r.kernels} | ${r.detector} | ${r.workers} | ${r.ffhqSize} ${r.fast ? 'fast' : '4x step'} | ${(s.processed / run).toFixed(2)} | ${(s.facesFound / run).toFixed(2)} | ${s.startupSeconds.toFixed(1)} | ` +
        `${((r.peakRssMb - r.baseRssMb) / r.workers).toFixed(0)} MB (process peak ${r.peakRssMb.toFixed(0)} MB) | ${(r.cpuSeconds / s.processed).toFixed(3)} | ${((Math.min(r.workers, os.cpus().length) * s.processed) / r.cpuSeconds).toFixed(2)} | ${(total / s.processed).toFixed(3)} | ${share(t.detect)} | ${share(t.landmarks)} | ` +
        `${share(t.ffhq)} | ${share(t.mtcnn)} | ${share(t.decode)} | ${share(t.write)} |`,
    );
  }
  return lines.join('\n');
}

interface DetectRow {
  set: string;
  config: string;
  photos: number;
  withFace: number;
  faces: number;
  wallMs: number;
  cpuMs: number;
}

/** Detection alone, one photo at a time on this thread: the per-worker cost of each detector setting. */
async function detectOnly(set: PhotoSet, config: string): Promise<DetectRow> {
  const [name, size, minFace] = config.split(':');
  useSimd(true);
  const detector = await FaceDetector.create({ detector: name as 'mtcnn' | 'ssd', threads: 1 });
  const settings = { ...MTCNN_SETTINGS, detectSize: Number(size ?? MTCNN_SETTINGS.detectSize), minFace: Number(minFace ?? MTCNN_SETTINGS.minFace) };
  await detector.detect(await decodeRgb(set.files[0]!), settings); // warm-up
  const row: DetectRow = { set: set.name, config, photos: 0, withFace: 0, faces: 0, wallMs: 0, cpuMs: 0 };
  for (const file of set.files) {
    let img;
    try {
      img = await decodeRgb(file);
    } catch {
      continue; // a file the decoder refuses is align's decode_error, not detection's business
    }
    const cpu = process.cpuUsage(), t = performance.now();
    const found = await detector.detect(img, settings);
    row.wallMs += performance.now() - t;
    const used = process.cpuUsage(cpu);
    row.cpuMs += (used.user + used.system) / 1000;
    row.photos++;
    row.faces += found.length;
    if (found.length) row.withFace++;
  }
  return row;
}

function detectReport(rows: DetectRow[]): string {
  const lines = ['| photos | detector:detect-size:min-face | photos with a face | faces | ms per photo (wall) | ms per photo (CPU) |', '|---|---|---|---|---|---|'];
  for (const r of rows) {
    lines.push(`| ${r.set} | ${r.config} | ${r.withFace} / ${r.photos} | ${r.faces} | ${(r.wallMs / r.photos).toFixed(0)} | ${(r.cpuMs / r.photos).toFixed(0)} |`);
  }
  return lines.join('\n');
}

/** The rows of a photo set: before and after on every set; the fast step (and SSD) on the first. */
function configs(first: boolean): Config[] {
  const out: Config[] = [];
  for (const workers of WORKERS) {
    const m = { detector: 'mtcnn' as const, workers, fast: false };
    out.push({ ...m, kernels: 'js', ffhqSize: 1024 }, { ...m, kernels: 'simd', ffhqSize: 512 }, { ...m, kernels: 'simd', ffhqSize: 1024 });
    if (first) out.push({ ...m, kernels: 'js', ffhqSize: 1024, fast: true }, { ...m, kernels: 'simd', ffhqSize: 512, fast: true });
    if (first && SSD) out.push({ ...m, detector: 'ssd', kernels: 'simd', ffhqSize: 512 });
  }
  return out;
}

process.stdout.write(`align benchmark, ${new Date().toISOString()}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), load average at start ${load()}\n\n`);
const all = await sets();
if (ONLY === '' || ONLY === 'align') {
  const rows: Row[] = [];
  for (const [i, set] of all.entries()) {
    for (const c of configs(i === 0)) {
      process.stderr.write(`${set.name}, ${c.kernels} kernels, ${c.detector}, ${c.workers} worker(s), FFHQ ${c.ffhqSize}${c.fast ? ' --ffhq-fast' : ''}...\n`);
      const row = await measure(set, c);
      process.stderr.write(`  ${row.summary.processed} photos, ${row.summary.counts.ok} ok, ${row.summary.wallSeconds.toFixed(1)} s\n`);
      rows.push(row);
    }
  }
  process.stdout.write(`${report(rows)}\n\nload average after the align runs: ${load()}\n\n`);
}
if (ONLY === '' || ONLY === 'detect') {
  const deepface = path.join(SHARED, 'deepface');
  const detectSets = [{ name: 'face-api demo/sample1..6.jpg', files: all[0]!.files.slice(0, 6) }, ...all.slice(1)];
  if (existsSync(deepface)) {
    const names = (await fs.readdir(deepface)).filter((n) => /\.(jpe?g|png)$/i.test(n)).sort();
    detectSets.push({ name: `shared/data/deepface (${names.length} photos)`, files: names.map((n) => path.join(deepface, n)) });
  }
  const rows: DetectRow[] = [];
  for (const set of detectSets) {
    for (const config of DETECT) {
      process.stderr.write(`detect ${set.name}, ${config}...\n`);
      const row = await detectOnly(set, config);
      process.stderr.write(`  ${row.withFace}/${row.photos} photos with a face, ${row.faces} faces, ${(row.wallMs / row.photos).toFixed(0)} ms wall, ${(row.cpuMs / row.photos).toFixed(0)} ms CPU per photo\n`);
      rows.push(row);
    }
  }
  process.stdout.write(`${detectReport(rows)}\n\nload average after detection: ${load()}\n\n`);
}
if (ONLY === '' || ONLY === 'ort' || ONLY === 'detect') {
  process.stdout.write(`${await detailBench(all[0]!.files.slice(0, 6))}\nload average at the end: ${load()}\n`);
}
