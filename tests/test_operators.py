"""The same numbers on every supported stack: each operator the
library and chapters use, forward and backward, on fixed inputs, bit
for bit against a reference.

The reference (tests/data/operator_digests.json) holds a SHA-1 of every
result's bytes (and the BLEU scores themselves, which Python computes: see
operator_results), written on the Python 3.11 + NumPy 1.23.5 stack with
the pinned CPU kernels. CI runs this file on all three stacks, so a stack
(or a CPU) that computes any of them differently fails here, naming the
operator, before a chapter does. After a deliberate change of the
library's numerics, rewrite the reference:

    .venv/bin/python tests/test_operators.py --write
"""

import hashlib
import json
import math
import os
import platform
import sys
from pathlib import Path

# first: it prepares MXNet, see its docstring
import seq2seq_attention  # noqa: F401
import mxnet as mx
import numpy as onp
import pytest
from mxnet import autograd, init, np, npx
from mxnet.gluon import nn, rnn

from conftest import PAIRS  # the pairs every test trains on

from seq2seq_attention import (
    DotProductAttention,
    MLPAttention,
    Seq2SeqConfig,
    Vocab,
    build_data_iter,
    build_seq2seq,
    masked_softmax,
    set_seed,
)
from seq2seq_attention.cpu import MODE_VARIABLE, cpu_flags
from seq2seq_attention.decoding import beam_search_batch, translate_batch
from seq2seq_attention.loss import MaskedSoftmaxCELoss
from seq2seq_attention.metrics import bleu, corpus_bleu
from seq2seq_attention.training import train_s2s

REFERENCE = Path(__file__).resolve().parent / 'data' / 'operator_digests.json'


def digest(*arrays):
    """SHA-1 of the bytes of `arrays` (MXNet or NumPy
    arrays, or Python numbers)."""
    sha1 = hashlib.sha1()
    for a in arrays:
        a = a.asnumpy() if hasattr(a, 'asnumpy') else onp.asarray(a)
        sha1.update(str(a.dtype).encode() + str(a.shape).encode() + a.tobytes())
    return sha1.hexdigest()


def forward_backward(f, *inputs, input_grads=True):
    """`f(*inputs)` and the gradients of its sum with respect to every input."""
    for X in inputs if input_grads else ():
        X.attach_grad()
    with autograd.record():
        Y = f(*inputs)
    Y.backward()
    return [Y] + [X.grad for X in inputs if input_grads]


def block_results(block, *inputs, input_grads=True):
    """A freshly initialised block's output and the gradients of its
    parameters (and inputs)."""
    block.initialize(init.Xavier())
    outs = forward_backward(block, *inputs, input_grads=input_grads)
    grads = [
        p.grad()
        for p in block.collect_params().values()
        if p.grad_req != 'null'
    ]
    return outs + grads


