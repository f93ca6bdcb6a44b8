"""Training speed: the library's `train_s2s` against d2l's trainers, \
MXNet and PyTorch.

Every trainer trains the same attention model (an LSTM encoder, a
decoder with additive attention; 2 layers, Adam, gradient clipping at 1)
on the same pairs for the same number of epochs, each run in a fresh
process (so peak memory is its own):

- `d2l MXNet`: d2l's `d2l.mxnet.train_seq2seq` on the model written as d2l's
  MXNet chapter writes it (bench/d2l_reference.py);
- `d2l PyTorch`: d2l's `d2l.torch.train_seq2seq` on the model written as
  d2l's PyTorch edition writes it (bench/d2l_torch_reference.py), with
  PyTorch's default threads;
- `train_s2s (...)`: the library's trainer and model, in the configurations of
  `CONFIGS`, with the CPU kernels pinned as the book pins them (`portable`) or,
  for the configurations marked `native`, left to the reader's environment
  (`SEQ2SEQ_ATTENTION_CPU=native`: this CPU's kernels, faster here, but the last
  digits are no longer the book's).

The runs are interleaved over `--rounds` rounds and medians are reported (each
ratio with its range over the rounds, round by round: on a shared machine, runs
close in time are slowed alike). For each it prints tokens/sec (valid target
tokens, padding not counted, over the wall time of the whole training call),
wall time, the final loss per token (every model evaluated the same way, on the
training pairs in order) and peak RSS, then every ratio against both d2l
trainers. Beside them: tokens/sec per core (over the threads each trainer
computes with), seconds per epoch, and the arithmetic efficiency: the
model's matrix-product FLOPs per valid target token (`flops_per_token`, from
its shapes and the data's lengths) times tokens/sec per core, divided by the
single-thread throughput of a matrix product of the output layer's shape
(`run_matmul`, measured in the same run, pinned as the library is). It
prints figures and asserts nothing. PyTorch is a benchmark-only dependency
(bench/requirements.txt).

    # the chapter's model
    python bench/train_speed.py --epochs 200 --rounds 3
    # chapter 5's size
    python bench/train_speed.py --size chapter5 --epochs 5
    # a translator's size (issue 26), both decoders, PyTorch on 1 and all
    # threads
    python bench/train_speed.py --size translator --epochs 2 --rounds 3 \
        --configs default,exact-buckets --decoders attention,plain \
        --peers d2l-torch,d2l-torch-1
    # hidden 32-256, batch 64, 256
    python bench/train_speed.py --scaling --epochs 10
"""

import argparse
import contextlib
import io
import json
import multiprocessing as mp
import os
import queue
import resource
import statistics
import sys
import tempfile
import time
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
# The thread and kernel settings as the reader left them, before
# `seq2seq_attention` pins MXNet's (PyTorch runs with its defaults, as a reader
# of d2l's PyTorch edition would)
THREAD_VARIABLES = ('OMP_NUM_THREADS', 'DNNL_MAX_CPU_ISA', 'OPENBLAS_CORETYPE')
READER_ENV = {k: os.environ.get(k) for k in THREAD_VARIABLES}
LR = 0.005
# The models and data measured: the chapter's (d2l's 600 pairs), chapter 5's
# size (2,000 pairs of up to 19 tokens each side drawn from the whole corpus,
# so up to 20 with <eos>) and a translator's (issue 26: 30,000 pairs of up to
# 10 tokens, a target vocabulary of about 9,000 words, 128 units)
SIZES = {
    name: dict(
        embed_size=units,
        num_hiddens=units,
        batch_size=batch_size,
        num_steps=num_steps,
        num_examples=num_examples,
    )
    for name, units, batch_size, num_steps, num_examples in (
        ('chapter', 32, 64, 10, 600),
        ('chapter5', 64, 128, 20, 2000),
        ('translator', 128, 128, 11, 30000),
    )
}
NUM_LAYERS = 2


