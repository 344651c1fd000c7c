/**
 * `npm run bench:age-probe`: both linear probes (ridge to age, logistic to gender, 5 folds by
 * identity, nested choice of the strength) on 100,000 synthetic 512-d embeddings of 10,000
 * people, age and gender planted along two directions under noise. Goal: under 30 s on 2 cores.
 *
 * ECAF_BENCH_ROWS=20000 npm run bench:age-probe   for a smaller run.
 */
import os from 'node:os';
import { linearProbes } from '../dist/age/probe.js';

const ROWS = Number(process.env.ECAF_BENCH_ROWS ?? 100_000);
const DIM = 512;
const PER_PERSON = 10;

/** xorshift32 uniform in [0, 1) and a Box-Muller normal: the same data every run. */
function rng(seed: number): { uniform: () => number; normal: () => number } {
  let s = seed >>> 0 || 1;
  const uniform = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

const r = rng(7);
const x = new Float32Array(ROWS * DIM);
const age = new Float64Array(ROWS);
const male = new Int8Array(ROWS);
const identity: string[] = [];
let personVec = new Float64Array(DIM);
let personMale = 0;
for (let i = 0; i < ROWS; i++) {
  if (i % PER_PERSON === 0) {
    personVec = Float64Array.from({ length: DIM }, () => r.normal());
    personMale = r.uniform() < 0.5 ? 1 : 0;
  }
  identity.push(`p${Math.floor(i / PER_PERSON)}`);
  age[i] = Math.round(5 + 70 * r.uniform());
  male[i] = personMale;
  for (let j = 0; j < DIM; j++) x[i * DIM + j] = personVec[j]! + 0.5 * r.normal();
  // age along dimension 0, gender along dimension 1, each weak beside the identity
  x[i * DIM]! += ((age[i]! - 40) / 20) * 1.5;
  x[i * DIM + 1]! += (personMale ? 1 : -1) * 2;
}

const t0 = performance.now();
const cpu0 = process.cpuUsage();
const res = linearProbes({ x, dim: DIM, identity, age, male });
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const load = os.loadavg()[0]!.toFixed(2);
console.log(JSON.stringify(res));
console.log(`${ROWS} x ${DIM}: both probes in ${seconds.toFixed(1)} s wall, ${cpuSeconds.toFixed(1)} s CPU (goal < 30 s on 2 cores); load average ${load}, ${os.cpus().length} cores`);
