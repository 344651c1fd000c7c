"""Random-weight MTLFace checkpoints for tests, benchmarks and scripts/gpu-check.sh:
  python3 -m ecaf_torch.make_checkpoint OUT [--variant released|training] [--depth ir34|ir50|ir64|ir101]
      [--prefix encoder.|module.|module.encoder.|none] [--age-head] [--wrap KEY] [--keys-file FILE]
      [--drop REGEX] [--seed N]
Every weight and batch-norm statistic is random (not the identity), so a loader that
mixes up tensors gives different embeddings. --keys-file takes a list like
mtlface-checkpoint-keys.txt ("name [shape]" per line) and adds every key it lists that the
model does not have as a small placeholder tensor (the synthesis parts are ignored on load).
--drop leaves out the keys matching a regular expression (broken checkpoints for tests).
"""
import argparse
import re

import torch

from .models.recognition import DEPTHS, VARIANTS, RecognitionModel


def random_model(depth, variant, age_head, seed):
    torch.manual_seed(seed)
    model = RecognitionModel(depth, variant, age_head=age_head)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith('running_mean') or (name.endswith('.bias') and t.dim() == 1):
                t.normal_(0, 0.1)
            elif name.endswith('running_var'):
                t.uniform_(0.5, 1.5)
            elif name.endswith('.weight') and t.dim() == 1:  # batch norm scales and PReLU slopes
                t.uniform_(0.5, 1.5)
    return model.eval()


def placeholder_keys(path, have):
    """`name [d0, d1, ...]` lines of a key list -> {name: small tensor} for names not in `have`."""
    extra = {}
    for line in open(path, encoding='utf-8'):
        m = re.match(r'^(\S+) \[([\d, ]*)\]$', line.strip())
        if m and m.group(1) not in have:
            extra[m.group(1)] = torch.zeros(1)
    return extra


def build_state(model, prefix, keys_file=None):
    state = {prefix + k: v for k, v in model.state_dict().items() if not k.startswith('age_estimator.')}
    root = prefix[:-len('encoder.')] if prefix.endswith('encoder.') else prefix
    state.update({root + k: v for k, v in model.state_dict().items() if k.startswith('age_estimator.')})
    if keys_file:
        state.update(placeholder_keys(keys_file, state))
    return state


def main(argv=None):
    p = argparse.ArgumentParser(prog='ecaf_torch.make_checkpoint')
    p.add_argument('out')
    p.add_argument('--variant', choices=VARIANTS, default='released')
    p.add_argument('--depth', choices=list(DEPTHS), default='ir50')
    p.add_argument('--prefix', default='encoder.', help="key prefix, or 'none'")
    p.add_argument('--age-head', action='store_true', help='add age_estimator.* (beside the prefix)')
    p.add_argument('--wrap', default='', help="save {KEY: state_dict} instead of the bare state dict")
    p.add_argument('--keys-file', help='add the other keys of this list as placeholders')
    p.add_argument('--drop', help='leave out keys matching this regular expression')
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args(argv)
    prefix = '' if a.prefix == 'none' else a.prefix
    state = build_state(random_model(a.depth, a.variant, a.age_head, a.seed), prefix, a.keys_file)
    if a.drop:
        state = {k: v for k, v in state.items() if not re.search(a.drop, k)}
    torch.save({a.wrap: state} if a.wrap else state, a.out)
    print(f'{a.out}: {a.depth} {a.variant}, prefix {a.prefix}, {len(state)} tensors')


if __name__ == '__main__':
    main()