def _data(size, bucket=False, length_step=1, token_batches=False):
    """The pairs of `size`: the library's batches and a
    fixed-order copy for evaluation.

    `token_batches`: bench/token_batches.py's batches of as many tokens as
    the size's batch of sentences holds on average (its batch size times the
    mean of each pair's longer side), so that an epoch takes about as many
    updates.
    """
    from seq2seq_attention import (
        BatchIterator,
        build_data_iter,
        load_data_nmt,
        preprocess_nmt,
        read_data_nmt,
        split_pairs,
        tokenize_nmt,
    )

    batch_size, num_steps = size['batch_size'], size['num_steps']
    if size['num_examples'] == 600:  # the chapter's data, as d2l loads it
        data_iter, src_vocab, tgt_vocab = load_data_nmt(batch_size, num_steps)
        if bucket:
            data_iter = BatchIterator(
                data_iter.arrays,
                batch_size,
                bucket=bucket,
                length_step=length_step,
            )
    else:
        source, target = tokenize_nmt(preprocess_nmt(read_data_nmt()))
        short = [
            (s, t)
            for s, t in zip(source, target)
            if len(s) < num_steps and len(t) < num_steps
        ]
        train, _ = split_pairs(
            [s for s, _ in short],
            [t for _, t in short],
            size['num_examples'],
            0,
            seed=0,
        )
        data_iter, src_vocab, tgt_vocab = build_data_iter(
            [s for s, _ in train],
            [t for _, t in train],
            batch_size,
            num_steps,
            bucket=bucket,
            length_step=length_step,
        )
    if token_batches:
        from token_batches import TokenBatches

        from mxnet import np

        _, X_valid_len, _, Y_valid_len = data_iter.arrays
        mean_longer = float(np.maximum(X_valid_len, Y_valid_len).mean())
        data_iter = TokenBatches(
            data_iter.arrays, round(batch_size * mean_longer)
        )
    eval_iter = BatchIterator(data_iter.arrays, batch_size, shuffle=False)
    num_tokens = float(
        data_iter.arrays[3].sum()
    )  # valid target tokens per epoch
    return data_iter, eval_iter, src_vocab, tgt_vocab, num_tokens


def _hparams(size):
    return dict(
        embed_size=size['embed_size'],
        num_hiddens=size['num_hiddens'],
        num_layers=NUM_LAYERS,
    )


def flops_per_token(
    size, tgt_vocab_size, X_valid_len, Y_valid_len, decoder='attention'
):
    """The model's matrix-product FLOPs per valid target token, forward and
    backward.

    Counted for the library's (and d2l's) models: LSTM gates, additive
    attention's projections, scores and context, the output layer; each
    multiply-add is 2 FLOPs, and the backward pass computes two products of
    each forward one (3x the forward's). Lengths are the data's valid ones:
    the padding a trainer computes counts as lost efficiency.
    """
    E, H = size['embed_size'], size['num_hiddens']
    L, V = NUM_LAYERS, tgt_vocab_size
    src = X_valid_len.astype('float64')
    tgt = Y_valid_len.astype('float64')

    def lstm(inputs):  # one step of one layer: 4 gates from input and h
        return 2 * 4 * H * (inputs + H)

    # per source token: the encoder's layers
    per_source = lstm(E) + (L - 1) * lstm(H)
    # per target token: the decoder's layers (input: embedding and context)
    # and the output layer
    per_target = lstm(E + H) + (L - 1) * lstm(H) + 2 * H * V
    per_pair = 0.0  # per (target token, source token) pair
    if decoder == 'attention':
        per_source += 2 * H * H  # the keys' projection, once per source token
        per_target += 2 * H * H  # the query's projection
        per_pair = 2 * 2 * H  # the score's v . tanh(.) and the context
    forward = (
        per_target * tgt.sum()
        + per_source * src.sum()
        + per_pair * (src * tgt).sum()
    ) / tgt.sum()
    return 3 * forward


def run_matmul(size, epochs, tgt_vocab_size, results):
    """The single-thread GFLOP/s of a product of the output layer's shape:
    (batch x steps, hidden) by (hidden, vocabulary), the best of 5 timings of
    10 products, kernels pinned as the library pins them (`epochs`: unused,
    the signature `measure` calls)."""
    import seq2seq_attention  # noqa: F401  (pins the kernels)
    import mxnet as mx
    from mxnet import np

    rows = size['batch_size'] * size['num_steps']
    A = np.random.normal(size=(rows, size['num_hiddens']))
    W = np.random.normal(size=(size['num_hiddens'], tgt_vocab_size))
    np.dot(A, W).wait_to_read()
    best = float('inf')
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(10):
            out = np.dot(A, W)
        mx.nd.waitall()
        best = min(best, (time.perf_counter() - start) / 10)
    del out
    results.put(2 * rows * size['num_hiddens'] * tgt_vocab_size / best / 1e9)


