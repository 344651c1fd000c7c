"""Recognise and load MTLFace checkpoints: any `torch.save` state dict, whatever the file
extension, bare or wrapped (e.g. under `state_dict`), with `encoder.`, `module.`,
`module.encoder.` or no prefix. `load_model` loads only the recognition weights (and the age
head when present) and ignores the synthesis parts of the released checkpoint;
`load_synthesis` loads those too, refusing a checkpoint that lacks them."""
import os
import pickle
import re
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from .models.recognition import DEPTHS, RecognitionModel
from .models.stylegan2 import PAIRS
from .models.synthesis import AgeConditions, Decoder, FaceAgeSynthesis

# The key whose shape tells the two published fsm variants apart.
VARIANT_KEY = 'fsm.channel.0.weight'
VARIANT_BY_CHANNELS = {14336: 'released', 7168: 'training'}
RECOGNITION_PARTS = ('input_layer.', 'block1.', 'block2.', 'block3.', 'block4.', 'fsm.', 'output_layer.')
AGE_PART = 'age_estimator.'
KNOWN_PREFIXES = ('', 'encoder.', 'module.', 'module.encoder.')
TRUST_ENV = 'ECAF_TRUST_CHECKPOINT'
# Face age synthesis: these under the encoder's prefix, `decoder.` beside it (docs/reference.md 5b).
SYNTHESIS_PARTS = ('styles.', 'upsample1.', 'upsample2.', 'upsample3.', 'latlayer1.', 'latlayer2.',
                   'aging1.', 'aging2.', 'aging3.')
DECODER_PART = 'decoder.'
# The generator's mapping network: unused, the encoder gives W+ codes directly.
MAPPING_PART = 'decoder.style.'


class CheckpointError(Exception):
    """The file is not a checkpoint this loader can use; the message says why."""


@dataclass
class CheckpointInfo:
    path: str
    variant: str
    depth: str
    prefix: str
    age_keys: int
    loaded_keys: int
    ignored_keys: int
    wrapper: str = ''
    synthesis: str = ''

    def describe(self):
        prefix = self.prefix or '(none)'
        wrapped = f", under '{self.wrapper}'" if self.wrapper else ''
        age = f', age head ({self.age_keys} tensors) loaded' if self.age_keys else ''
        synthesis = f', {self.synthesis}' if self.synthesis else ''
        return (f'MTLFace {self.depth}, {self.variant} fsm variant, prefix {prefix}{wrapped}: '
                f'{self.loaded_keys} recognition tensors loaded{age}{synthesis}, {self.ignored_keys} other tensors ignored')


def read_state_dict(path):
    """The tensors of a torch.save file, and the wrapper key they sat under ('' if bare)."""
    if not os.path.isfile(path):
        raise CheckpointError(f'{path}: no such file')
    with open(path, 'rb') as f:
        magic = f.read(4)
    # torch.save writes a zip archive (torch >= 1.6) or, in the legacy format, a pickle (protocol byte 0x80)
    if magic[:4] != b'PK\x03\x04' and magic[:1] != b'\x80':
        raise CheckpointError(f'{path}: not a torch.save file (neither a zip archive nor a pickle; '
                              f'it starts with {magic!r})')
    try:
        obj = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        if os.environ.get(TRUST_ENV) != '1':
            raise CheckpointError(
                f'{path}: holds Python objects besides tensors, and loading those would run code from the file. '
                f'If you trust it, set {TRUST_ENV}=1. ({err})') from err
        obj = torch.load(path, map_location='cpu', weights_only=False)
    except Exception as err:  # noqa: BLE001 - every other loader failure becomes a message naming the file
        raise CheckpointError(f'{path}: not a torch.save file that torch {torch.__version__} can read '
                              f'({type(err).__name__}: {err})') from err
    return find_tensors(path, obj)


def _is_state_dict(obj):
    return isinstance(obj, dict) and any(isinstance(v, torch.Tensor) for v in obj.values())


def find_tensors(path, obj):
    """The state dict in `obj`: itself, or one level down (e.g. under `state_dict`), preferring
    one that holds MTLFace's fsm; other state dicts are returned so `detect` can say what they lack."""
    nested = [(str(k), v) for k, v in obj.items() if isinstance(v, dict)] if isinstance(obj, dict) else []
    candidates = [('', obj)] + nested
    for name, inner in candidates:
        if _is_state_dict(inner) and any(str(k).endswith(VARIANT_KEY) for k in inner):
            return inner, name
    for name, inner in candidates:
        if _is_state_dict(inner):
            return inner, name
    raise CheckpointError(f'{path}: holds a {type(obj).__name__} with no tensors, not a state dict '
                          f'(nor a dict wrapping one, e.g. under state_dict)')


