"""Images/s of an MTLFace checkpoint: torch alone, and through the worker's pipe, on the same
batches; how far a device's embeddings are from the CPU's; and (--mode synth, a whole
checkpoint) the rendered faces/s of a plain PyTorch face age synthesis: the encoder once per
face, the age conditions and the decoder once per group of --groups (a bit mask, 127 = all 7).
Used by scripts/gpu-check.sh and npm run bench:synthesize.
  python3 -m ecaf_torch.throughput CHECKPOINT --mode torch|pipe|agree|synth [--device cuda] [--fp16]
      [--count 20000] [--batch 256] [--agree 64] [--groups 127] [--noise stored|random]
Prints one JSON line. Images are random pixels in [-1, 1] (speed does not depend on content);
a pool of 4 distinct batches is cycled so 20,000 images do not need 3 GB of memory.
"""
import argparse
import json
import subprocess
import sys
import threading
import time

import torch

from .checkpoint import load_model, load_synthesis
from .models.recognition import AGE_GROUPS
from .protocol import REQUEST, RESPONSE, STATUS_OK, read_exact, widen_pipe
from .runtime import device_name, pick_device, prepare, random_noise, render, run, setup_threads

WARMUP_BATCHES = 2
POOL = 4


def batches(count, batch, seed=0):
    g = torch.Generator().manual_seed(seed)
    pool = [torch.rand(batch, 3, 112, 112, generator=g) * 2 - 1 for _ in range(POOL)]
    sizes = [min(batch, count - i) for i in range(0, count, batch)]
    return [pool[k % POOL][:n] for k, n in enumerate(sizes)]


def time_torch(model, device, fp16, work):
    for b in work[:WARMUP_BATCHES]:
        run(model, b, device, fp16)
    start = time.perf_counter()
    for b in work:
        run(model, b, device, fp16)  # ends with .cpu(): synchronised, like the worker's answers
    return time.perf_counter() - start


def time_synthesis(model, device, fp16, work, groups, noise):
    def once(b):
        # random noise drawn inline: plain PyTorch, no reader thread to hide it in
        draw = (lambda k: random_noise(range(b.shape[0]), k)) if noise == 'random' else None
        render(model, b, groups, device, fp16, draw)  # uint8 on the CPU: synchronised

    for b in work[:WARMUP_BATCHES]:
        once(b)
    start = time.perf_counter()
    for b in work:
        once(b)
    return time.perf_counter() - start


def time_pipe(checkpoint, device, fp16, work):
    """The worker as ecaf runs it: a writer thread streams frames while this thread reads answers."""
    cmd = [sys.executable, '-m', 'ecaf_torch.worker', checkpoint, '--device', device] + (['--fp16'] if fp16 else [])
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    widen_pipe(proc.stdin.fileno())
    header = json.loads(proc.stdout.readline())
    frames, frame_of = {}, []
    for k, b in enumerate(work):  # one bytes object per distinct batch, reused like the tensors
        key = (k % POOL, b.shape[0])
        if key not in frames:
            frames[key] = REQUEST.pack(b.shape[0], 3 * 112 * 112) + b.numpy().tobytes()
        frame_of.append(frames[key])

    def answer():
        head = bytearray(RESPONSE.size)
        read_exact(proc.stdout, memoryview(head))
        status, a, b = RESPONSE.unpack(head)
        body = bytearray(a * b * 4 if status == STATUS_OK else a)
        read_exact(proc.stdout, memoryview(body))
        if status != STATUS_OK:
            raise RuntimeError(body.decode())

    for f in frame_of[:WARMUP_BATCHES]:
        proc.stdin.write(f)
        answer()
    start = time.perf_counter()
    writer = threading.Thread(target=lambda: [proc.stdin.write(f) for f in frame_of])
    writer.start()
    for _ in frame_of:
        answer()
    elapsed = time.perf_counter() - start
    writer.join()
    proc.stdin.close()
    proc.wait()
    return elapsed, header


def cosines(a, b):
    return torch.nn.functional.cosine_similarity(a, b, dim=1)


def main(argv=None):
    p = argparse.ArgumentParser(prog='ecaf_torch.throughput')
    p.add_argument('checkpoint')
    p.add_argument('--mode', choices=['torch', 'pipe', 'agree', 'synth'], required=True)
    p.add_argument('--device', default='cuda', choices=['auto', 'cpu', 'cuda'])
    p.add_argument('--fp16', action='store_true')
    p.add_argument('--count', type=int, default=20000)
    p.add_argument('--batch', type=int, default=256)
    p.add_argument('--agree', type=int, default=64, help='images compared with the CPU in --mode agree')
    p.add_argument('--groups', type=int, default=(1 << AGE_GROUPS) - 1, help='--mode synth: age groups, a bit mask')
    p.add_argument('--noise', choices=['stored', 'random'], default='stored', help='--mode synth: the noise maps')
    a = p.parse_args(argv)
    setup_threads()
    device, fp16, _ = pick_device(a.device, a.fp16)
    out = {'mode': a.mode, 'device': device_name(device, fp16), 'batch': a.batch, 'torch': torch.__version__,
           'gpu': torch.cuda.get_device_name(device) if device.type == 'cuda' else ''}
    if a.mode == 'pipe':
        work = batches(a.count, a.batch)
        elapsed, header = time_pipe(a.checkpoint, a.device, fp16, work)
        out.update(images=a.count, seconds=round(elapsed, 3), images_per_s=round(a.count / elapsed, 1),
                   model=header['describe'])
    elif a.mode == 'synth':
        model, info = load_synthesis(a.checkpoint)
        groups = [k for k in range(AGE_GROUPS) if a.groups >> k & 1]
        work = batches(a.count, a.batch)
        elapsed = time_synthesis(prepare(model, device), device, fp16, work, groups, a.noise)
        rendered = a.count * len(groups)
        out.update(model=info.describe(), faces=a.count, groups=len(groups), noise=a.noise, rendered=rendered,
                   seconds=round(elapsed, 3), faces_per_s=round(a.count / elapsed, 2),
                   rendered_faces_per_s=round(rendered / elapsed, 2))
    else:
        model, info = load_model(a.checkpoint)
        out['model'] = info.describe()
        if a.mode == 'torch':
            work = batches(a.count, a.batch)
            elapsed = time_torch(prepare(model, device), device, fp16, work)
            out.update(images=a.count, seconds=round(elapsed, 3), images_per_s=round(a.count / elapsed, 1))
        else:
            x = batches(a.agree, a.agree, seed=1)[0]
            cpu = run(model, x, torch.device('cpu'), False)
            dev = run(prepare(model, device), x, device, fp16)
            c = cosines(cpu, dev)
            out.update(images=a.agree, cosine_min=round(c.min().item(), 7), cosine_mean=round(c.mean().item(), 7))
    print(json.dumps(out), flush=True)


if __name__ == '__main__':
    main()
