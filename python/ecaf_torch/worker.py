"""Embedding worker: loads an MTLFace checkpoint once, then answers framed float32 batches on
stdin with float32 embeddings on stdout (see protocol.py); a checkpoint with an age head
answers each image's age and age-group logits after its embedding (header `columns`). Run by src/models/torch.ts:
  python3 -m ecaf_torch.worker CHECKPOINT [--device auto|cpu|cuda] [--fp16]
"""
import argparse
import json
import os
import queue
import signal
import sys
import threading
import traceback

from .protocol import (EXIT_BAD_INPUT, EXIT_NO_TORCH, REQUEST, RESPONSE, STATUS_ERROR, STATUS_OK, read_exact,
                       torch_missing, widen_pipe)

IMAGE_FLOATS = 3 * 112 * 112


def main(argv=None):
    parser = argparse.ArgumentParser(prog='ecaf_torch.worker')
    parser.add_argument('checkpoint')
    parser.add_argument('--device', default='auto', choices=['auto', 'cpu', 'cuda'])
    parser.add_argument('--fp16', action='store_true')
    args = parser.parse_args(argv)
    # Ctrl-C reaches the whole process group: ecaf finishes the batches in flight, then closes stdin
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    # The protocol owns the real stdout; anything else printed (libraries, warnings) goes to stderr.
    proto_out = os.fdopen(os.dup(1), 'wb', buffering=0)
    os.dup2(2, 1)
    proto_in = os.fdopen(os.dup(0), 'rb', buffering=0)
    widen_pipe(proto_in.fileno())
    widen_pipe(proto_out.fileno())

    try:
        import torch
    except ImportError as err:
        sys.stderr.write(torch_missing(err))
        return EXIT_NO_TORCH
    from .checkpoint import CheckpointError, load_model
    from .models.recognition import AGE_GROUPS, EMBEDDING_DIM, inference_model
    from .runtime import DeviceError, device_name, pick_device, prepare, run, setup_threads

    setup_threads()
    try:
        device, fp16, note = pick_device(args.device, args.fp16)
        model, info = load_model(args.checkpoint)
    except (CheckpointError, DeviceError) as err:
        sys.stderr.write(f'{err}\n')
        return EXIT_BAD_INPUT
    age_head = info.age_keys > 0
    model = prepare(inference_model(model), device)
    header = {
        'dim': EMBEDDING_DIM, 'columns': EMBEDDING_DIM + (1 + AGE_GROUPS if age_head else 0), 'device': device_name(device, fp16), 'fp16': fp16, 'note': note, 'variant': info.variant,
        'depth': info.depth, 'prefix': info.prefix, 'ageHead': age_head, 'describe': info.describe(),
        'torch': torch.__version__, 'threads': torch.get_num_threads(),
        'gpu': torch.cuda.get_device_name(device) if device.type == 'cuda' else '',
    }
    proto_out.write((json.dumps(header) + '\n').encode())

    # A reader thread fills the next batch from the pipe while the model runs (both release the GIL).
    batches = queue.Queue(maxsize=2)
    threading.Thread(target=read_batches, args=(proto_in, batches, torch), daemon=True).start()
    while True:
        item = batches.get()
        if item is None:
            return 0
        if isinstance(item, str):
            send_error(proto_out, item)
            if item.startswith('fatal:'):
                return 1
            continue
        try:
            out = run(model, item, device, fp16).contiguous()
            proto_out.write(RESPONSE.pack(STATUS_OK, out.shape[0], out.shape[1]) + out.numpy().tobytes())
        except Exception:  # noqa: BLE001 - the traceback goes back verbatim, the worker keeps serving
            send_error(proto_out, traceback.format_exc())


def read_batches(stream, batches, torch):
    head = bytearray(REQUEST.size)
    try:
        while True:
            if not read_exact(stream, memoryview(head)):
                batches.put(None)
                return
            n, floats = REQUEST.unpack(head)
            data = bytearray(n * floats * 4)
            if not read_exact(stream, memoryview(data)) and n:
                raise EOFError('pipe closed before the batch data')
            if floats != IMAGE_FLOATS:
                batches.put(f'expected 3x112x112 = {IMAGE_FLOATS} floats per image, got {floats}')
                continue
            batches.put(torch.frombuffer(data, dtype=torch.float32).view(n, 3, 112, 112) if n
                        else torch.zeros(0, 3, 112, 112))
    except Exception:  # noqa: BLE001 - a broken pipe ends the worker with its traceback
        batches.put('fatal: ' + traceback.format_exc())


def send_error(stream, text):
    data = text.encode('utf-8', 'replace')
    stream.write(RESPONSE.pack(STATUS_ERROR, len(data), 0) + data)


if __name__ == '__main__':
    sys.exit(main())
