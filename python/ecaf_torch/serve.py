"""The serving loop both workers share (worker.py, synth_worker.py): the protocol owns the real
stdout, Ctrl-C is left to ecaf, a reader thread fills the next request from the pipe while the
model runs, and an error goes back verbatim as a status-1 frame (protocol.py)."""
import os
import queue
import signal
import threading
import traceback

from .protocol import RESPONSE, STATUS_ERROR, widen_pipe


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