def _examples(keys, n=6):
    keys = sorted(keys)
    more = f' ... ({len(keys)} in all)' if len(keys) > n else ''
    return ', '.join(keys[:n]) + more


def detect(path, state):
    """Prefix, variant and depth of an MTLFace state dict; CheckpointError naming what is
    missing or mismatched for anything else."""
    hits = [k[:-len(VARIANT_KEY)] for k in state if k.endswith(VARIANT_KEY)]
    if not hits:
        top = sorted({k.split('.')[0] for k in state})
        raise CheckpointError(
            f'{path}: not an MTLFace recognition checkpoint: no {VARIANT_KEY} (the attention-based '
            f'feature decomposition) under any of the prefixes {", ".join(p or "(none)" for p in KNOWN_PREFIXES)}. '
            f'Expected input_layer.*, block1..4.*, fsm.*, output_layer.*; '
            f'the file has {len(state)} tensors, top-level names: {_examples(top, 12)}')
    prefix = next((p for p in KNOWN_PREFIXES if p in hits), hits[0])
    shape = tuple(state[prefix + VARIANT_KEY].shape)
    variant = VARIANT_BY_CHANNELS.get(shape[1]) if len(shape) == 4 else None
    if variant is None:
        raise CheckpointError(
            f'{path}: {prefix}{VARIANT_KEY} has shape {list(shape)}; MTLFace has [896, 14336, 1, 1] '
            f'(released package) or [448, 7168, 1, 1] (training code)')
    units = []
    for b in range(1, 5):
        pattern = re.compile(rf'^{re.escape(prefix)}block{b}\.(\d+)\.')
        idx = {int(m.group(1)) for k in state for m in [pattern.match(k)] if m}
        units.append(max(idx) + 1 if idx else 0)
    units = tuple(units)
    depth = next((name for name, u in DEPTHS.items() if u == units), None)
    if depth is None:
        known = ', '.join(f'{n} {list(u)}' for n, u in DEPTHS.items())
        raise CheckpointError(
            f'{path}: {prefix}block1..4 have {list(units)} units per stage; MTLFace depths are {known}')
    return prefix, variant, depth


@contextmanager
def uninitialised():
    """Modules built without their random init (kaiming on 100M+ weights takes seconds here):
    for models whose every tensor is loaded next (check_match makes sure)."""
    saved = nn.Conv2d.reset_parameters, nn.Linear.reset_parameters
    nn.Conv2d.reset_parameters = nn.Linear.reset_parameters = lambda self: None
    try:
        yield
    finally:
        nn.Conv2d.reset_parameters, nn.Linear.reset_parameters = saved


def adopt(model, tensors):
    """load_state_dict without the copy: the modules take the loaded tensors themselves (cast to
    the module's dtype where it differs), so a 1 GB checkpoint is neither copied nor held twice."""
    for key, t in tensors.items():
        owner, _, name = key.rpartition('.')
        module = model.get_submodule(owner)
        if name in module._parameters:
            module._parameters[name] = nn.Parameter(t.to(module._parameters[name].dtype), requires_grad=False)
        else:
            module._buffers[name] = t.to(module._buffers[name].dtype)


def check_match(path, what, prefix, wanted, picked):
    """CheckpointError naming the tensors of `wanted` (a state dict) that `picked` lacks, has with
    another shape, or has beyond it; keys are shown with their `prefix` in the file."""
    missing = [k for k in wanted if k not in picked and not k.endswith('num_batches_tracked')]
    unexpected = [k for k in picked if k not in wanted]
    wrong = [f'{prefix}{k} {list(picked[k].shape)} (expected {list(wanted[k].shape)})'
             for k in wanted if k in picked and picked[k].shape != wanted[k].shape]
    if missing or unexpected or wrong:
        problems = []
        if missing:
            problems.append(f'missing {len(missing)}: {_examples(prefix + k for k in missing)}')
        if wrong:
            problems.append(f'wrong shape {len(wrong)}: {"; ".join(wrong[:6])}')
        if unexpected:
            problems.append(f'unexpected {len(unexpected)}: {_examples(prefix + k for k in unexpected)}')
        raise CheckpointError(f'{path}: looks like {what} but does not match it: ' + '; '.join(problems))


