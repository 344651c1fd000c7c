"""Independent numpy reference of src/age/probe.ts: explicit design matrices, per-row
predictions and np.linalg.solve for the ridge, Newton (IRLS) for the logistic probe.
Reads {"x": [[...]], "identity": [...], "age": [... | null], "male": [1|0|-1 ...], "folds": k,
"alphas": [...]} as JSON on stdin, writes the results as JSON on stdout. Run with /usr/bin/python3."""
import json
import sys

import numpy as np


def group_folds(identity, k):
    """scikit-learn GroupKFold's assignment: groups by decreasing size (first seen first on
    ties), each to the fold holding the fewest rows (lowest index on ties)."""
    groups = list(dict.fromkeys(identity))
    count = {g: 0 for g in groups}
    for i in identity:
        count[i] += 1
    order = sorted(range(len(groups)), key=lambda gi: (-count[groups[gi]], gi))
    size = np.zeros(k, dtype=int)
    fold_of = {}
    for gi in order:
        f = int(np.argmin(size))
        fold_of[groups[gi]] = f
        size[f] += count[groups[gi]]
    return np.array([fold_of[i] for i in identity])


def ridge(x, y, lam):
    m, ybar = x.mean(0), y.mean()
    xc = x - m
    w = np.linalg.solve(xc.T @ xc + lam * np.eye(x.shape[1]), xc.T @ (y - ybar))
    return w, ybar - m @ w


def choose_alpha(x, y, fold, o, k, alphas):
    err = np.zeros(len(alphas))
    for h in range(k):
        if h == o:
            continue
        tr = (fold != o) & (fold != h)
        for ai, a in enumerate(alphas):
            w, c = ridge(x[tr], y[tr], a * tr.sum())
            err[ai] += ((y[fold == h] - c - x[fold == h] @ w) ** 2).sum()
    return alphas[len(err) - 1 - int(np.argmin(err[::-1]))]  # the larger alpha on ties


def logistic(x, y, lam):
    """argmin sum logloss(y, c + x.w) + lam/2 |w|^2 by Newton's method on [1 x]."""
    a = np.hstack([np.ones((len(x), 1)), x])
    pen = lam * np.eye(a.shape[1])
    pen[0, 0] = 0
    th = np.zeros(a.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-(a @ th)))
        g = a.T @ (p - y) + pen @ th
        h = a.T @ (a * (p * (1 - p))[:, None]) + pen
        step = np.linalg.solve(h, g)
        th -= step
        if np.abs(step).max() < 1e-13:
            break
    return th[1:], th[0]


def age_probe(x, age, ident, k, alphas):
    fold = group_folds(ident, k)
    pred, base, chosen = np.zeros(len(age)), np.zeros(len(age)), []
    for o in range(k):
        tr = fold != o
        a = choose_alpha(x, age, fold, o, k, alphas)
        chosen.append(a)
        w, c = ridge(x[tr], age[tr], a * tr.sum())
        pred[~tr] = c + x[~tr] @ w
        base[~tr] = np.median(age[tr])
    err = np.abs(pred - age)
    return {'mae': err.mean(), 'baselineMae': np.abs(base - age).mean(), 'ratio': err.sum() / np.abs(base - age).sum(),
            'foldMae': [err[fold == o].mean() for o in range(k)], 'alpha': chosen}


def gender_probe(x, male, ident, k, alphas):
    fold = group_folds(ident, k)
    sign = np.where(male == 1, 1.0, -1.0)
    right, base_right, loss, base_loss, acc, chosen = 0, 0, 0.0, 0.0, [], []
    for o in range(k):
        tr = fold != o
        a = choose_alpha(x, sign, fold, o, k, alphas)
        chosen.append(a)
        w, c = logistic(x[tr], male[tr], a * tr.sum() / 4)
        z = c + x[~tr] @ w
        y = male[~tr]
        ok = ((z > 0).astype(int) == y).sum()
        acc.append(ok / len(y))
        right += ok
        majority = 1 if 2 * male[tr].sum() >= tr.sum() else 0
        base_right += (y == majority).sum()
        loss += (np.logaddexp(0, z) - y * z).sum()
        share = male[tr].mean()
        base_loss -= np.log(np.where(y == 1, share, 1 - share)).sum()
    n = len(male)
    return {'accuracy': right / n, 'baselineAccuracy': base_right / n, 'foldAccuracy': acc,
            'logLoss': loss / n, 'baselineLogLoss': base_loss / n, 'alpha': chosen}


def main():
    job = json.load(sys.stdin)
    x = np.array(job['x'], dtype=np.float64)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ident = np.array(job['identity'])
    k, alphas = job['folds'], job['alphas']
    out = {}
    if job.get('age') is not None:
        age = np.array([np.nan if v is None else v for v in job['age']], dtype=np.float64)
        keep = np.isfinite(age)
        out['age'] = age_probe(x[keep], age[keep], list(ident[keep]), k, alphas)
    if job.get('male') is not None:
        male = np.array(job['male'])
        keep = male >= 0
        out['gender'] = gender_probe(x[keep], male[keep], list(ident[keep]), k, alphas)
    json.dump(out, sys.stdout, default=float)


if __name__ == '__main__':
    main()
