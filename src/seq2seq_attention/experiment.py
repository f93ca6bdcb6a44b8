"""Experiments repeated over seeds: one recipe, runs in parallel processes.

A difference between two models means something only if it is larger than
the spread that the seed alone causes (initial weights, batch order), so a
comparison trains each model several times. A small model keeps one CPU core
busy (the library runs MXNet on one thread, see `cpu`), so on a machine
with several cores the runs go in separate processes, side by side:
`run_in_processes`. `train_model` is the recipe from a seed and sentence
pairs to a trained model (the command line's too); `train_and_translate` is
one run of a comparison, from data to translations.
"""
import collections
import concurrent.futures
import dataclasses
import functools
import importlib
import multiprocessing
import os


from .checkpoint import save_checkpoint
from .checks import check_int
from .data import build_data_iter
from .decoding import beam_search_batch, translate_batch
from .models import AttentionDecoder, Seq2SeqConfig, build_seq2seq
from .training import train_s2s
from .utils import set_seed, try_gpu

Trained = collections.namedtuple(
    'Trained', ['net', 'config', 'src_vocab', 'tgt_vocab', 'history'])


def train_model(seed, pairs, batch_size, num_steps, lr, num_epochs,
                min_freq=1, bucket=False, length_step=1, static_alloc=None,
                progress=None, ctx=None, state_file=None, **model):
    """Train a model on `(source tokens, target tokens)` pairs from `seed`.

    The vocabularies come from the pairs; `model` holds the
    `Seq2SeqConfig`'s hyperparameters (`embed_size`, `decoder`, ...), the
    rest is `build_data_iter`'s and `train_s2s`'s (a `state_file` makes the
    run resumable). Returns a `Trained`.
    """
    set_seed(seed)
    data_iter, src_vocab, tgt_vocab = build_data_iter(
        [s for s, _ in pairs], [t for _, t in pairs], batch_size, num_steps,
        bucket=bucket, length_step=length_step, min_freq=min_freq)
    config = Seq2SeqConfig(len(src_vocab), len(tgt_vocab), **model)
    net = build_seq2seq(config)
    history = train_s2s(net, data_iter, lr, num_epochs, tgt_vocab,
                        ctx or try_gpu(), static_alloc=static_alloc,
                        progress=progress, state_file=state_file)
    return Trained(net, config, src_vocab, tgt_vocab, history)


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
    bidirectional: bool = False  # the encoder's


def train_and_translate(seed, train, test_source, decoder, attention='mlp',
                        bidirectional=False, embed_size=32, num_hiddens=32,
                        num_layers=2, dropout=0.0, batch_size=64,
                        num_steps=10, lr=0.005, num_epochs=10, min_freq=1,
                        bucket=4, length_step=5, static_alloc=False,
                        beam_size=None, alpha=0.75, save=None):
    """Train one model from `seed` and translate `test_source`; a `Run`.

    `train` holds `(source tokens, target tokens)` pairs, `test_source`
    sentences (strings). The vocabularies come from the training pairs. The
    test sentences are translated greedily (with the attention weights when
    the decoder has any) and, given a `beam_size`, by beam search too.
    `static_alloc` is `train_s2s`'s: faster for small models with few batch
    shapes, more memory otherwise. Given a path, `save` keeps the trained
    model there (a checkpoint, `num_steps` in its info) for `load_checkpoint`.
    """
    net, config, src_vocab, tgt_vocab, history = train_model(
        seed, train, batch_size, num_steps, lr, num_epochs, min_freq=min_freq,
        bucket=bucket, length_step=length_step, static_alloc=static_alloc,
        embed_size=embed_size, num_hiddens=num_hiddens, num_layers=num_layers,
        dropout=dropout, decoder=decoder, attention=attention,
        bidirectional=bidirectional)
    if save is not None:
        save_checkpoint(save, net, config, src_vocab, tgt_vocab,
                        info={'num_steps': num_steps})
    ctx = try_gpu()
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
    seconds = sum(history.seconds) / num_epochs
    return Run(seed, decoder, attention, list(history), seconds,
               int(num_params), translations, weights, beam, bidirectional)
