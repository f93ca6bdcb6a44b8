"""One compiled graph per length: built once, shared parameters, bounded."""

import numpy as onp
import pytest
from mxnet import autograd, init, np

from conftest import tiny_data
from seq2seq_attention import Seq2SeqConfig, Seq2SeqEncoder, build_seq2seq
from seq2seq_attention.graphs import (
    STATIC_BYTES,
    SequenceBlock,
    keep_graph_memory,
)
from seq2seq_attention.training import graph_memory


def batch(n, m, batch_size=3):
    """Random source ids, target ids and valid lengths: n and m steps."""
    return (
        np.array(
            onp.random.randint(0, 20, size=(batch_size, n)), dtype='int32'
        ),
        np.array(
            onp.random.randint(0, 15, size=(batch_size, m)), dtype='int32'
        ),
        np.array(onp.random.randint(1, n + 1, size=batch_size), dtype='int32'),
    )


@pytest.fixture
def net():
    net = build_seq2seq(Seq2SeqConfig(20, 15, 8, 16, 2))
    net.initialize(init.Xavier())
    net.hybridize(static_alloc=True, static_shape=True)
    return net


def test_at_most_max_graphs_are_kept_the_most_recently_used(net, monkeypatch):
    monkeypatch.setattr(SequenceBlock, 'max_graphs', 3)
    lengths = [(6, 5), (4, 1), (5, 2), (3, 3), (4, 1), (6, 5)]
    inputs = {shape: batch(*shape) for shape in set(lengths)}
    first = {}
    for shape in lengths:
        Y_hat = net(*inputs[shape]).asnumpy()
        first.setdefault(shape, Y_hat)
        assert len(net.graphs) <= 3
        # a rebuilt graph computes what the first one did
        onp.testing.assert_array_equal(Y_hat, first[shape])
    # most recent last: (6, 5) came back after (5, 2) and (3, 3) were built,
    # so (6, 5)'s first graph and then (5, 2)'s were dropped
    assert list(net.graphs.graphs) == [(3, 3), (4, 1), (6, 5)]


def test_a_graph_computes_with_the_blocks_own_parameters(net):
    """Gradients land on the block's parameters; new values are seen."""
    X, dec_X, valid_lens = batch(4, 3)
    with autograd.record():
        loss = (net(X, dec_X, valid_lens) ** 2).sum()
    loss.backward()
    dense = net.decoder.dense
    assert abs(dense.weight.grad().asnumpy()).sum() > 0
    before = net(X, dec_X, valid_lens).asnumpy()
    dense.bias.set_data(dense.bias.data() + 1)  # every score + 1
    onp.testing.assert_allclose(
        net(X, dec_X, valid_lens).asnumpy(), before + 1, rtol=1e-5
    )
    assert len(net.graphs) == 1


def test_a_block_called_alone_keeps_its_own_graphs(net):
    """The encoder, called by decoding, compiles its own graph per length."""
    X, _, valid_lens = batch(5, 1)
    encoder = net.encoder
    encoder(X, valid_lens)  # infer the shapes
    imperative = Seq2SeqEncoder(20, 8, 16, 2)
    imperative.initialize()
    imperative(X, valid_lens)  # the same, then copy the parameters
    for p, q in zip(
        imperative.collect_params().values(), encoder.collect_params().values()
    ):
        p.set_data(q.data())
    for n in (5, 3, 5):
        outputs, state = encoder(X[:, :n], np.minimum(valid_lens, n))
        expected, _ = imperative(X[:, :n], np.minimum(valid_lens, n))
        onp.testing.assert_allclose(
            outputs.asnumpy(), expected.asnumpy(), rtol=1e-5, atol=1e-6
        )
    assert len(encoder.graphs) == 2 and len(imperative.graphs) == 0


def test_graphs_keep_their_memory_only_where_they_are_few_and_small():
    """Decisions on cases: the chapters' data, chapter 5's, bucketed finely."""
    small = 4 * 64 * 10 * 200  # scores of a batch: 64 x 10 steps x 200 words
    assert keep_graph_memory([small] * 16)
    assert not keep_graph_memory([small] * 17)  # more than are kept
    assert not keep_graph_memory([STATIC_BYTES // 2 + 1] * 2)  # too large
    assert keep_graph_memory([STATIC_BYTES // 2] * 2)
    # what train_s2s decides for the chapters' 600 pairs (few small shapes)
    data_iter, _, tgt_vocab = tiny_data()
    assert graph_memory(data_iter, True, len(tgt_vocab))
    assert not graph_memory(data_iter, True, STATIC_BYTES)  # a huge vocabulary
