"""The serving loop both workers share (worker.py, synth_worker.py): the protocol owns the real
stdout, Ctrl-C is left to ecaf, a reader thread fills the next request from the pipe while the
model runs, and an error goes back verbatim as a status-1 frame (protocol.py)."""
import argparse
import json
import os
import queue
import sys
import signal
import threading
import traceback

from .protocol import EXIT_BAD_INPUT, EXIT_NO_TORCH, RESPONSE, STATUS_ERROR, torch_missing, widen_pipe


def open_pipes():
    """(stdin, stdout) of the protocol, unbuffered; fd 1 then points at stderr."""
    # Ctrl-C reaches the whole process group: ecaf finishes the batches in flight, then closes stdin
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The protocol owns the real stdout; anything else printed (libraries, warnings) goes to stderr.
    proto_out = os.fdopen(os.dup(1), 'wb', buffering=0)
    os.dup2(2, 1)
    proto_in = os.fdopen(os.dup(0), 'rb', buffering=0)
    widen_pipe(proto_in.fileno())
    widen_pipe(proto_out.fileno())
    return proto_in, proto_out


class Started:
    """What a worker has once it may serve: its arguments, torch, the device and the loaded model."""

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def send_header(self, **extra):
        """The first stdout line: what every worker says of the checkpoint and where it runs
        (src/models/torch-pipe.ts's TorchHeader), then the worker's own `extra` fields."""
        from .runtime import device_name
        torch, info = self.torch, self.info
        header = {
            'device': device_name(self.device, self.fp16), 'fp16': self.fp16, 'note': self.note,
            'variant': info.variant, 'depth': info.depth, 'prefix': info.prefix, 'describe': info.describe(),
            'torch': torch.__version__, 'threads': torch.get_num_threads(),
            'gpu': torch.cuda.get_device_name(self.device) if self.device.type == 'cuda' else '', **extra,
        }
        self.proto_out.write((json.dumps(header) + '\n').encode())


def start(prog, loader, argv=None, options=()):
    """A worker's start: CHECKPOINT [--device] [--fp16] and `options` ((flag, argparse keywords)
    pairs) parsed, the pipes opened, torch imported, the checkpoint loaded by checkpoint.py's
    `loader` (its name). A Started, or the exit code (protocol.py) after saying why on stderr."""
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument('checkpoint')
    parser.add_argument('--device', default='auto', choices=['auto', 'cpu', 'cuda'])
    parser.add_argument('--fp16', action='store_true')
    for flag, kw in options:
        parser.add_argument(flag, **kw)
    args = parser.parse_args(argv)
    proto_in, proto_out = open_pipes()
    try:
        import torch
    except ImportError as err:
        sys.stderr.write(torch_missing(err))
        return EXIT_NO_TORCH
    from . import checkpoint
    from .runtime import DeviceError, pick_device, setup_threads

    setup_threads()
    try:
        device, fp16, note = pick_device(args.device, args.fp16)
        model, info = getattr(checkpoint, loader)(args.checkpoint)
    except (checkpoint.CheckpointError, DeviceError) as err:
        sys.stderr.write(f'{err}\n')
        return EXIT_BAD_INPUT
    return Started(args=args, torch=torch, device=device, fp16=fp16, note=note, model=model, info=info, proto_in=proto_in, proto_out=proto_out)


def serve(proto_in, proto_out, read_request, answer):
    """Answer requests until stdin closes (exit status 0) or breaks (1). `read_request(stream)`
    returns a request, None on a clean EOF, or an error text when the frame was read but is
    unusable; `answer(request)` returns the bytes of the status-0 response."""
    requests = queue.Queue(maxsize=2)
    threading.Thread(target=_read_all, args=(proto_in, requests, read_request), daemon=True).start()
    while True:
        item = requests.get()
        if item is None:
            return 0
        if isinstance(item, str):
            send_error(proto_out, item)
            if item.startswith('fatal:'):
                return 1
            continue
        try:
            proto_out.write(answer(item))
        except Exception:  # noqa: BLE001 - the traceback goes back verbatim, the worker keeps serving
            send_error(proto_out, traceback.format_exc())


def _read_all(stream, requests, read_request):
    try:
        while True:
            item = read_request(stream)
            requests.put(item)
            if item is None:
                return
    except Exception:  # noqa: BLE001 - a broken pipe ends the worker with its traceback
        requests.put('fatal: ' + traceback.format_exc())


def send_error(stream, text):
    data = text.encode('utf-8', 'replace')
    stream.write(RESPONSE.pack(STATUS_ERROR, len(data), 0) + data)
