"""One worker of the distributed-training test
(tests/test_distributed.py starts two of them).

It joins MXNet's `dist_sync` kvstore (the DMLC_* variables come from the test),
trains the tiny model on its share of every batch, and saves its parameters,
loss history and token counts in the folder named by its argument.
"""

import json
import os
import sys

# first: it prepares MXNet, see its docstring
import seq2seq_attention  # noqa: F401
import mxnet as mx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import tiny_data  # noqa: E402
from seq2seq_attention import (
    ShardedBatches,
    Seq2SeqConfig,
    build_seq2seq,
    set_seed,
)  # noqa: E402
from seq2seq_attention.training import train_s2s  # noqa: E402

EPOCHS = 3
BATCH_SIZE = (
    3  # batches of 3, 3 and 2 examples: the two workers' shares differ in size
)


def train(data_iter, src_vocab, tgt_vocab, kvstore=None):
    """Train the test's model; return it and its loss history."""
    net = build_seq2seq(Seq2SeqConfig(len(src_vocab), len(tgt_vocab), 8, 16, 2))
    history = train_s2s(
        net, data_iter, 0.01, EPOCHS, tgt_vocab, mx.cpu(), kvstore=kvstore
    )
    return net, history


if __name__ == '__main__':
    out = sys.argv[1]
    kv = mx.kv.create('dist_sync')
    set_seed(0)  # every worker draws the same batches
    data_iter, src_vocab, tgt_vocab = tiny_data(batch_size=BATCH_SIZE)
    if (
        kv.rank > 0
    ):  # other initial parameters than worker 0's: train_s2s must replace them
        mx.random.seed(
            1000 + kv.rank
        )  # by worker 0's before the first gradient is taken
    net, history = train(
        ShardedBatches(data_iter, kv.rank, kv.num_workers),
        src_vocab,
        tgt_vocab,
        kv,
    )
    net.save_parameters(os.path.join(out, f'worker{kv.rank}.params'))
    with open(os.path.join(out, f'worker{kv.rank}.json'), 'w') as f:
        json.dump(
            {
                'rank': kv.rank,
                'num_workers': kv.num_workers,
                'history': history,
                'tokens': history.tokens,
            },
            f,
        )