def _peak_mib():
    """This process's peak resident memory in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ScoresOnly:
    """d2l's MXNet model as `evaluate_loss` calls it:
    `net(X, dec_X, valid_lens) -> Y_hat` (d2l's model checks neither its inputs
    nor its vocabularies)."""

    def __init__(self, net):
        self.net = net

    def __call__(self, *args):
        return self.net(*args)[0]

    def check_vocabularies(self, src_vocab=None, tgt_vocab=None):
        """Nothing to check: d2l's model does not say what it embeds."""

    def check_tokens(self, enc_X, dec_X, check_values=True):
        """Nothing to check: d2l's model does not say what it embeds."""


def run_d2l(size, epochs, config, results):
    """d2l's MXNet `train_seq2seq` on the d2l-chapter
    model (in a child process)."""
    sys.path.insert(0, HERE)
    # first, as in run_library: the same CPU kernels
    import seq2seq_attention  # noqa: F401
    import mxnet as mx
    from d2l import mxnet as d2l
    import d2l_reference as ref
    from seq2seq_attention import set_seed
    from seq2seq_attention.training import evaluate_loss

    set_seed(0)
    _, eval_iter, src_vocab, tgt_vocab, num_tokens = _data(size)
    # d2l's own pipeline: float32 token arrays in a Gluon
    # DataLoader (d2l.load_array)
    arrays = [a.astype('float32') for a in eval_iter.arrays]
    data_iter = d2l.load_array(arrays, size['batch_size'])
    net = ref.EncoderDecoder(
        ref.Seq2SeqEncoder(len(src_vocab), **_hparams(size)),
        ref.Seq2SeqAttentionDecoder(len(tgt_vocab), **_hparams(size)),
    )
    start = time.perf_counter()
    with contextlib.redirect_stdout(
        io.StringIO()
    ):  # its Animator prints figures
        d2l.train_seq2seq(net, data_iter, LR, epochs, tgt_vocab, mx.cpu())
        mx.nd.waitall()
    wall = time.perf_counter() - start
    results.put(
        dict(
            name='d2l MXNet',
            wall=wall,
            threads=1,
            tokens=num_tokens * epochs,
            epochs=epochs,
            loss=evaluate_loss(ScoresOnly(net), eval_iter, tgt_vocab, mx.cpu()),
            peak_mib=_peak_mib(),
            note='d2l.mxnet.train_seq2seq',
        )
    )


def torch_data(size):
    """The pairs of `size` as NumPy arrays, vocabulary sizes and `<bos>`, for
    the PyTorch run (which must not load MXNet: two OpenMP runtimes in one
    process slow PyTorch down 5x)."""
    _, eval_iter, src_vocab, tgt_vocab, num_tokens = _data(size)
    return dict(
        arrays=[a.asnumpy() for a in eval_iter.arrays],
        src_vocab_size=len(src_vocab),
        tgt_vocab_size=len(tgt_vocab),
        bos=tgt_vocab['<bos>'],
        num_tokens=num_tokens,
        reader_env=READER_ENV,
    )


def use_reader_env(reader_env):
    """Undo the pins `seq2seq_attention` made in the parent
    (before any library loads)."""
    for k, v in reader_env.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


