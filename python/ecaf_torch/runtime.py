"""Device choice and the inference calls (embedding, face age synthesis), shared by the
workers and the throughput checks."""
import os
from contextlib import nullcontext

import torch

from .models.stylegan2 import noise_sides
from .models.synthesis import to_uint8
from .protocol import noise_seed


class DeviceError(Exception):
    """The requested device or precision cannot be used here; the message says what to install."""


def setup_threads():
    # Debian's torch starts with one thread: use every core for CPU inference.
    torch.set_num_threads(os.cpu_count() or 1)


def pick_device(requested, fp16):
    """'auto' | 'cpu' | 'cuda' -> (torch device, fp16 used, note for the report)."""
    has_cuda = torch.cuda.is_available()
    if requested == 'cuda' and not has_cuda:
        why = ('this PyTorch build has no CUDA' if torch.version.cuda is None
               else f'PyTorch (CUDA {torch.version.cuda}) sees no GPU')
        raise DeviceError(f'--device cuda: {why} (torch {torch.__version__}). Install a CUDA build of PyTorch '
                          '(https://pytorch.org/get-started/locally/) on a machine with an NVIDIA driver, '
                          'or use --device cpu / auto')
    if requested == 'cpu' and fp16:
        raise DeviceError('fp16 autocast needs CUDA: use --device cuda (or auto on a GPU machine), or drop fp16')
    if requested not in ('auto', 'cpu', 'cuda'):
        raise DeviceError(f'unknown device {requested!r}: auto, cpu or cuda')
    use_cuda = requested == 'cuda' or (requested == 'auto' and has_cuda)
    if not use_cuda:
        note = 'auto: no CUDA, running on CPU' + (' in fp32 (fp16 needs CUDA)' if fp16 else '')
        return torch.device('cpu'), False, note if requested == 'auto' else ''
    return torch.device('cuda'), fp16, ''


def prepare(model, device):
    model = model.to(device).eval()
    if device.type == 'cuda':
        torch.backends.cudnn.benchmark = True
        # NHWC lets cuDNN use tensor cores without layout transposes
        model = model.to(memory_format=torch.channels_last)
    return model


def run(model, batch, device, fp16):
    """Rows of a [N,3,112,112] float32 batch (CPU tensor) as a float32 CPU tensor: the raw
    embedding, then, for a model with an age head, the age and the 7 age-group logits."""
    with torch.inference_mode():
        x = batch.to(device, non_blocking=True)
        if device.type == 'cuda':
            x = x.contiguous(memory_format=torch.channels_last)
            with torch.autocast('cuda', dtype=torch.float16, enabled=fp16):
                y = model(x)
        else:
            y = model(x)
        if isinstance(y, tuple):
            emb, age, groups = y
            y = torch.cat([emb.float(), age.float()[:, None], groups.float()], dim=1)
        return y.float().cpu()


def random_noise(seeds, group):
    """Per-layer noise [n, 1, s, s] (CPU) for one age group: each image's own CPU generator
    (protocol.py says how it is seeded), so CPU and CUDA, and any batching, draw the same maps."""
    per_image = []
    for seed in seeds:
        g = torch.Generator().manual_seed(noise_seed(int(seed), group))
        per_image.append([torch.randn(1, 1, s, s, generator=g) for s in noise_sides()])
    return [torch.cat(layer) for layer in zip(*per_image)]


def render(model, batch, groups, device, fp16, noise=None):
    """Faces of a [N,3,112,112] float32 batch (CPU tensor) at each age group of `groups`, as a
    [N, G, 112, 112, 3] uint8 CPU tensor: the encoder once per face, the age conditions and the
    decoder once per group. `noise(k)`: group k's per-layer maps (random_noise); None: the stored ones."""
    if batch.shape[0] == 0:
        return torch.zeros(0, len(groups), *batch.shape[2:], 3, dtype=torch.uint8)
    with torch.inference_mode():
        x = batch.to(device, non_blocking=True)
        cuda = device.type == 'cuda'
        if cuda:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast('cuda', dtype=torch.float16, enabled=fp16 and cuda) if cuda else nullcontext():
            maps = model.encode(x)
            faces = []
            for k in groups:
                maps_k = None if noise is None else [t.to(device, non_blocking=True) for t in noise(k)]
                faces.append(to_uint8(model.render(maps, k, maps_k)))
        return torch.stack(faces, dim=1).cpu()


def device_name(device, fp16):
    if device.type != 'cuda':
        return 'cpu'
    return 'cuda (fp16)' if fp16 else 'cuda'
