"""Loss curves: does a faster configuration train the model as well?

A speed lever that changes how the model is trained (the grouping of
sentences into batches, the loss's formulation) is kept only if the loss
curve stays within the seeds' spread of the default's. This script trains
the configurations of bench/train_speed.py (with its variants of
bench/alternatives.py) at one of its sizes, for `--epochs` epochs with each of
`--seeds`, two runs at a time (one per core, each pinned to one thread), and
prints each epoch's training loss per token (the mean over the epoch's
batches, as `train_s2s` returns it): the mean over seeds and its range, and
the tokens/sec of each run.

    python bench/loss_curves.py --size translator --epochs 4 \\
        --configs default,exact-buckets --seeds 0,1,2
"""

import argparse
import multiprocessing as mp
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train_speed  # noqa: E402


def train(job):
    """Train one (configuration, seed) for `epochs`; return its history."""
    size, config, seed, epochs = job
    sys.path.insert(0, HERE)
    import alternatives

    alternatives.set_environment(config)
    from seq2seq_attention import Seq2SeqConfig, build_seq2seq, set_seed
    import mxnet as mx
    from seq2seq_attention.training import train_s2s

    alternatives.apply_variants(config)
    data_options, train_options, cpu = train_speed.CONFIGS[config.split('+')[0]]
    assert cpu == 'portable', 'loss curves are compared on pinned kernels'
    set_seed(seed)
    data_iter, _, src_vocab, tgt_vocab, _ = train_speed._data(
        size, **data_options
    )
    net = build_seq2seq(
        Seq2SeqConfig(
            len(src_vocab), len(tgt_vocab), **train_speed._hparams(size)
        )
    )
    history = train_s2s(
        net,
        data_iter,
        train_speed.LR,
        epochs,
        tgt_vocab,
        mx.cpu(),
        **train_options,
    )
    return config, seed, list(history), history.tokens_per_sec


def main():
    """Parse the arguments, train every (configuration, seed), print."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', choices=train_speed.SIZES, default='chapter')
    parser.add_argument('--epochs', type=int, default=4)
    parser.add_argument('--configs', default='default,exact-buckets')
    parser.add_argument('--seeds', default='0,1,2')
    args = parser.parse_args()
    configs = args.configs.split(',')
    seeds = [int(s) for s in args.seeds.split(',')]
    size = train_speed.SIZES[args.size]
    jobs = [(size, c, s, args.epochs) for c in configs for s in seeds]
    with mp.get_context('spawn').Pool(2) as pool:
        results = pool.map(train, jobs, chunksize=1)
    print(
        f'size {args.size}: {size}, {train_speed.NUM_LAYERS} layers, '
        f'lr {train_speed.LR}, seeds {seeds}: training loss per token, '
        f'mean [range] over seeds'
    )
    for config in configs:
        runs = [r for r in results if r[0] == config]
        speeds = ', '.join(f'{r[3]:.0f}' for r in runs)
        print(f'\n{config} (tokens/sec per run: {speeds})')
        for epoch in range(args.epochs):
            losses = [r[2][epoch] for r in runs]
            print(
                f'  epoch {epoch + 1:2d}: {sum(losses) / len(losses):.4f} '
                f'[{min(losses):.4f}, {max(losses):.4f}]'
            )


if __name__ == '__main__':
    main()
