"""Where training's time goes: MXNet's profiler over a few batches, by family.

Trains the library's model at one of bench/train_speed.py's sizes and
configurations (with its variants of bench/alternatives.py) for one epoch of
`--batches` batches to compile the graphs, then profiles one more and prints
the operator time per batch by family (the output layer and LSTM products, the
loss, Adam, ...), then the 12 costliest operators. Kernels are pinned, one
thread, as the book trains. (Where graphs keep their memory, as `train_s2s`
chooses for small models, MXNet executes sequences of operators as one bulk
segment, which the profiler names by all of them: those are counted apart.)

    python bench/profile_train.py --size translator --configs default \\
        --batches 60
"""

import argparse
import os
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train_speed  # noqa: E402

# operator name patterns (backward passes included) -> family
FAMILIES = (
    ('LSTM', r'RNN|rnn_param_concat'),
    ('dense layers (output, attention)', r'FullyConnected'),
    ('loss: log-softmax, pick, mask', r'log_softmax|pick|SequenceMask'),
    (
        'attention: tanh, softmax, products',
        r'Activation|softmax|batch_dot'
        r'|matmul|broadcast',
    ),
    ('Adam and clipping', r'adamw|sum_sq'),
    ('gradient sums', r'_grad_add|add_n'),
    ('freeing arrays', r'DeleteVariable'),
    (
        'reshaping: split, concat, swap, stack, slice',
        r'split|concat|Concat'
        r'|SwapAxis|stack|slice|reshape|take|gather|Embedding|tile|zeros',
    ),
)


def family(name):
    """The family an operator belongs to, or 'other'."""
    if ',' in name:  # MXNet ran several operators as one bulk segment
        return 'bulked segments (several families)'
    for label, pattern in FAMILIES:
        if re.search(pattern, name):
            return label
    return 'other'


def parse(table):
    """(name, calls, total ms) of each operator in the profiler's table."""
    rows, in_operators = [], False
    for line in table.splitlines():
        if line.strip() == 'operator':
            in_operators = True
            continue
        if in_operators:
            parts = line.split()
            if len(parts) == 6 and parts[1].isdigit():
                rows.append((parts[0], int(parts[1]), float(parts[2])))
            elif rows and not line.strip():
                break
    return rows


def main():
    """Train, profile one epoch, print the families and operators."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument(
        '--size', choices=train_speed.SIZES, default='translator'
    )
    parser.add_argument('--configs', default='default')
    parser.add_argument('--batches', type=int, default=60)
    args = parser.parse_args()
    config = args.configs
    import alternatives

    alternatives.set_environment(config)
    from seq2seq_attention import (
        BatchIterator,
        Seq2SeqConfig,
        build_seq2seq,
        set_seed,
    )
    import mxnet as mx
    from mxnet import profiler
    from seq2seq_attention.training import train_s2s

    alternatives.apply_variants(config)
    data_options, train_options, _ = train_speed.CONFIGS[config.split('+')[0]]
    size = train_speed.SIZES[args.size]
    set_seed(0)
    data_iter, _, src_vocab, tgt_vocab, _ = train_speed._data(size)
    examples = args.batches * size['batch_size']
    arrays = [a[:examples] for a in data_iter.arrays]
    data_iter = BatchIterator(arrays, size['batch_size'], **data_options)
    net = build_seq2seq(
        Seq2SeqConfig(
            len(src_vocab), len(tgt_vocab), **train_speed._hparams(size)
        )
    )

    def epoch(**options):
        return train_s2s(
            net,
            data_iter,
            train_speed.LR,
            1,
            tgt_vocab,
            mx.cpu(),
            **train_options,
            **options,
        )

    epoch()  # compiles the graphs
    # (the trace file MXNet also writes goes to the temporary folder)
    profiler.set_config(
        profile_all=True,
        aggregate_stats=True,
        filename=os.path.join(tempfile.gettempdir(), 'profile_train.json'),
    )
    profiler.set_state('run')
    start = time.perf_counter()
    history = epoch(reinit=False)
    mx.nd.waitall()
    wall = time.perf_counter() - start
    profiler.set_state('stop')
    rows = parse(profiler.dumps(reset=True))
    batches = len(data_iter)
    print(
        f'size {args.size}, configuration {config}: {batches} batches, '
        f'{history.tokens[0]:.0f} target tokens, {wall:.1f} s '
        f'({wall / batches * 1e3:.0f} ms per batch, profiled)\n'
    )
    totals = {}
    for name, _, ms in rows:
        totals[family(name)] = totals.get(family(name), 0.0) + ms
    operators_ms = sum(totals.values())
    print(f'{"family":45s} {"ms/batch":>8s} {"share":>6s}')
    for label, ms in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f'{label:45s} {ms / batches:8.1f} {ms / operators_ms:6.0%}')
    print(
        f'{"all operators":45s} {operators_ms / batches:8.1f}\n\n'
        f'{"operator":32s} {"calls/batch":>11s} {"ms/batch":>8s}'
    )
    for name, calls, ms in sorted(rows, key=lambda r: -r[2])[:12]:
        name = name if len(name) <= 32 else name[:29] + '...'
        print(f'{name:32s} {calls / batches:11.1f} {ms / batches:8.1f}')


if __name__ == '__main__':
    main()