def root_of(prefix):
    """Where the parts beside the encoder sit (age_estimator., decoder.): the prefix less `encoder.`."""
    return prefix[:-len('encoder.')] if prefix.endswith('encoder.') else prefix


def recognition_from(path, state, wrapper):
    """The RecognitionModel (eval mode, CPU) of an MTLFace state dict, and what was found."""
    prefix, variant, depth = detect(path, state)
    root = root_of(prefix)
    age_keys = {k[len(root) + len(AGE_PART):]: v for k, v in state.items() if k.startswith(root + AGE_PART)}
    with uninitialised():
        model = RecognitionModel(depth, variant, age_head=bool(age_keys))
    picked = {}
    for k, v in state.items():
        if k.startswith(prefix) and k[len(prefix):].startswith(RECOGNITION_PARTS):
            picked[k[len(prefix):]] = v
    picked.update({AGE_PART + k: v for k, v in age_keys.items()})
    check_match(path, f'MTLFace {depth} ({variant} variant, prefix {prefix or "(none)"})', prefix,
                model.state_dict(), picked)
    adopt(model, picked)
    model.eval()
    info = CheckpointInfo(path=path, variant=variant, depth=depth, prefix=prefix, age_keys=len(age_keys),
                          loaded_keys=len(picked) - len(age_keys), ignored_keys=len(state) - len(picked),
                          wrapper=wrapper)
    return model, info


def load_model(path):
    """The RecognitionModel (eval mode, CPU) of an MTLFace checkpoint, and what was found."""
    return recognition_from(path, *read_state_dict(path))


def _width(state, key, dim, default):
    # a missing or odd tensor keeps the released width, and check_match then names it
    t = state.get(key)
    return t.shape[dim] if isinstance(t, torch.Tensor) and t.dim() > dim else default


def load_synthesis(path):
    """The FaceAgeSynthesis model (eval mode, CPU) of a whole MTLFace checkpoint, and what was
    found; CheckpointError naming the missing key prefixes for a recognition-only one."""
    return synthesis_from(path, *read_state_dict(path))


def synthesis_from(path, state, wrapper):
    """load_synthesis of a state dict read from `path`. The style dim and the decoder's widths
    are read from the tensors' shapes; the widths tied to the recognition encoder are fixed."""
    recognition, info = recognition_from(path, state, wrapper)
    prefix, root = info.prefix, root_of(info.prefix)
    absent = [prefix + p for p in SYNTHESIS_PARTS if not any(k.startswith(prefix + p) for k in state)]
    if not any(k.startswith(root + DECODER_PART) for k in state):
        absent.append(root + DECODER_PART)
    if absent:
        raise CheckpointError(
            f'{path}: holds MTLFace {info.depth} recognition weights but not the face age synthesis: no tensors '
            f'under {", ".join(absent)}. Synthesis needs the whole released checkpoint (encoder, age_estimator '
            f'and decoder), not a recognition-only one')
    dec = root + DECODER_PART
    style_dim = _width(state, dec + 'latent_avg', 2, 512)
    channels = [_width(state, dec + 'decoder.input.input', 1, 512)]
    channels += [_width(state, f'{dec}decoder.convs.{2 * k}.conv.weight', 1, 512) for k in range(PAIRS)]
    with uninitialised():
        conditions, decoder = AgeConditions(style_dim), Decoder(style_dim, channels)
    picked_conditions = {k[len(prefix):]: v for k, v in state.items()
                         if k.startswith(prefix) and k[len(prefix):].startswith(SYNTHESIS_PARTS)}
    picked_decoder = {k[len(dec):]: v for k, v in state.items()
                      if k.startswith(dec) and not k[len(dec):].startswith(MAPPING_PART)}
    what = f'MTLFace face age synthesis (style dim {style_dim}, decoder widths {"/".join(map(str, channels))})'
    check_match(path, what, prefix, conditions.state_dict(), picked_conditions)
    check_match(path, what, dec, decoder.state_dict(), picked_decoder)
    adopt(conditions, picked_conditions)
    adopt(decoder, picked_decoder)
    mapping = sum(1 for k in state if k.startswith(dec + MAPPING_PART))
    loaded = len(picked_conditions) + len(picked_decoder)
    info.synthesis = (f'face age synthesis ({loaded} tensors, style dim {style_dim}, decoder widths '
                      f'{"/".join(map(str, channels))}) loaded, mapping network ({mapping} tensors) unused')
    info.ignored_keys -= loaded
    return FaceAgeSynthesis(recognition, conditions, decoder).eval(), info