def operator_results():
    """{name: digest of the results} for every operator and library
    function the chapters compute with ({name: list of values} for the
    scores computed in Python)."""
    set_seed(0)
    normal = lambda *shape: np.random.normal(0, 1, shape)  # noqa: E731
    results = {}

    def add(name, *arrays):
        results[name] = digest(*arrays)

    X3, X2 = normal(4, 5, 6), normal(7, 6)
    valid = np.array([1, 5, 3, 2])
    add(
        'Embedding',
        *block_results(
            nn.Embedding(11, 6),
            np.array([[1, 10, 3], [0, 2, 2]]),
            input_grads=False,
        ),
    )
    add('Dense', *block_results(nn.Dense(8, flatten=False), X3.copy()))
    lstm = rnn.LSTM(8, 2)
    lstm.initialize(init.Xavier())
    state = lstm.begin_state(batch_size=5)
    X_lstm = normal(4, 5, 6)
    X_lstm.attach_grad()
    with autograd.record():
        out, (h, c) = lstm(X_lstm, state)
        total = out.sum() + h.sum() + c.sum()
    total.backward()
    add(
        'LSTM',
        out,
        h,
        c,
        X_lstm.grad,
        *[p.grad() for p in lstm.collect_params().values()],
    )
    add(
        'softmax',
        *forward_backward(lambda X: (npx.softmax(X) * X).sum(), X3.copy()),
    )
    add(
        'log_softmax',
        *forward_backward(lambda X: (npx.log_softmax(X) * X).sum(), X3.copy()),
    )
    add(
        'tanh (npx.activation)',
        *forward_backward(
            lambda X: (npx.activation(X, act_type='tanh') * X).sum(), X3.copy()
        ),
    )
    add(
        'matmul',
        *forward_backward(
            lambda A, B: np.matmul(A, B).sum() ** 2,
            normal(3, 4, 5),
            normal(3, 5, 2),
        ),
    )
    add(
        'batch_dot',
        *forward_backward(
            lambda A, B: npx.batch_dot(A, B, transpose_b=True).sum() ** 2,
            normal(3, 4, 5),
            normal(3, 2, 5),
        ),
    )
    add('sequence_mask', npx.sequence_mask(X3, valid, True, value=-1e6, axis=1))
    add(
        'masked_softmax (1-D lengths)',
        masked_softmax(X3, np.array([2, 6, 1, 4])),
    )
    add(
        'masked_softmax (2-D lengths)',
        masked_softmax(
            X3,
            np.array(
                [
                    [1, 2, 3, 4, 5],
                    [6, 5, 4, 3, 2],
                    [1, 1, 1, 1, 1],
                    [6, 6, 6, 6, 6],
                ]
            ),
        ),
    )
    queries, keys, values = normal(4, 3, 6), normal(4, 5, 6), normal(4, 5, 7)
    for name, attention in (
        ('MLPAttention', MLPAttention(8)),
        ('DotProductAttention', DotProductAttention()),
    ):
        add(name, *_attention_results(attention, queries, keys, values, valid))
    loss = MaskedSoftmaxCELoss()
    pred, label = normal(4, 5, 9), np.array(onp.arange(20).reshape(4, 5) % 9)
    add(
        'MaskedSoftmaxCELoss',
        *forward_backward(lambda P: loss(P, label, valid).sum(), pred),
    )
    add(
        'multi_sum_sq',
        mx.nd.multi_sum_sq(
            X3.as_nd_ndarray(), X2.as_nd_ndarray(), num_arrays=2
        ),
    )
    add(
        'sum, sqrt, exp, log',
        X3.sum(axis=1),
        np.sqrt(np.abs(X3)),
        np.exp(X3),
        np.log(X2**2),
    )

    # Whole library functions: training (Xavier, Adam, clipping),
    # greedy and beam decoding
    source = [s.split() for s, _ in PAIRS]
    target = [t.split() for _, t in PAIRS]
    src_vocab = Vocab(source, reserved_tokens=['<pad>', '<bos>', '<eos>'])
    tgt_vocab = Vocab(target, reserved_tokens=['<pad>', '<bos>', '<eos>'])
    for decoder, attention in (
        ('plain', 'mlp'),
        ('attention', 'mlp'),
        ('attention', 'dot'),
    ):
        set_seed(0)
        data_iter, _, _ = build_data_iter(
            source, target, 4, 8, src_vocab, tgt_vocab
        )
        net = build_seq2seq(
            Seq2SeqConfig(
                len(src_vocab),
                len(tgt_vocab),
                16,
                16,
                2,
                decoder=decoder,
                attention=attention,
            )
        )
        history = train_s2s(net, data_iter, 0.01, 30, tgt_vocab, mx.cpu())
        # in the order the model creates them (Gluon's names carry
        # global counters, 'embedding12_weight', which depend on
        # the blocks made before)
        params = [p.data() for p in net.collect_params().values()]
        add(f'train_s2s ({decoder}, {attention})', onp.array(history), *params)
        sentences = [s for s, _ in PAIRS]
        greedy, _ = translate_batch(
            net, sentences, src_vocab, tgt_vocab, 8, mx.cpu()
        )
        beam, _ = beam_search_batch(
            net,
            sentences,
            src_vocab,
            tgt_vocab,
            8,
            mx.cpu(),
            beam_size=3,
            alpha=0.75,
        )
        references = [t for _, t in PAIRS]
        add(
            f'decoding ({decoder}, {attention})',
            onp.frombuffer(
                json.dumps([greedy, beam]).encode(), dtype=onp.uint8
            ),
        )
        # BLEU is computed in Python, not MXNet, and Python 3.12 made sum()
        # of floats compensated (more exact), so its last bit may differ
        # between stacks: kept as values
        results[f'BLEU ({decoder}, {attention})'] = [
            corpus_bleu(greedy, references)
        ] + [bleu(g, r, k=2) for g, r in zip(greedy, references)]
    return results


def _attention_results(attention, queries, keys, values, valid):
    """An attention layer's output, weights and the gradients of its
    inputs and parameters."""
    attention.initialize(init.Xavier())
    inputs = [queries.copy(), keys.copy(), values.copy()]
    for X in inputs:
        X.attach_grad()
    with autograd.record():
        Y = attention(*inputs, valid)
        total = (Y**2).sum()
    total.backward()
    return (
        [Y, attention.attention_weights]
        + [X.grad for X in inputs]
        + [p.grad() for p in attention.collect_params().values()]
    )


def stack():
    """The stack this runs on, for the reference's record."""
    return (
        f'Python {platform.python_version()}, NumPy {onp.__version__}, '
        f'MXNet {mx.__version__}, {platform.machine()}'
    )


def test_every_operator_gives_the_reference_bits():
    """Each operator's results equal, bit for bit, those of the stack that wrote
    the reference (BLEU scores, computed in Python, to within 1e-12)."""
    if os.environ.get(MODE_VARIABLE) == 'native':
        pytest.skip(
            f'{MODE_VARIABLE}=native: the kernels are not pinned, '
            'so bits may differ'
        )
    if not {'avx2', 'fma'} <= (cpu_flags() or set()):
        pytest.skip(
            'this CPU has no AVX2 and FMA: '
            'its kernels differ from the pinned ones'
        )
    reference = json.loads(REFERENCE.read_text())
    results = operator_results()
    assert results.keys() == reference['digests'].keys(), (
        'the operators computed and those in the reference differ: '
        'rewrite the reference'
    )
    differ = [
        name
        for name, value in results.items()
        if not (
            value == reference['digests'][name]
            if isinstance(value, str)
            else all(
                math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
                for a, b in zip(value, reference['digests'][name], strict=True)
            )
        )
    ]
    assert not differ, (
        f'on {stack()} these give other bits than on {reference["stack"]}: '
        f'{differ}'
    )


if __name__ == '__main__' and sys.argv[1:] == ['--write']:
    REFERENCE.parent.mkdir(exist_ok=True)
    REFERENCE.write_text(
        json.dumps(
            {'stack': stack(), 'digests': operator_results()},
            indent=1,
            ensure_ascii=False,
        )
        + '\n'
    )
    print(f'wrote {REFERENCE} on {stack()}')