def run_torch(size, epochs, data, results):
    """d2l's PyTorch `train_seq2seq` on the model
    written the d2l PyTorch way (with `data['threads']` threads, or
    PyTorch's default)."""
    use_reader_env(data['reader_env'])
    sys.path.insert(0, HERE)
    import d2l_torch_reference as ref  # imports d2l.torch, torchvision stubbed
    import torch

    if data['threads']:
        torch.set_num_threads(data['threads'])
    threads = torch.get_num_threads()

    d2l = ref.d2l
    torch.manual_seed(0)
    arrays = [torch.tensor(a).long() for a in data['arrays']]
    data_iter = d2l.load_array(arrays, size['batch_size'])
    net = ref.EncoderDecoder(
        ref.Seq2SeqEncoder(data['src_vocab_size'], **_hparams(size)),
        ref.Seq2SeqAttentionDecoder(data['tgt_vocab_size'], **_hparams(size)),
    )
    # its Animator's x axis starts at epoch 10: fewer
    # epochs make matplotlib warn
    warnings.filterwarnings('ignore', message='Attempting to set identical')
    start = time.perf_counter()
    with contextlib.redirect_stdout(
        io.StringIO()
    ):  # its Animator prints figures
        d2l.train_seq2seq(
            net,
            data_iter,
            LR,
            epochs,
            {'<bos>': data['bos']},
            torch.device('cpu'),
        )
    wall = time.perf_counter() - start
    results.put(
        dict(
            name='d2l PyTorch' + (' (1 thread)' if data['threads'] else ''),
            wall=wall,
            threads=threads,
            tokens=data['num_tokens'] * epochs,
            epochs=epochs,
            loss=ref.evaluate_loss(
                net, arrays, size['batch_size'], data['bos']
            ),
            peak_mib=_peak_mib(),
            note=f'd2l.torch.train_seq2seq, torch {torch.__version__}, '
            f'{threads} thread' + ('s' if threads > 1 else ''),
        )
    )


def _kernel_env():
    """The kernel and thread variables as this process runs with them."""
    return ', '.join(
        f'{k}={os.environ.get(k, "unset")}' for k in THREAD_VARIABLES
    )


class _JsonResult:
    """A `results` queue for a worker of `run_two_workers`: one JSON file."""

    def __init__(self, path):
        self.path = path

    def put(self, figures):
        with open(self.path, 'w') as f:
            json.dump(figures, f)


def two_workers_main(size, epochs, config, path):
    """A worker of `run_two_workers`; worker 0 writes its figures to `path`."""
    from seq2seq_attention.distributed import worker_main

    worker_main(lambda: run_library(size, epochs, config, _JsonResult(path)))


def run_two_workers(size, epochs, config, results):
    """The library's `train_s2s` on both cores: two worker processes of
    `dist_sync` (`distributed.py`), each computing half of every batch's
    gradient."""
    from seq2seq_attention.distributed import launch_local

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'figures.json')
        code = (
            f'import sys; sys.path.insert(0, {HERE!r}); import train_speed; '
            f'train_speed.two_workers_main({size!r}, {epochs!r}, '
            f'{config!r}, {path!r})'
        )
        status = launch_local([sys.executable, '-c', code], 2)
        if status:
            sys.exit(f'two workers: exit status {status}')
        with open(path) as f:
            results.put(json.load(f))


def run_library(size, epochs, config, results):
    """The library's `train_s2s` on the library's model, in
    the named configuration."""
    name, reader_env, decoder = config
    data_options, train_options, cpu = CONFIGS[name.split('+')[0]]
    train_options = dict(train_options)
    workers = train_options.pop('workers', 1)
    if workers > 1 and os.environ.get('DMLC_ROLE') != 'worker':
        return run_two_workers(size, epochs, config, results)
    config = name
    # before MXNet loads: pinned kernels, or the reader's
    # environment left as it was
    os.environ['SEQ2SEQ_ATTENTION_CPU'] = cpu
    if cpu == 'native':
        use_reader_env(reader_env)
    sys.path.insert(0, HERE)
    import alternatives

    alternatives.set_environment(config)
    from seq2seq_attention import (
        Seq2SeqConfig,
        ShardedBatches,
        build_seq2seq,
        set_seed,
    )
    import mxnet as mx
    from seq2seq_attention.training import evaluate_loss, train_s2s

    alternatives.apply_variants(config)  # measured alternatives
    set_seed(0)
    data_iter, eval_iter, src_vocab, tgt_vocab, num_tokens = _data(
        size, **data_options
    )
    net = build_seq2seq(
        Seq2SeqConfig(
            len(src_vocab), len(tgt_vocab), decoder=decoder, **_hparams(size)
        )
    )
    kv = mx.kv.create('dist_sync') if workers > 1 else None
    if kv is not None:
        data_iter = ShardedBatches(data_iter, kv.rank, kv.num_workers)
    start = time.perf_counter()
    train_s2s(
        net,
        data_iter,
        LR,
        epochs,
        tgt_vocab,
        mx.cpu(),
        kvstore=kv,
        **train_options,
    )
    mx.nd.waitall()
    wall = time.perf_counter() - start
    if kv is not None and kv.rank > 0:
        return  # worker 0 reports
    results.put(
        dict(
            name=f'train_s2s ({config})'
            + ('' if decoder == 'attention' else f', {decoder} decoder'),
            wall=wall,
            # the threads it computes with: the pinned one (per worker), or
            # OpenMP's
            threads=workers
            if cpu == 'portable'
            else int(os.environ.get('OMP_NUM_THREADS') or os.cpu_count()),
            decoder=decoder,
            tokens=num_tokens * epochs,
            epochs=epochs,
            loss=evaluate_loss(net, eval_iter, tgt_vocab, mx.cpu()),
            peak_mib=_peak_mib(),
            note=f'data options {data_options}, '
            f'train_s2s options {train_options}, '
            f'CPU kernels {cpu} ({_kernel_env()})',
        )
    )


