"""Training speed: the library's `train_s2s` against d2l's own `d2l.train_seq2seq`.

Both train the chapter's attention model (600 pairs, num_steps=10, embed_size=num_hiddens=32,
2 LSTM layers, batch 64, Adam with lr 0.005) for the same number of epochs, each in a fresh
process (so peak memory is its own). d2l's trainer drives the model written as the d2l chapter
writes it (bench/d2l_reference.py); the library's trainer drives the library's model. For
each run it prints tokens/sec (valid target tokens, i.e. padding not counted, over the wall
time of the whole training call), wall time, the final loss per token (both models evaluated
the same way, by `evaluate_loss` on the training pairs) and peak memory, then the speed
ratios. It prints figures and asserts nothing.

    python bench/train_speed.py --epochs 30
"""
import argparse
import contextlib
import io
import multiprocessing as mp
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HPARAMS = dict(embed_size=32, num_hiddens=32, num_layers=2, dropout=0.0)
BATCH_SIZE, NUM_STEPS, LR = 64, 10, 0.005


def _ctx(gpu):
    """The context both trainers run on."""
    import mxnet as mx
    return mx.gpu(0) if gpu else mx.cpu()


def _data(bucket=False):
    """The chapter's data: the library's batches and a fixed-order copy for evaluation."""
    from seq2seq_attention import BatchIterator, load_data_nmt
    data_iter, src_vocab, tgt_vocab = load_data_nmt(BATCH_SIZE, NUM_STEPS, bucket=bucket)
    eval_iter = BatchIterator(data_iter.arrays, BATCH_SIZE, shuffle=False)
    num_tokens = float(data_iter.arrays[3].sum())  # valid target tokens per epoch
    return data_iter, eval_iter, src_vocab, tgt_vocab, num_tokens


def run_d2l(epochs, config, gpu, results):
    """d2l's `train_seq2seq` on the d2l-chapter model (in a child process)."""
    sys.path.insert(0, HERE)
    import seq2seq_attention  # noqa: F401  (first, as in run_library: the same CPU kernels)
    import mxnet as mx
    from d2l import mxnet as d2l
    import d2l_reference as ref
    from seq2seq_attention import set_seed
    from seq2seq_attention.training import evaluate_loss
    set_seed(0)
    _, eval_iter, src_vocab, tgt_vocab, num_tokens = _data()
    # d2l's own pipeline: float32 token arrays in a Gluon DataLoader (d2l.load_array)
    arrays = [a.astype('float32') for a in eval_iter.arrays]
    data_iter = d2l.load_array(arrays, BATCH_SIZE)
    net = ref.EncoderDecoder(
        ref.Seq2SeqEncoder(len(src_vocab), **HPARAMS),
        ref.Seq2SeqAttentionDecoder(len(tgt_vocab), **HPARAMS))
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()) as printed:  # its Animator prints figures
        d2l.train_seq2seq(net, data_iter, LR, epochs, tgt_vocab, _ctx(gpu))
        mx.nd.waitall()
    wall = time.perf_counter() - start
    last_line = [l for l in printed.getvalue().splitlines() if 'tokens/sec' in l][-1]
    results.put(dict(name="d2l.train_seq2seq", wall=wall, tokens=num_tokens * epochs,
                     loss=evaluate_loss(lambda *a: net(*a)[0], eval_iter, tgt_vocab, _ctx(gpu)),
                     peak_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                     note=f'd2l printed: {last_line}'))


def run_library(epochs, config, gpu, results):
    """The library's `train_s2s` on the library's model, in the named configuration."""
    from seq2seq_attention import build_seq2seq, set_seed
    import mxnet as mx
    from seq2seq_attention.training import evaluate_loss, train_s2s
    set_seed(0)
    data_options, train_options = CONFIGS[config]
    data_iter, eval_iter, src_vocab, tgt_vocab, num_tokens = _data(**data_options)
    net = build_seq2seq(len(src_vocab), len(tgt_vocab), **HPARAMS)
    start = time.perf_counter()
    train_s2s(net, data_iter, LR, epochs, tgt_vocab, _ctx(gpu), plot=False, verbose=False,
              **train_options)
    mx.nd.waitall()
    wall = time.perf_counter() - start
    results.put(dict(name=f'train_s2s ({config})', wall=wall, tokens=num_tokens * epochs,
                     loss=evaluate_loss(net, eval_iter, tgt_vocab, _ctx(gpu)),
                     peak_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                     note=f'data options {data_options}, train_s2s options {train_options}'))


# The library's configurations, as (data options, train_s2s options): the chapter's default
# (hybridized), the fastest documented one (batches bucketed by length, padding cut), and the
# imperative one (hybridize=False) to show what hybridization alone is worth
CONFIGS = {'default': ({}, {}),
           'fastest': ({'bucket': 1}, {}),
           'imperative': ({}, {'hybridize': False})}


def measure(target, epochs, gpu, config=None):
    """Run one training in a fresh process and return its figures."""
    ctx = mp.get_context('spawn')
    results = ctx.Queue()
    proc = ctx.Process(target=target, args=(epochs, config, gpu, results))
    proc.start()
    figures = results.get()
    proc.join()
    return figures


def main():
    """Run d2l's trainer and each library configuration, print the figures and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--epochs', type=int, default=30)
    parser.add_argument('--gpu', action='store_true', help='train on gpu(0) instead of the CPU')
    parser.add_argument('--configs', default='default,fastest',
                        help=f'comma-separated, from: {", ".join(CONFIGS)}')
    args = parser.parse_args()
    from seq2seq_attention.cpu import MODE_VARIABLE, PORTABLE_SETTINGS
    import mxnet as mx
    where = f'gpu(0) of {mx.context.num_gpus()} GPUs' if args.gpu else f'{os.cpu_count()} CPU cores'
    pinned = ', '.join(f'{k}={os.environ.get(k, "unset")}' for k in PORTABLE_SETTINGS)
    print(f'MXNet {mx.__version__}, {where}, {args.epochs} epochs each\n'
          f'CPU kernels ({MODE_VARIABLE}={os.environ.get(MODE_VARIABLE, "portable")}): '
          f'{pinned}\n')
    runs = [measure(run_d2l, args.epochs, args.gpu)]
    runs += [measure(run_library, args.epochs, args.gpu, c) for c in args.configs.split(',')]
    print(f'{"trainer":32s} {"tokens/sec":>11s} {"wall s":>8s} {"loss/token":>11s} {"peak MiB":>9s}')
    for r in runs:
        print(f'{r["name"]:32s} {r["tokens"] / r["wall"]:11.1f} {r["wall"]:8.2f} '
              f'{r["loss"]:11.4f} {r["peak_mib"]:9.1f}')
    print()
    base = runs[0]
    for r in runs[1:]:
        print(f'speed ratio {r["name"]} / d2l: {base["wall"] / r["wall"]:.2f}x '
              f'(final loss {r["loss"]:.4f} vs d2l {base["loss"]:.4f})')
    for r in runs:
        print(f'{r["name"]}: {r["note"]}')


if __name__ == '__main__':
    main()
