import { createHash } from 'node:crypto';
import { describeShard } from '../../src/cli/command.js';
import { exitCodeOf, renderError } from '../../src/cli/render.js';
import { fnv1a64, inShard, parseShard, partition, resolveShard, shardOf, ShardError } from '../../src/distribute/index.js';
import { EXIT_BAD_INPUT, UsageError } from '../../src/util/errors.js';

/** The partition as docs/cluster.md spells it, plainly with BigInt: fmix64(FNV-1a 64(bytes)) mod N. */
function reference(id: string, n: number): number {
  const M = 0xffffffffffffffffn;
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(id, 'utf8')) h = ((h ^ BigInt(b)) * 0x100000001b3n) & M;
  h ^= h >> 33n;
  h = (h * 0xff51afd7ed558ccdn) & M;
  h ^= h >> 33n;
  h = (h * 0xc4ceb9fe1a85ec53n) & M;
  h ^= h >> 33n;
  return Number(h % BigInt(n));
}

function randomIds(n: number, seed: number): string[] {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const bytes = createHash('sha256').update(`${seed}:${i}`).digest();
    ids.push(`${bytes.toString('base64url').slice(0, 4 + (bytes[0]! % 20)).replace(/^[-_]/, 'x')}_${i}`);
  }
  return ids;
}

describe('the partition: fmix64(FNV-1a 64) mod N', () => {
  test('FNV-1a 64 matches its published test vectors', () => {
    const toBig = ([hi, lo]: [number, number]) => (BigInt(hi) << 32n) | BigInt(lo);
    // draft-eastlake-fnv test vectors
    expect(toBig(fnv1a64(Buffer.from('')))).toBe(0xcbf29ce484222325n);
    expect(toBig(fnv1a64(Buffer.from('a')))).toBe(0xaf63dc4c8601ec8cn);
    expect(toBig(fnv1a64(Buffer.from('foobar')))).toBe(0x85944171f73967e8n);
  });

  test('shardOf is fmix64(FNV-1a 64) mod N (BigInt reference), also for N that are not powers of two', () => {
    for (const id of [...randomIds(500, 7), 'ünïcode_1', '']) {
      for (const n of [1, 2, 3, 4, 7, 10, 64, 999_983, 1_000_000]) expect(shardOf(id, n)).toBe(reference(id, n));
    }
    // pinned, computed by docs/cluster.md's Python: these may never change (another version must find the same shards)
    expect(['amy_1', 'howard_3', 'x', 'ab.c-d'].map((id) => shardOf(id, 7))).toEqual([6, 0, 5, 1]);
  });

  test('disjoint and covering for N = 1..64 over random ids, whatever their order', () => {
    // every property checked per id, but failures collected and asserted once: an expect() per id cost 25 s
    const problems: string[] = [];
    for (let n = 1; n <= 64; n++) {
      const ids = randomIds(300 + n * 7, n);
      const shuffled = [...ids].sort(() => 0.5 - Math.random());
      const seen = new Map<string, number>();
      for (let k = 0; k < n; k++) {
        const part = partition(ids, k, n);
        const fromShuffled = partition(shuffled, k, n);
        if ([...fromShuffled].sort().join('\n') !== [...part].sort().join('\n')) problems.push(`N=${n} K=${k}: another order gives another shard`);
        const shard = { index: k, count: n, source: 'flag' as const, from: `${k}/${n}` };
        for (const id of part) {
          if (seen.has(id)) problems.push(`N=${n}: ${id} in shards ${seen.get(id)} and ${k}`);
          seen.set(id, k);
          if (!inShard(id, shard)) problems.push(`N=${n} K=${k}: inShard disagrees on ${id}`);
        }
      }
      if (seen.size !== ids.length) problems.push(`N=${n}: ${ids.length - seen.size} ids in no shard`);
    }
    expect(problems).toEqual([]);
  });

  test('shards are balanced (no shard far from 1/N of 20,000 ids), also for ids of digits', () => {
    const ids = [...randomIds(10000, 99), ...Array.from({ length: 10000 }, (_, i) => `Person_${String(i % 500).padStart(5, '0')}_${String(i).padStart(7, '0')}`)];
    for (const n of [2, 4, 16]) {
      const sizes = Array.from({ length: n }, (_, k) => partition(ids, k, n).length);
      for (const s of sizes) expect(Math.abs(s - 20000 / n)).toBeLessThan((20000 / n) * 0.1);
    }
  });
});

