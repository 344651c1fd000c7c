"""Independent reference of insightface's eval/verification.py (calculate_roc, calculate_val),
written with numpy + scipy as insightface does (sklearn's KFold replaced by its no-shuffle split).
Run with /usr/bin/python3 (Debian's numpy/scipy).

  insightface_ref.py < in.json     reads {"dist": [...], "issame": [...], "folds": k,
                                   "far_targets": [...]}, writes the results as JSON on stdout
  insightface_ref.py --fixture     rewrites fixtures/insightface_ref.json: the inputs of
                                   metrics.test.ts (its seeded random sets, made here the same
                                   way) and this reference's results on them, which the test
                                   compares ecaf's metrics against
"""
import json
import math
import os
import sys

import numpy as np
from scipy import interpolate


def kfold_split(n, k):
    """sklearn.model_selection.KFold(n_splits=k, shuffle=False).split(range(n))."""
    sizes = np.full(k, n // k, dtype=int)
    sizes[: n % k] += 1
    indices = np.arange(n)
    current = 0
    for size in sizes:
        test = indices[current:current + size]
        train = np.concatenate([indices[:current], indices[current + size:]])
        yield train, test
        current += size


def calculate_accuracy(threshold, dist, actual_issame):
    predict_issame = np.less(dist, threshold)
    tp = np.sum(np.logical_and(predict_issame, actual_issame))
    fp = np.sum(np.logical_and(predict_issame, np.logical_not(actual_issame)))
    tn = np.sum(np.logical_and(np.logical_not(predict_issame), np.logical_not(actual_issame)))
    fn = np.sum(np.logical_and(np.logical_not(predict_issame), actual_issame))
    tpr = 0 if (tp + fn == 0) else float(tp) / float(tp + fn)
    fpr = 0 if (fp + tn == 0) else float(fp) / float(fp + tn)
    acc = float(tp + tn) / dist.size
    return tpr, fpr, acc


def calculate_roc(thresholds, dist, actual_issame, nrof_folds):
    nrof_thresholds = len(thresholds)
    tprs = np.zeros((nrof_folds, nrof_thresholds))
    fprs = np.zeros((nrof_folds, nrof_thresholds))
    accuracy = np.zeros(nrof_folds)
    best = np.zeros(nrof_folds)
    for fold_idx, (train_set, test_set) in enumerate(kfold_split(len(dist), nrof_folds)):
        acc_train = np.zeros(nrof_thresholds)
        for threshold_idx, threshold in enumerate(thresholds):
            _, _, acc_train[threshold_idx] = calculate_accuracy(threshold, dist[train_set], actual_issame[train_set])
        best_threshold_index = np.argmax(acc_train)
        for threshold_idx, threshold in enumerate(thresholds):
            tprs[fold_idx, threshold_idx], fprs[fold_idx, threshold_idx], _ = calculate_accuracy(
                threshold, dist[test_set], actual_issame[test_set])
        _, _, accuracy[fold_idx] = calculate_accuracy(thresholds[best_threshold_index], dist[test_set], actual_issame[test_set])
        best[fold_idx] = thresholds[best_threshold_index]
    return np.mean(tprs, 0), np.mean(fprs, 0), accuracy, best


def calculate_val_far(threshold, dist, actual_issame):
    predict_issame = np.less(dist, threshold)
    true_accept = np.sum(np.logical_and(predict_issame, actual_issame))
    false_accept = np.sum(np.logical_and(predict_issame, np.logical_not(actual_issame)))
    n_same = np.sum(actual_issame)
    n_diff = np.sum(np.logical_not(actual_issame))
    return float(true_accept) / float(n_same), float(false_accept) / float(n_diff)


def slinear(x, y, x_new):
    """interp1d(x, y, kind='slinear')(x_new) as scipy < 1.9 computed it, the scipy insightface's
    numbers come from: mergesort, then make_interp_spline's k=1 shortcut, a BSpline on knots
    [x0, x..., xlast]. scipy >= 1.9 raises "Expect x to not have duplicates" there instead
    (insightface issue #2152), because far_train always repeats 0."""
    ind = np.argsort(x, kind='mergesort')
    x, y = x[ind], y[ind]
    assert x[0] <= x_new <= x[-1]
    spline = interpolate.BSpline.construct_fast(np.r_[x[0], x, x[-1]], np.ascontiguousarray(y, dtype=float), 1)
    return float(spline(x_new))


def calculate_val(thresholds, dist, actual_issame, far_target, nrof_folds):
    nrof_thresholds = len(thresholds)
    val = np.zeros(nrof_folds)
    far = np.zeros(nrof_folds)
    chosen = np.zeros(nrof_folds)
    for fold_idx, (train_set, test_set) in enumerate(kfold_split(len(dist), nrof_folds)):
        far_train = np.zeros(nrof_thresholds)
        for threshold_idx, threshold in enumerate(thresholds):
            _, far_train[threshold_idx] = calculate_val_far(threshold, dist[train_set], actual_issame[train_set])
        if np.max(far_train) >= far_target:
            threshold = slinear(far_train, thresholds, far_target)
        else:
            threshold = 0.0
        chosen[fold_idx] = threshold
        val[fold_idx], far[fold_idx] = calculate_val_far(threshold, dist[test_set], actual_issame[test_set])
    return np.mean(val), np.std(val), np.mean(far), chosen


def reference(data):
    dist = np.asarray(data['dist'], dtype=np.float64)
    issame = np.asarray(data['issame'], dtype=bool)
    folds = int(data['folds'])
    tpr, fpr, accuracy, best = calculate_roc(np.arange(0, 4, 0.01), dist, issame, folds)
    out = {
        'accuracy': accuracy.tolist(), 'mean': float(np.mean(accuracy)), 'std': float(np.std(accuracy)),
        'best_thresholds': best.tolist(), 'tpr': tpr.tolist(), 'fpr': fpr.tolist(), 'val': [],
    }
    for target in data['far_targets']:
        val_mean, val_std, far_mean, chosen = calculate_val(np.arange(0, 4, 0.001), dist, issame, target, folds)
        out['val'].append({'target': target, 'tar': val_mean, 'tar_std': val_std, 'far': far_mean, 'thresholds': chosen.tolist()})
    return out


# The sets of metrics.test.ts: (seed, pairs, folds, distances on the 0.01 grid), FAR targets.
FIXTURE_CASES = [(1, 600, 10, False), (7, 1003, 7, False), (42, 800, 10, True)]
FIXTURE_TARGETS = [1e-3, 1e-2, 0.1]


def random_set(seed, n, folds, quantized):
    """randomSet of metrics.test.ts, operation for operation (the same LCG and double arithmetic)."""
    s = float(seed)

    def rand():
        nonlocal s
        s = math.fmod(s * 1103515245.0 + 12345.0, 2147483648.0)  # in doubles, as JavaScript computes it (past 2**53 it rounds)
        return s / 2147483648.0

    dist, same = [], []
    for i in range(n):
        pos = 1 if i % 20 < 10 else 0
        d = 0.2 + 1.4 * rand() + 0.3 * rand() if pos else 1.0 + 1.6 * rand() + 0.4 * rand()
        if quantized:
            d = math.floor(d * 100 + 0.5) * 0.01  # JavaScript's Math.round (halves up), not Python's round
        dist.append(d)
        same.append(pos)
    return {'dist': dist, 'issame': [bool(x) for x in same], 'folds': folds, 'far_targets': FIXTURE_TARGETS}


def write_fixture():
    cases = []
    for seed, n, folds, quantized in FIXTURE_CASES:
        data = random_set(seed, n, folds, quantized)
        cases.append({'seed': seed, 'pairs': n, 'folds': folds, 'quantized': quantized, 'input': data, 'reference': reference(data)})
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'insightface_ref.json')
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out + '.tmp', 'w') as f:
        json.dump({'script': 'test/benchmark/insightface_ref.py --fixture', 'numpy': np.__version__,
                   'scipy': __import__('scipy').__version__, 'cases': cases}, f)
        f.write('\n')
    os.replace(out + '.tmp', out)
    print(out)


if __name__ == '__main__':
    if sys.argv[1:] == ['--fixture']:
        write_fixture()
    else:
        json.dump(reference(json.load(sys.stdin)), sys.stdout)
