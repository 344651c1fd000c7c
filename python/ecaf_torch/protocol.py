"""Framing of the embedding worker's pipe (mirrored in src/models/torch.ts).

stdout, once: one JSON line describing the loaded model (`dim`, `columns`, `device`, ...).
Request on stdin:  uint32 n, uint32 floats per image, then n * floats float32 (little-endian).
Response on stdout: uint32 status, uint32 a, uint32 b, then the payload:
  status 0: a = n, b = columns, payload n rows of float32: the embedding (dim), then with an
            age head the age in years and the 7 age-group logits (columns = dim + 8);
  status 1: a = byte length, payload a UTF-8 error text (the traceback, verbatim).
End: closing stdin makes the worker exit 0.
"""
import struct

REQUEST = struct.Struct('<II')
RESPONSE = struct.Struct('<III')
STATUS_OK = 0
STATUS_ERROR = 1
# Exit codes the TypeScript side turns into messages: bad checkpoint or device, torch missing.
EXIT_BAD_INPUT = 2
EXIT_NO_TORCH = 3
F_SETPIPE_SZ = 1031  # Linux fcntl: a 1 MiB pipe buffer cuts syscalls per 150 kB image
PIPE_SIZE = 1 << 20


def torch_missing(err):
    """The message for a Python without torch (the TypeScript side adds how to install it)."""
    import sys
    return f'PyTorch is not installed for {sys.executable} ({err}).\n'


def widen_pipe(fd):
    """Grow a pipe's buffer where the OS allows it; harmless no-op elsewhere."""
    try:
        import fcntl
        fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE)
    except (ImportError, OSError):
        pass


def read_exact(stream, view):
    """Fill `view` (a writable memoryview) from `stream`; False on a clean EOF before any byte."""
    got = 0
    while got < len(view):
        n = stream.readinto(view[got:])
        if not n:
            if got == 0:
                return False
            raise EOFError(f'pipe closed after {got} of {len(view)} bytes')
        got += n
    return True
