"""Freed CPU memory kept for reuse, not handed back to the system each time.

MXNet 1.9 does not pool CPU memory: every array a step creates is a fresh
`malloc`, freed when the step is done. glibc's `malloc` serves blocks above
128 KiB to 32 MiB (its threshold adapts) with their own `mmap` and returns
them on `free`, and trims the top of its heap down to 128 KiB. So each step's
large arrays (a translator's scores: batch x steps x vocabulary floats, 36 MB)
come back as new pages that the kernel zeroes on first touch. Measured on the
book's machine for a 1,408 x 6,433 array: an element-wise product took 27 ms
and `log_softmax` 29 ms, with half a million page faults over 60 such
operations; with freed memory kept, 11 ms and 8 ms. Training a translator-size
model took 11% less time, its peak memory 2% more (bench/RESULTS.md,
2026-12-07, issue 26).

`keep_freed_memory` raises both thresholds so that glibc serves arrays up to
1 GiB from its heap and keeps up to 1 GiB of freed memory there. Nothing is
computed differently: only where arrays live. The cost: memory freed after a
peak stays with the process until it ends, and the peak may grow a little (2%
above). It changes nothing where `malloc` is not glibc's (macOS, musl) or
where the reader set glibc's own variables (`MALLOC_MMAP_THRESHOLD_`,
`MALLOC_TRIM_THRESHOLD_`, or `GLIBC_TUNABLES`);
`SEQ2SEQ_ATTENTION_MALLOC=system` leaves `malloc` as it was.
"""
import ctypes
import ctypes.util
import os
import sys

MODE_VARIABLE = 'SEQ2SEQ_ATTENTION_MALLOC'
# mallopt's parameter numbers (glibc's malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
KEEP_BYTES = 1 << 30  # 1 GiB
READER_VARIABLES = ('MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_',
                    'GLIBC_TUNABLES')


def keep_freed_memory(environ=None):
    """Let glibc keep freed memory for reuse; return whether it was set.

    Does nothing (and returns False) off Linux, where `malloc` is not glibc's,
    where the reader set glibc's malloc variables, or with
    `SEQ2SEQ_ATTENTION_MALLOC=system`.
    """
    environ = os.environ if environ is None else environ
    mode = environ.get(MODE_VARIABLE, 'keep')
    if mode not in ('keep', 'system'):
        raise ValueError(f"{MODE_VARIABLE} must be 'keep' or 'system', "
                         f"got {mode!r}")
    if (mode == 'system' or not sys.platform.startswith('linux')
            or any(v in environ for v in READER_VARIABLES)):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # glibc's, not musl's
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, KEEP_BYTES)
                and mallopt(M_TRIM_THRESHOLD, KEEP_BYTES))
