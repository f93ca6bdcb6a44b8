"""Small helpers every module shares: seeds, device contexts, atomic writes."""
import os
import random
import tempfile
from pathlib import Path

import mxnet as mx
import numpy as onp
from d2l import mxnet as d2l

from .checks import check_int

# d2l already picks devices well; we re-export its helpers instead of
# rewriting them.
try_gpu = d2l.try_gpu
try_all_gpus = d2l.try_all_gpus


def set_seed(seed):
    """Seed Python's `random`, NumPy and MXNet so a run repeats exactly."""
    seed = check_int('seed', seed, low=0,
                     high=2 ** 32 - 1)  # what NumPy accepts
    random.seed(seed)
    onp.random.seed(seed)
    mx.random.seed(seed)


def as_ctx_list(ctx):
    """Return `ctx` (one context or a list of them) as a non-empty list."""
    ctxs = list(ctx) if isinstance(ctx, (list, tuple)) else [ctx]
    if not ctxs:
        raise ValueError(
            'ctx must be a context or a non-empty list of contexts')
    for c in ctxs:
        if not isinstance(c, mx.Context):
            raise TypeError(f'ctx must hold mxnet contexts, '
                            f'got {type(c).__name__}')
    return ctxs


def write_atomically(path, write):
    """Have `write(tmp)` write a file, then rename it to `path`.

    The temporary file lies beside `path`, so the rename is atomic: readers
    see the old file or the whole new one, never half of it, and on any error
    the temporary file is removed. Returns `path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.',
                               suffix='.part')
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path
