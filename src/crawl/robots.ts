/** X-Robots-Tag directives that forbid using an image for AI datasets (the img2dataset convention). */
const DISALLOWING = new Set(['noai', 'noimageai']);
/** User agents whose X-Robots-Tag lines apply to ecaf. */
const OUR_AGENTS = new Set(['ecaf', '*']);

/**
 * The directive in `X-Robots-Tag` header(s) that forbids this download, or undefined.
 * A line may target a user agent (`otherbot: noai`): those for other agents are ignored.
 */
export function robotsDisallow(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const line of Array.isArray(header) ? header : [header]) {
    let text = line.trim().toLowerCase();
    const agent = /^([a-z0-9_*-]+)\s*:\s*(.*)$/.exec(text);
    if (agent && !DISALLOWING.has(agent[1]!)) {
      if (!OUR_AGENTS.has(agent[1]!)) continue;
      text = agent[2]!;
    }
    for (const token of text.split(/[,\s]+/)) if (DISALLOWING.has(token)) return token;
  }
  return undefined;
}
