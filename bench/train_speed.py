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
trainers. It prints figures and asserts nothing. PyTorch is a benchmark-only
dependency (bench/requirements.txt).

    # the chapter's model
    python bench/train_speed.py --epochs 200 --rounds 3
    # chapter 5's size
    python bench/train_speed.py --size chapter5 --epochs 5
    # a translator's size
    python bench/train_speed.py --size translator --epochs 2 --configs default
    # hidden 32-256, batch 64, 256
    python bench/train_speed.py --scaling --epochs 10
"""

import argparse
import contextlib
import io
import multiprocessing as mp
import os
import queue
import resource
import statistics
import sys
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
    'chapter': dict(
        embed_size=32,
        num_hiddens=32,
        batch_size=64,
        num_steps=10,
        num_examples=600,
    ),
    'chapter5': dict(
        embed_size=64,
        num_hiddens=64,
        batch_size=128,
        num_steps=20,
        num_examples=2000,
    ),
    'translator': dict(
        embed_size=128,
        num_hiddens=128,
        batch_size=128,
        num_steps=11,
        num_examples=30000,
    ),
}
NUM_LAYERS = 2


def _data(size, bucket=False, length_step=1):
    """The pairs of `size`: the library's batches and a
    fixed-order copy for evaluation."""
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
            tokens=num_tokens * epochs,
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
    written the d2l PyTorch way."""
    use_reader_env(data['reader_env'])
    sys.path.insert(0, HERE)
    import d2l_torch_reference as ref  # imports d2l.torch, torchvision stubbed
    import torch

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
            name='d2l PyTorch',
            wall=wall,
            tokens=data['num_tokens'] * epochs,
            loss=ref.evaluate_loss(
                net, arrays, size['batch_size'], data['bos']
            ),
            peak_mib=_peak_mib(),
            note=f'd2l.torch.train_seq2seq, torch {torch.__version__}, '
            f'{torch.get_num_threads()} threads',
        )
    )


def _kernel_env():
    """The kernel and thread variables as this process runs with them."""
    return ', '.join(
        f'{k}={os.environ.get(k, "unset")}' for k in THREAD_VARIABLES
    )


def run_library(size, epochs, config, results):
    """The library's `train_s2s` on the library's model, in
    the named configuration."""
    config, reader_env = config
    data_options, train_options, cpu = CONFIGS[config.split('+')[0]]
    # before MXNet loads: pinned kernels, or the reader's
    # environment left as it was
    os.environ['SEQ2SEQ_ATTENTION_CPU'] = cpu
    if cpu == 'native':
        use_reader_env(reader_env)
    from seq2seq_attention import Seq2SeqConfig, build_seq2seq, set_seed
    import mxnet as mx
    from seq2seq_attention.training import evaluate_loss, train_s2s

    sys.path.insert(0, HERE)
    import alternatives

    for variant in config.split('+')[
        1:
    ]:  # measured alternatives (bench/alternatives.py)
        alternatives.VARIANTS[variant]()
    set_seed(0)
    data_iter, eval_iter, src_vocab, tgt_vocab, num_tokens = _data(
        size, **data_options
    )
    net = build_seq2seq(
        Seq2SeqConfig(len(src_vocab), len(tgt_vocab), **_hparams(size))
    )
    start = time.perf_counter()
    train_s2s(net, data_iter, LR, epochs, tgt_vocab, mx.cpu(), **train_options)
    mx.nd.waitall()
    wall = time.perf_counter() - start
    results.put(
        dict(
            name=f'train_s2s ({config})',
            wall=wall,
            tokens=num_tokens * epochs,
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
# many shapes, static_alloc left to train_s2s) to show what each is worth and
# costs, the imperative one (hybridize=False), `-keep` variants where every
# graph keeps its memory (static_alloc=True: what train_s2s chooses for the
# chapter's few shapes with small score arrays, and not at chapter 5's size),
# and `-native` twins with this CPU's own kernels
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
    'imperative': ({}, {'hybridize': False}, 'portable'),
}
CONFIGS.update(
    {
        f'{name}-native': (data, train, 'native')
        for name, (data, train, _) in list(CONFIGS.items())
    }
)
PEERS = ('d2l-torch', 'd2l-mxnet')


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
    """Run every trainer `rounds` times, interleaved; return the medians."""
    # each trainer's process and its argument (PyTorch's:
    # the data, made once here)
    shared = torch_data(size) if ('d2l-torch', None) in trainers else None
    runners = {
        'library': run_library,
        'd2l-torch': run_torch,
        'd2l-mxnet': run_d2l,
    }
    args = {
        'library': lambda config: (config, READER_ENV),
        'd2l-torch': lambda _: shared,
        'd2l-mxnet': lambda config: config,
    }
    runs = [
        measure(runners[kind], size, epochs, args[kind](config))
        for _ in range(rounds)
        for kind, config in trainers
    ]
    return median_runs(runs)


def _spread(peer, r):
    """The range of the round-by-round ratios `peer / r`, if
    there are several rounds."""
    ratios = [p / w for p, w in zip(peer['walls'], r['walls'])]
    return (
        f' (rounds {min(ratios):.2f}-{max(ratios):.2f})'
        if len(ratios) > 1
        else ''
    )


def print_table(results):
    """Each trainer's figures, then its speed ratio against each d2l trainer."""
    width = max(27, *(len(r['name']) for r in results))
    print(
        f'{"trainer":{width}s} {"tokens/sec":>10s} {"wall s":>7s} '
        f'{"loss/token":>10s} '
        f'{"peak MiB":>8s}   rounds (wall s)'
    )
    for r in results:
        walls = ', '.join(f'{w:.1f}' for w in r['walls'])
        print(
            f'{r["name"]:{width}s} {r["tokens"] / r["wall"]:10.0f} '
            f'{r["wall"]:7.2f} '
            f'{r["loss"]:10.4f} {r["peak_mib"]:8.0f}   {walls}'
        )
    print()
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
                torch_r, lib_r = bench(
                    size,
                    args.epochs,
                    args.rounds,
                    [('d2l-torch', None), ('library', 'default')],
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
    size = SIZES[args.size]
    print(f'size {args.size}: {size}, {NUM_LAYERS} layers, lr {LR}\n')
    trainers = peers + [('library', c) for c in args.configs.split(',')]
    print_table(bench(size, args.epochs, args.rounds, trainers))


if __name__ == '__main__':
    main()
