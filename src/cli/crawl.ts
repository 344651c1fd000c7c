import { crawl, CRAWL_DEFAULTS, type CrawlSummary } from '../crawl/index.js';
import { describeInvalid } from '../dataset/load.js';
import { formatCrawlSummary } from './summaries/crawl.js';
import { rootOption, runInterruptible, shardArg, shardOption, type EcafCommand } from './command.js';

interface CrawlArgs {
  root: string;
  data?: string;
  concurrency: number;
  'per-host': number;
  retries: number;
  timeout: number;
  'max-bytes': number;
  'allow-private': boolean;
  'retry-failed': boolean;
  'ignore-robots-tag': boolean;
  'skip-invalid': boolean;
  shard?: string;
}

export const crawlCommand: EcafCommand = {
  command: 'crawl',
  describe: 'download the images of data.json into image_data/raw/ (resumable; log in image_data/crawl.jsonl)',
  builder: (y) =>
    y
      .options({
        ...rootOption,
        ...shardOption,
        data: { type: 'string', describe: 'records file (default: <root>/image_data/data.json)' },
        concurrency: { type: 'number', default: CRAWL_DEFAULTS.concurrency, describe: 'requests in flight at once' },
        'per-host': { type: 'number', default: CRAWL_DEFAULTS.perHost, describe: 'requests in flight per host' },
        retries: { type: 'number', default: CRAWL_DEFAULTS.retries, describe: 'retries of timeouts, resets, cut-off bodies, 5xx, 408 and 429 (exponential backoff, Retry-After honoured)' },
        timeout: { type: 'number', default: CRAWL_DEFAULTS.timeoutS, describe: 'seconds one request may take in all (connect, headers, body, redirects)' },
        'max-bytes': { type: 'number', default: CRAWL_DEFAULTS.maxBytes, describe: 'largest image accepted, in bytes (too_large beyond)' },
        'allow-private': { type: 'boolean', default: false, describe: 'crawl hosts on loopback, private, link-local or multicast addresses' },
        'retry-failed': { type: 'boolean', default: false, describe: 'request again the ids whose last state is failed (a plain rerun keeps them)' },
        'ignore-robots-tag': { type: 'boolean', default: false, describe: 'download images served with X-Robots-Tag: noai / noimageai' },
        'skip-invalid': { type: 'boolean', default: false, describe: 'go on with the valid records when data.json has invalid ones' },
      })
      .example('ecaf crawl --root ecaf', 'download every image of ecaf/image_data/data.json')
      .example('ecaf crawl --root ecaf', 'rerun after a stop: verified downloads and earlier failures are skipped')
      .example('ecaf crawl --root ecaf --retry-failed', 'also request again the ids that failed')
      .example('ecaf crawl --root ecaf --concurrency 128 --per-host 16 --timeout 15', 'a faster crawl of a few big hosts')
      .example('ecaf crawl --root ecaf --shard 0/4', 'crawl a quarter of the ids (one task of four; log in image_data/logs/crawl.0-of-4.jsonl)'),
  handler: async (args: CrawlArgs) => {
    const options = {
      root: args.root,
      data: args.data,
      concurrency: args.concurrency,
      perHost: args['per-host'],
      retries: args.retries,
      timeoutS: args.timeout,
      maxBytes: args['max-bytes'],
      allowPrivate: args['allow-private'],
      retryFailed: args['retry-failed'],
      ignoreRobotsTag: args['ignore-robots-tag'],
      skipInvalid: args['skip-invalid'],
      progress: true,
      shard: shardArg(args.shard),
    };
    return runInterruptible(
      (signal) => crawl({ ...options, signal }),
      (result) => {
        const v = result.validation;
        for (const w of v.warnings) process.stderr.write(`warning: ${w}\n`);
        if (v.invalidCount > 0) process.stderr.write(`${describeInvalid(v, ' and are left out (--skip-invalid)')}\n`);
        process.stdout.write(`${formatCrawlSummary(result)}\n${crawlHints(result)}`);
      },
    );
  },
};

/** Which flags would change what this run kept or refused, a line each. */
function crawlHints(s: CrawlSummary): string {
  const hints: string[] = [];
  if (s.keptFailed > 0) hints.push(`  --retry-failed requests the ${s.keptFailed} earlier failures again`);
  if (s.byError.blocked_address || s.keptSkipped) hints.push('  --allow-private crawls hosts on private addresses (blocked_address)');
  if (s.byError.robots_disallowed || s.keptSkipped) hints.push('  --ignore-robots-tag downloads images marked noai / noimageai (robots_disallowed)');
  if (s.byError.too_large) hints.push('  --max-bytes raises the size limit (too_large)');
  if (s.byError.timeout) hints.push('  --timeout gives slow hosts longer (timeout)');
  return hints.map((h) => `${h}\n`).join('');
}