# The library's configurations, as (data options, train_s2s options, CPU
# kernels): the chapter's default (hybridized, each batch cut to its longest
# sentences), the fastest documented one (the batches of 10 at a time grouped by
# length: every batch of the chapter's 600 pairs; their few shapes each keep
# their graph's memory, which train_s2s would not choose for data that may take
# up to 100 shapes), the default with the padding computed (`uncut`),
# chapter 5's (a few bucketed shapes, graphs sharing memory; `-auto`:
# static_alloc left to train_s2s), bucketed by single tokens (`fine-buckets`:
# many shapes, static_alloc left to train_s2s) or over the whole data
# (`exact-buckets`: the whole data sorted by source, then target length, so
# that nearly every batch holds sources of one length), batches of about
# equal token counts (`token-batches`, bench/token_batches.py) to show what
# each is worth and costs, the imperative one (hybridize=False), `-keep`
# variants where every graph keeps its memory (static_alloc=True: what train_s2s
# chooses for the chapter's few shapes with small score arrays, and not at
# chapter 5's size), the default on both cores (`two-workers`: two processes
# of `dist_sync`, each computing half of every batch's gradient; its tokens/sec
# per core is over the two, its peak memory worker 0's), and `-native` twins
# with this CPU's own kernels
CONFIGS = {
    'default': ({}, {}, 'portable'),
    'fastest': ({'bucket': 10}, {'static_alloc': True}, 'portable'),
    'uncut': ({}, {'cut_padding': False}, 'portable'),
    'default-keep': ({}, {'static_alloc': True}, 'portable'),
    'chapter5': (
        {'bucket': 4, 'length_step': 5},
        {'static_alloc': False},
        'portable',
    ),
    'chapter5-auto': ({'bucket': 4, 'length_step': 5}, {}, 'portable'),
    'chapter5-keep': (
        {'bucket': 4, 'length_step': 5},
        {'static_alloc': True},
        'portable',
    ),
    'fine-buckets': ({'bucket': 4, 'length_step': 1}, {}, 'portable'),
    'exact-buckets': ({'bucket': 10**9, 'length_step': 1}, {}, 'portable'),
    'token-batches': ({'token_batches': True}, {}, 'portable'),
    'imperative': ({}, {'hybridize': False}, 'portable'),
    'two-workers': ({}, {'workers': 2}, 'portable'),
}
CONFIGS.update(
    {
        f'{name}-native': (data, train, 'native')
        for name, (data, train, _) in list(CONFIGS.items())
        if 'workers' not in train
    }
)
# d2l's trainers: PyTorch with its default threads, or with one thread
PEERS = ('d2l-torch', 'd2l-torch-1', 'd2l-mxnet')
DECODERS = ('attention', 'plain')


def measure(target, size, epochs, config=None):
    """Run one training in a fresh process and return its figures."""
    ctx = mp.get_context('spawn')
    results = ctx.Queue()
    proc = ctx.Process(target=target, args=(size, epochs, config, results))
    proc.start()
    while True:
        try:
            figures = results.get(timeout=5)
            break
        except queue.Empty:
            if not proc.is_alive():
                sys.exit(
                    f'{target.__name__} ended with exit code {proc.exitcode}'
                )
    proc.join()
    return figures


