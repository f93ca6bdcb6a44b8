"""Small helpers shared by every module: seeding and device contexts."""
import random

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
