"""ClippedAdam computes what gluon.Trainer('adam') does after clipping."""

import mxnet as mx
import numpy as onp
from mxnet import autograd, gluon, init, np

from seq2seq_attention import Seq2SeqConfig, build_seq2seq, set_seed
from seq2seq_attention.optim import ClippedAdam


def test_clipped_adam_matches_gluons_adam_after_clipping():
    """Four steps, the norm above and below the threshold in turn."""
    X = np.array(onp.random.randint(0, 12, size=(3, 5)), dtype='int32')
    dec_X = np.array(onp.random.randint(0, 9, size=(3, 4)), dtype='int32')
    valid_lens = np.array([5, 2, 3], dtype='int32')
    nets = []
    for _ in range(2):
        set_seed(0)  # parameters of unknown shape are drawn at the first call
        net = build_seq2seq(Seq2SeqConfig(12, 9, 4, 8, 1))
        net.initialize(init.Xavier())
        net(X, dec_X, valid_lens)
        nets.append(net)
    reference = list(nets[0].collect_params().values())
    params = list(nets[1].collect_params().values())
    trainer = gluon.Trainer(reference, 'adam', {'learning_rate': 0.01})
    optimizer = ClippedAdam(params, [mx.cpu()], 0.01, theta=1.0)
    norms = []
    for step in range(4):
        for net in nets:
            with autograd.record():
                loss = (net(X, dec_X, valid_lens) ** 2).sum()
                loss = loss * (10 if step % 2 else 0.01)
            loss.backward()
        grads = [p.grad().as_nd_ndarray() for p in reference]
        norms.append(gluon.utils.clip_global_norm(grads, 1.0))
        trainer.step(7)  # divided by 7 tokens
        optimizer.step(7.0)
    assert min(norms) < 1 < max(norms)  # clipped, and not clipped
    # (the norms are summed in another order; where a gradient is near 0,
    # Adam's step m / (sqrt(v) + eps) turns that last-bit difference into a
    # few 1e-6 of the learning rate, 0.01)
    for a, b in zip(reference, params):
        onp.testing.assert_allclose(
            b.data().asnumpy(), a.data().asnumpy(), rtol=1e-4, atol=1e-5
        )