describe('--shard K/N and the scheduler environment', () => {
  test('the flag: K of N, 0-based', () => {
    expect(parseShard('0/4')).toEqual({ index: 0, count: 4, source: 'flag', from: '0/4' });
    expect(parseShard('3/4').index).toBe(3);
    expect(describeShard(parseShard('1/3'))).toBe('shard 1/3 (0-based, from flag: --shard 1/3)');
  });

  test.each([
    ['5/4', /below the count 4/],
    ['4/4', /below the count 4/],
    ['0/0', /at least 1/],
    ['a/4', /K must be a whole number/],
    ['1/x', /N must be a whole number/],
    ['-1/4', /K must be a whole number/],
    ['1.5/4', /K must be a whole number/],
    ['3', /expected K\/N/],
    ['1/2/3', /expected K\/N/],
  ])('bad flag %s: a ShardError (a UsageError: exit 2) with the reason', (text, reason) => {
    let err: unknown;
    try {
      parseShard(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShardError);
    expect(err).toBeInstanceOf(UsageError);
    expect(exitCodeOf(err)).toBe(EXIT_BAD_INPUT);
    expect((err as ShardError).message).toMatch(reason);
    expect((err as ShardError).message).not.toMatch(/--[a-z]/);
    expect(renderError(err)).toMatch(reason);
    expect(renderError(err)).toContain(`--shard ${text}: `);
  });

  test('Slurm: task id minus min (over the step), count from SLURM_ARRAY_TASK_COUNT', () => {
    expect(resolveShard(undefined, { SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_COUNT: '4' })).toMatchObject({ index: 2, count: 4, source: 'slurm' });
    expect(resolveShard(undefined, { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_STEP: '2' })).toMatchObject({ index: 2, count: 3 });
    const s = resolveShard(undefined, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '2' })!;
    expect(describeShard(s)).toBe('shard 1/2 (0-based, from slurm: SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_COUNT=2)');
    // the flag wins over the environment
    expect(resolveShard('0/2', { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '2' })).toMatchObject({ index: 0, source: 'flag' });
  });

  test('Slurm environment missing its count, or out of range: exit-2 errors', () => {
    expect(() => resolveShard(undefined, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '0' })).toThrow(/SLURM_ARRAY_TASK_COUNT must be a whole number, got nothing/);
    expect(() => resolveShard(undefined, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '2' })).toThrow(/SLURM_ARRAY_TASK_MIN/);
    expect(() => resolveShard(undefined, { SLURM_ARRAY_TASK_ID: '9', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '2' })).toThrow(ShardError);
    let err: unknown;
    try {
      resolveShard(undefined, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '2', SLURM_ARRAY_TASK_STEP: '2' });
    } catch (e) {
      err = e;
    }
    expect(renderError(err)).toBe(
      'shard from the environment SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_COUNT=2 SLURM_ARRAY_TASK_STEP=2: the array task ids must run MIN, MIN+STEP, ... (submit --array=0-<N-1>)',
    );
  });

  test('Kubernetes: JOB_COMPLETION_INDEX of ECAF_SHARD_COUNT', () => {
    expect(resolveShard(undefined, { JOB_COMPLETION_INDEX: '3', ECAF_SHARD_COUNT: '8' })).toMatchObject({ index: 3, count: 8, source: 'kubernetes' });
    expect(() => resolveShard(undefined, { JOB_COMPLETION_INDEX: '3' })).toThrow(/ECAF_SHARD_COUNT/);
    expect(() => resolveShard(undefined, { JOB_COMPLETION_INDEX: '8', ECAF_SHARD_COUNT: '8' })).toThrow(/below the count 8/);
  });

  test('no flag and no scheduler: no shard', () => {
    expect(resolveShard(undefined, {})).toBeUndefined();
    expect(inShard('anything', undefined)).toBe(true);
  });
});
