"""Leave-one-out identification computed independently with numpy (the full N x N matrix):
reads {"emb": [[...]], "ids": [...], "ages": [age or null], "child": 12, "adult": 18} on stdin,
writes {"rank": [...], "rank1", "rank5", "groups": {label: [probes, rank1, rank5]}, "gaps": {...}}."""
import json
import sys

import numpy as np

q = json.load(sys.stdin)
E = np.asarray(q['emb'], dtype=np.float64)
ids = np.asarray(q['ids'])
ages = np.asarray([np.nan if a is None else a for a in q['ages']], dtype=np.float64)
child, adult = q['child'], q['adult']
S = E @ E.T
people = sorted(set(ids.tolist()))
n = len(ids)
ranks = []
groups, gaps = {}, {}
bins = [('0-5', 0, 5), ('5-10', 5, 10), ('10-20', 10, 20), ('20-30', 20, 30), ('30+', 30, np.inf)]
for i in range(n):
    others = [j for j in range(n) if j != i and ids[j] == ids[i]]
    if not others:
        ranks.append(0)
        continue
    # each person's best image score, the probe itself left out of the gallery
    best = {p: S[i, (ids == p) & (np.arange(n) != i)].max() for p in people if ((ids == p) & (np.arange(n) != i)).any()}
    target = best[ids[i]]
    rank = 1 + sum(1 for p, s in best.items() if p != ids[i] and s >= target)
    ranks.append(int(min(rank, 11)))
    a = ages[i]
    if np.isnan(a):
        g = 'unknown'
    elif a <= child:
        g = 'child (<= %d)' % child
    elif a >= adult:
        g = 'adult (>= %d)' % adult
    else:
        g = 'teen'
    known = [abs(a - ages[j]) for j in others if not np.isnan(ages[j])]
    gap = min(known) if known and not np.isnan(a) else None
    b = 'unknown' if gap is None else next(l for l, lo, hi in bins if lo <= gap < hi)
    for table, key in ((groups, g), (gaps, b)):
        t = table.setdefault(key, [0, 0, 0])
        t[0] += 1
        t[1] += rank <= 1
        t[2] += rank <= 5
r = np.asarray([x for x in ranks if x > 0])
out = {
    'rank': ranks,
    'rank1': float((r <= 1).mean()),
    'rank5': float((r <= 5).mean()),
    'groups': {k: [v[0], v[1] / v[0], v[2] / v[0]] for k, v in groups.items()},
    'gaps': {k: [v[0], v[1] / v[0], v[2] / v[0]] for k, v in gaps.items()},
}
print(json.dumps(out))