def median_runs(runs):
    """One entry per trainer: the median wall time of its rounds and
    their largest peak RSS."""
    merged = {}
    for r in runs:
        merged.setdefault(r['name'], []).append(r)
    out = []
    for name, rs in merged.items():
        wall = statistics.median(r['wall'] for r in rs)
        out.append(
            dict(
                rs[0],
                wall=wall,
                walls=[r['wall'] for r in rs],
                peak_mib=max(r['peak_mib'] for r in rs),
            )
        )
    return out


def bench(size, epochs, rounds, trainers):
    """Run every trainer `rounds` times, interleaved; return the medians,
    each with its FLOPs per token and efficiency."""
    # the data, made once here: PyTorch's argument, and the lengths
    # that the FLOPs are counted at
    shared = torch_data(size)
    runners = {
        'library': run_library,
        'd2l-torch': run_torch,
        'd2l-torch-1': run_torch,
        'd2l-mxnet': run_d2l,
    }
    args = {
        'library': lambda config: (config[0], READER_ENV, config[1]),
        'd2l-torch': lambda _: dict(shared, threads=None),
        'd2l-torch-1': lambda _: dict(shared, threads=1),
        'd2l-mxnet': lambda config: config,
    }
    runs = [
        measure(runners[kind], size, epochs, args[kind](config))
        for _ in range(rounds)
        for kind, config in trainers
    ]
    gflops = measure(run_matmul, size, 0, shared['tgt_vocab_size'])
    results = median_runs(runs)
    X_valid_len, Y_valid_len = shared['arrays'][1], shared['arrays'][3]
    for r in results:
        r['flops'] = flops_per_token(
            size,
            shared['tgt_vocab_size'],
            X_valid_len,
            Y_valid_len,
            r.get('decoder', 'attention'),
        )
        per_core = r['tokens'] / r['wall'] / r['threads']
        r['gflops'] = r['flops'] * per_core / 1e9
        r['efficiency'] = r['gflops'] / gflops
    return results, gflops


def _spread(peer, r):
    """The range of the round-by-round ratios `peer / r`, if
    there are several rounds."""
    ratios = [p / w for p, w in zip(peer['walls'], r['walls'])]
    return (
        f' (rounds {min(ratios):.2f}-{max(ratios):.2f})'
        if len(ratios) > 1
        else ''
    )


def print_table(results, gflops):
    """Each trainer's figures, then its speed ratio against each d2l trainer."""
    width = max(27, *(len(r['name']) for r in results))
    print(
        f'{"trainer":{width}s} {"tokens/sec":>10s} {"per core":>8s} '
        f'{"s/epoch":>7s} {"wall s":>7s} {"loss/token":>10s} '
        f'{"peak MiB":>8s} {"MFLOP/tok":>9s} {"GFLOP/s":>7s} '
        f'{"effic.":>6s}   rounds (wall s)'
    )
    for r in results:
        walls = ', '.join(f'{w:.1f}' for w in r['walls'])
        speed = r['tokens'] / r['wall']
        print(
            f'{r["name"]:{width}s} {speed:10.0f} '
            f'{speed / r["threads"]:8.0f} {r["wall"] / r["epochs"]:7.1f} '
            f'{r["wall"]:7.2f} {r["loss"]:10.4f} {r["peak_mib"]:8.0f} '
            f'{r["flops"] / 1e6:9.2f} {r["gflops"]:7.1f} '
            f'{r["efficiency"]:6.0%}   {walls}'
        )
    print(
        f'\nper core: tokens/sec over the threads a trainer computes with; '
        f'GFLOP/s: per core; efficiency: against {gflops:.1f} GFLOP/s, one '
        f'thread\'s matrix product of the output layer\'s shape, measured in '
        f'this run\n'
    )
    peers = {r['name']: r for r in results if r['name'].startswith('d2l')}
    for r in results:
        if r['name'].startswith('d2l') and len(peers) < 2:
            continue
        ratios = ', '.join(
            f'{p["wall"] / r["wall"]:.2f}x {name}{_spread(p, r)}'
            for name, p in peers.items()
            if p is not r
        )
        speed = f'speed: {ratios}; ' if ratios else ''  # (no peer: no ratio)
        print(f'{r["name"]:{width}s} {speed}loss {r["loss"]:.4f}')
    print()
    for r in results:
        print(f'{r["name"]}: {r["note"]}')


