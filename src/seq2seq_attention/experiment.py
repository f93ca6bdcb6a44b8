"""Experiments repeated over seeds: runs in parallel, alignments measured.

A difference between two models means something only if it is larger than
the spread that the seed alone causes (initial weights, batch order), so a
comparison trains each model several times. A small model keeps one CPU core
busy (the library runs MXNet on one thread, see `cpu`), so on a machine
with several cores the runs go in separate processes, side by side:
`run_in_processes`. `train_and_translate` is one run, from data to
translations; `alignment_correlation` says how far an attention decoder's
weights move along the source as it writes.
"""
import concurrent.futures
import dataclasses
import functools
import importlib
import multiprocessing
import os
import time

import numpy as onp

from .checks import check_int
from .data import build_data_iter
from .decoding import beam_search_batch, translate_batch
from .models import AttentionDecoder, build_seq2seq
from .training import train_s2s
from .utils import set_seed, try_gpu


def _is_importable(fn):
    """Whether a worker process can find `fn` by its module and name."""
    module = getattr(fn, '__module__', None)
    if module in (None, '__main__'):
        return False
    try:
        found = importlib.import_module(module)
        for name in fn.__qualname__.split('.'):
            found = getattr(found, name)
    except (ImportError, AttributeError):
        return False
    return found is fn


def _silence():
    """Discard a worker's own output (a notebook would show it anywhere)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)


def _call(fn, job):
    """Run one job: `fn(**job)`."""
    return fn(**job)


def run_in_processes(fn, jobs, num_workers=None):
    """`[fn(**job) for job in jobs]`, the jobs run in parallel processes.

    Each job runs in a fresh process (started by `spawn`: MXNet's engine
    threads do not survive a fork), `num_workers` at a time (default: one per
    CPU core). Importing this library pins MXNet to one thread and the same
    kernels (`cpu`), in the workers too: a job's result is the one it gives
    in this process, whatever runs beside it. `fn` must be importable
    (a function of a module, not of a notebook) and its arguments and result
    picklable. The workers' own output is discarded; an exception in a job is
    raised here, with the worker's traceback.
    """
    jobs = [dict(job) for job in jobs]
    if not callable(fn) or not _is_importable(fn):
        raise ValueError(f'fn must be a function a worker process can import '
                         f'(defined in a module, not in __main__), got {fn!r}')
    if num_workers is None:
        num_workers = os.cpu_count() or 1
    num_workers = check_int('num_workers', num_workers, low=1)
    if not jobs:
        return []
    with concurrent.futures.ProcessPoolExecutor(
            min(num_workers, len(jobs)),
            mp_context=multiprocessing.get_context('spawn'),
            initializer=_silence, max_tasks_per_child=1) as pool:
        return list(pool.map(functools.partial(_call, fn), jobs))


@dataclasses.dataclass
class Run:
    """What one training run gives: its losses, speed and translations."""
    seed: int
    decoder: str
    attention: str
    history: list            # loss per target token, epoch by epoch
    seconds_per_epoch: float
    num_params: int
    translations: list       # greedy, one per test sentence
    weights: list            # attention weights per sentence (or None)
    beam_translations: list  # beam search (or None)


def train_and_translate(seed, train, test_source, decoder, attention='mlp',
                        embed_size=32, num_hiddens=32, num_layers=2,
                        dropout=0.0, batch_size=64, num_steps=10, lr=0.005,
                        num_epochs=10, min_freq=1, bucket=4, length_step=5,
                        static_alloc=False, beam_size=None, alpha=0.75):
    """Train one model from `seed` and translate `test_source`; a `Run`.

    `train` holds `(source tokens, target tokens)` pairs, `test_source`
    sentences (strings). The vocabularies come from the training pairs. The
    test sentences are translated greedily (with the attention weights when
    the decoder has any) and, given a `beam_size`, by beam search too.
    `static_alloc` is `train_s2s`'s: faster for small models with few batch
    shapes, more memory otherwise.
    """
    set_seed(seed)
    ctx = try_gpu()
    data_iter, src_vocab, tgt_vocab = build_data_iter(
        [s for s, _ in train], [t for _, t in train], batch_size, num_steps,
        bucket=bucket, length_step=length_step, min_freq=min_freq)
    net = build_seq2seq(len(src_vocab), len(tgt_vocab), embed_size,
                        num_hiddens, num_layers, dropout, decoder=decoder,
                        attention=attention)
    start = time.perf_counter()
    history = train_s2s(net, data_iter, lr, num_epochs, tgt_vocab, ctx,
                        plot=False, verbose=False,
                        static_alloc=static_alloc)
    seconds = (time.perf_counter() - start) / num_epochs
    with_weights = isinstance(net.decoder, AttentionDecoder)
    translations, weights = translate_batch(
        net, test_source, src_vocab, tgt_vocab, num_steps, ctx,
        save_attention_weights=with_weights)
    beam = None
    if beam_size is not None:
        beam, _ = beam_search_batch(net, test_source, src_vocab, tgt_vocab,
                                    num_steps, ctx, beam_size=beam_size,
                                    alpha=alpha)
    num_params = sum(p.data().size for p in net.collect_params().values())
    return Run(seed, decoder, attention, list(history), seconds,
               int(num_params), translations, weights, beam)


def alignment_correlation(weights):
    """How far an alignment moves with the output, from -1 to 1.

    `weights` is `(output steps, source positions)`. The result is the
    correlation between the output step and the source position that step
    weighs most: 1 on a diagonal (copying), -1 on an anti-diagonal
    (reversing), 0 when that position does not move with the step (it stays
    put, or there is a single step).
    """
    weights = onp.asarray(weights)
    if weights.ndim != 2 or 0 in weights.shape:
        raise ValueError(f'weights must be a non-empty (output steps, source '
                         f'positions) matrix, got shape {weights.shape}')
    steps = onp.arange(weights.shape[0])
    positions = weights.argmax(axis=1)
    if positions.std() == 0 or steps.std() == 0:
        return 0.0
    return float(onp.corrcoef(steps, positions)[0, 1])
