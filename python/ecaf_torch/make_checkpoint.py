"""Random-weight MTLFace checkpoints for tests, benchmarks and scripts/gpu-check.sh:
  python3 -m ecaf_torch.make_checkpoint OUT [--variant released|training] [--depth ir34|ir50|ir64|ir101]
      [--prefix encoder.|module.|module.encoder.|none] [--age-head] [--wrap KEY] [--keys-file FILE]
      [--drop REGEX] [--seed N] [--synthesis] [--synthesis-width W]
Every weight and batch-norm statistic is random (not the identity), so a loader that
mixes up tensors gives different embeddings. --keys-file takes a list like
mtlface-checkpoint-keys.txt ("name [shape]" per line) and adds every key it lists that the
model does not have as a small placeholder tensor (the synthesis parts are ignored on load).
--drop leaves out the keys matching a regular expression (broken checkpoints for tests).
--synthesis writes the whole released checkpoint: the age head, the face age synthesis parts
(encoder.styles, upsample*, latlayer*, aging*) and decoder.* with its mapping network, noise
maps and latent_avg, all random (843 keys for ir50; the blur kernels and the routers' unit
masks are the architecture's constants). --synthesis-width W narrows the style dim to W and
the decoder's widths by W/512 (same keys, smaller shapes: fast tests on a CPU).
"""
import argparse
import re

import torch

from .models.recognition import DEPTHS, VARIANTS, RecognitionModel
from .models.stylegan2 import released_channels
from .models.synthesis import AgeConditions, Decoder

MAPPING_LAYERS = 8  # the generator's style MLP: decoder.decoder.style.1..8


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


def random_synthesis(width, seed):
    """(AgeConditions, Decoder, mapping tensors) with random weights whose images are not all
    clamped: He-normal weights for the encoder parts, StyleGAN2's randn for the decoder."""
    torch.manual_seed(seed + 1)
    channels = [max(1, c * width // 512) for c in released_channels()]
    conditions, decoder = AgeConditions(width), Decoder(width, channels)
    with torch.no_grad():
        for name, t in conditions.named_parameters():
            if t.dim() > 1:  # He init: the codes' scale (and so the age groups' effect) survives the deep stack
                t.normal_(0, (2 / t[0].numel()) ** 0.5 * (0.5 if name.endswith('linear.weight') else 1))
            else:
                t.normal_(0, 0.1)
        for name, t in decoder.named_parameters():
            if name.endswith('modulation.bias'):
                t.normal_(1, 0.2)  # upstream's bias_init=1: styles near 1 keep the conv's scale
            elif name.endswith(('bias', 'noise.weight')):
                t.normal_(0, 0.1)
            else:
                t.normal_()
            if 'to_rgb' in name and name.endswith('conv.weight'):
                t.mul_(0.2)  # six RGB layers add up: keep most pixels inside [-1, 1]
        for t in decoder.decoder.noises.maps():
            t.normal_()
        decoder.latent_avg.normal_(0, 0.2)
    mapping = {}
    for i in range(1, MAPPING_LAYERS + 1):
        mapping[f'decoder.style.{i}.weight'] = torch.randn(width, width)
        mapping[f'decoder.style.{i}.bias'] = torch.randn(width) * 0.1
    return conditions.eval(), decoder.eval(), mapping


def placeholder_keys(path, have):
    """`name [d0, d1, ...]` lines of a key list -> {name: small tensor} for names not in `have`."""
    extra = {}
    for line in open(path, encoding='utf-8'):
        m = re.match(r'^(\S+) \[([\d, ]*)\]$', line.strip())
        if m and m.group(1) not in have:
            extra[m.group(1)] = torch.zeros(1)
    return extra


def build_state(model, prefix, keys_file=None, synthesis=None):
    state = {prefix + k: v for k, v in model.state_dict().items() if not k.startswith('age_estimator.')}
    root = prefix[:-len('encoder.')] if prefix.endswith('encoder.') else prefix
    state.update({root + k: v for k, v in model.state_dict().items() if k.startswith('age_estimator.')})
    if synthesis:
        conditions, decoder, mapping = synthesis
        state.update({prefix + k: v for k, v in conditions.state_dict().items()})
        state.update({root + 'decoder.' + k: v for k, v in {**decoder.state_dict(), **mapping}.items()})
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
    p.add_argument('--synthesis', action='store_true', help='the whole released checkpoint (implies --age-head)')
    p.add_argument('--synthesis-width', type=int, default=512, help='style dim (512 released; smaller is faster)')
    a = p.parse_args(argv)
    prefix = '' if a.prefix == 'none' else a.prefix
    synthesis = random_synthesis(a.synthesis_width, a.seed) if a.synthesis else None
    model = random_model(a.depth, a.variant, a.age_head or a.synthesis, a.seed)
    state = build_state(model, prefix, a.keys_file, synthesis)
    if a.drop:
        state = {k: v for k, v in state.items() if not re.search(a.drop, k)}
    torch.save({a.wrap: state} if a.wrap else state, a.out)
    print(f'{a.out}: {a.depth} {a.variant}, prefix {a.prefix}, {len(state)} tensors')


if __name__ == '__main__':
    main()