def main():
    """Parse the arguments, run the benchmark, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--epochs', type=int, default=30)
    parser.add_argument(
        '--rounds',
        type=int,
        default=1,
        help='runs of each trainer, interleaved; medians are reported',
    )
    parser.add_argument('--size', choices=SIZES, default='chapter')
    parser.add_argument(
        '--batch-size',
        type=int,
        help="the size's batch size replaced (every trainer, same learning "
        'rate)',
    )
    parser.add_argument(
        '--configs',
        default='default,fastest,fastest-native,uncut',
        help=f'library configurations, from: {", ".join(CONFIGS)}; '
        f'NAME+VARIANT measures an alternative of bench/alternatives.py',
    )
    parser.add_argument(
        '--peers',
        default='d2l-torch,d2l-mxnet',
        help=f'd2l trainers, from: {", ".join(PEERS)} (or none)',
    )
    parser.add_argument(
        '--decoders',
        default='attention',
        help=f'the library\'s decoders, from: {", ".join(DECODERS)} '
        f'(d2l\'s trainers train the attention model)',
    )
    parser.add_argument(
        '--scaling',
        action='store_true',
        help='the default configuration and d2l PyTorch at hidden sizes '
        '32-256 and batch sizes 64 and 256',
    )
    args = parser.parse_args()
    peers = [(p, None) for p in args.peers.split(',') if p and p != 'none']
    sys.path.insert(0, HERE)
    from alternatives import VARIANTS

    unknown = []
    for config in args.configs.split(','):
        name, *variants = config.split('+')
        unknown += [name] if name not in CONFIGS else []
        unknown += [v for v in variants if v not in VARIANTS]
    unknown += [p for p, _ in peers if p not in PEERS]
    decoders = args.decoders.split(',')
    unknown += [d for d in decoders if d not in DECODERS]
    if unknown:
        parser.error(f'unknown configuration or peer: {", ".join(unknown)}')
    from seq2seq_attention.cpu import MODE_VARIABLE
    import mxnet as mx

    print(
        f'MXNet {mx.__version__}, {os.cpu_count()} CPU cores, '
        f'{args.epochs} epochs, '
        f'{args.rounds} round(s), medians\n'
        f'MXNet CPU kernels ({MODE_VARIABLE}='
        f'{os.environ.get(MODE_VARIABLE, "portable")}): '
        f'{_kernel_env()}\n'
    )
    if args.scaling:
        print(
            f'{"hidden":>6s} {"batch":>5s} {"PyTorch tok/s":>13s} '
            f'{"train_s2s tok/s":>15s} '
            f'{"ratio":>6s} {"loss PyTorch":>12s} {"loss train_s2s":>14s}'
        )
        for batch_size in (64, 256):
            for num_hiddens in (32, 64, 128, 256):
                size = dict(
                    SIZES[args.size],
                    embed_size=num_hiddens,
                    num_hiddens=num_hiddens,
                    batch_size=batch_size,
                )
                (torch_r, lib_r), _ = bench(
                    size,
                    args.epochs,
                    args.rounds,
                    [
                        ('d2l-torch', None),
                        ('library', ('default', 'attention')),
                    ],
                )
                print(
                    f'{num_hiddens:6d} {batch_size:5d} '
                    f'{torch_r["tokens"] / torch_r["wall"]:13.0f} '
                    f'{lib_r["tokens"] / lib_r["wall"]:15.0f} '
                    f'{torch_r["wall"] / lib_r["wall"]:5.2f}x '
                    f'{torch_r["loss"]:12.4f} '
                    f'{lib_r["loss"]:14.4f}',
                    flush=True,
                )
        return
    size = dict(SIZES[args.size])
    if args.batch_size:
        size['batch_size'] = args.batch_size
    print(f'size {args.size}: {size}, {NUM_LAYERS} layers, lr {LR}\n')
    trainers = peers + [
        ('library', (c, d)) for d in decoders for c in args.configs.split(',')
    ]
    print_table(*bench(size, args.epochs, args.rounds, trainers))


if __name__ == '__main__':
    main()
