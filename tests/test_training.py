"""Training: the masked loss, data parallelism on two contexts, overfitting a few pairs."""
import re

import mxnet as mx
import numpy as onp
import pytest
from mxnet import np

from conftest import NUM_STEPS, PAIRS, tiny_data
from seq2seq_attention import build_seq2seq, set_seed
from seq2seq_attention.decoding import predict_s2s
from seq2seq_attention.training import MaskedSoftmaxCELoss, train_s2s

def test_masked_loss_ignores_padding():
    loss = MaskedSoftmaxCELoss()
    pred = np.random.normal(size=(3, 4, 10))
    label = np.array(onp.random.randint(0, 10, size=(3, 4)), dtype='int32')
    valid_len = np.array([4, 2, 0], dtype='int32')
    l = loss(pred, label, valid_len).asnumpy()
    # changing predictions and labels at padded positions changes nothing
    pred_other, label_other = pred.copy(), label.copy()
    pred_other[1, 2:] = 100
    label_other[1, 2:] = 3
    pred_other[2] = -7
    onp.testing.assert_allclose(loss(pred_other, label_other, valid_len).asnumpy(), l)
    assert l[2] == 0
    # and a valid position's cross-entropy is counted, divided by num_steps as in d2l
    logp = pred.asnumpy() - onp.log(onp.exp(pred.asnumpy()).sum(-1, keepdims=True))
    expected = -logp[1, [0, 1], label.asnumpy()[1, :2]].sum() / 4
    onp.testing.assert_allclose(l[1], expected, rtol=1e-5)


def test_train_reports_like_the_book_and_returns_the_history(capsys):
    data_iter, src_vocab, tgt_vocab = tiny_data()
    net = build_seq2seq(len(src_vocab), len(tgt_vocab), 8, 8, 1)
    history = train_s2s(net, data_iter, 0.01, 3, tgt_vocab, mx.cpu(), plot=False)
    assert len(history) == 3 and all(h > 0 for h in history)
    out = capsys.readouterr().out
    assert re.fullmatch(r'loss \d+\.\d{3}, \d+\.\d tokens/sec on cpu\(0\)\n', out), out
    with pytest.raises(ValueError, match='num_epochs'):
        train_s2s(net, data_iter, 0.01, 0, tgt_vocab, mx.cpu())


def params_after_training(ctx, epochs=3):
    set_seed(0)
    data_iter, src_vocab, tgt_vocab = tiny_data(batch_size=8)
    net = build_seq2seq(len(src_vocab), len(tgt_vocab), 8, 16, 2)
    history = train_s2s(net, data_iter, 0.01, epochs, tgt_vocab, ctx, verbose=False, plot=False)
    params = {name: [p.data(c).asnumpy() for c in p.list_ctx()]
              for name, p in net._collect_params_with_prefix().items()}
    return params, history


def test_two_contexts_give_the_same_parameters_as_one():
    one, history_one = params_after_training(mx.cpu(0))
    two, history_two = params_after_training([mx.cpu(0), mx.cpu(1)])
    onp.testing.assert_allclose(history_two, history_one, rtol=1e-5)
    for name in one:
        assert len(two[name]) == 2
        # both contexts hold the same copy, equal to the single-context result
        onp.testing.assert_array_equal(two[name][0], two[name][1])
        onp.testing.assert_allclose(two[name][0], one[name][0], rtol=1e-4, atol=1e-5, err_msg=name)
    # and training did move the parameters away from their initial values
    initial, _ = params_after_training(mx.cpu(0), epochs=1)
    assert any(not onp.allclose(initial[n][0], one[n][0]) for n in one)


def test_a_tiny_run_overfits_a_handful_of_pairs(overfit_model):
    net, src_vocab, tgt_vocab, history = overfit_model
    assert history[-1] < 0.05 < history[0]
    for src, tgt in PAIRS:
        translation, _ = predict_s2s(net, src, src_vocab, tgt_vocab, NUM_STEPS, mx.cpu())
        assert translation == tgt


def test_clipped_adam_matches_gluons_adam_after_d2ls_clipping():
    """The fused update computes what gluon.Trainer('adam') does after d2l's grad_clipping."""
    from mxnet import autograd, gluon, init
    from seq2seq_attention.training import ClippedAdam
    X = np.array(onp.random.randint(0, 12, size=(3, 5)), dtype='int32')
    dec_X = np.array(onp.random.randint(0, 9, size=(3, 4)), dtype='int32')
    valid_lens = np.array([5, 2, 3], dtype='int32')
    nets = []
    for _ in range(2):
        set_seed(0)  # parameters of unknown shape are drawn at the first forward pass
        net = build_seq2seq(12, 9, 4, 8, 1)
        net.initialize(init.Xavier())
        net(X, dec_X, valid_lens)
        nets.append(net)
    trainer = gluon.Trainer(nets[0].collect_params(), 'adam', {'learning_rate': 0.01})
    optimizer = None
    for step in range(4):
        for net in nets:
            with autograd.record():
                loss = (net(X, dec_X, valid_lens) ** 2).sum() * (10 if step % 2 else 0.01)
            loss.backward()
        params = [p for p in nets[0].collect_params().values()]
        norm = onp.sqrt(sum((p.grad().asnumpy() ** 2).sum() for p in params))
        for p in params:  # d2l's grad_clipping with theta=1
            p.grad()[:] *= min(1.0, 1 / norm)
        trainer.step(7)
        params = [p for p in nets[1].collect_params().values()]
        optimizer = optimizer or ClippedAdam(params, [mx.cpu()], 0.01, theta=1.0)
        optimizer.step(7.0)
    # (the norms are summed in another order; where a gradient is near 0, Adam's step
    # m / (sqrt(v) + eps) turns that last-bit difference into a few 1e-6 of the lr, 0.01)
    for a, b in zip(nets[0].collect_params().values(), nets[1].collect_params().values()):
        onp.testing.assert_allclose(b.data().asnumpy(), a.data().asnumpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('decoder', ['attention', 'plain'])
def test_trimming_the_padding_changes_no_loss(decoder):
    """Cut batches (train_s2s's default, or bucket=1): the padded batches' losses."""
    from seq2seq_attention import BatchIterator
    histories, shapes = [], []
    for bucket, cut_padding in ((0, False), (0, True), (1, False)):
        set_seed(0)
        data_iter, src_vocab, tgt_vocab = tiny_data()
        data_iter = BatchIterator(data_iter.arrays, 4, bucket=bucket)
        net = build_seq2seq(len(src_vocab), len(tgt_vocab), 8, 16, 2, decoder=decoder)
        histories.append(train_s2s(net, data_iter, 0.01, 5, tgt_vocab, mx.cpu(),
                                   verbose=False, plot=False, cut_padding=cut_padding))
        shapes.append(net.num_steps)  # (source, target) steps of the last batch
    # padded to NUM_STEPS = 8; cut, at most the longest sentence with <eos>
    longest = tuple(int(data_iter.arrays[i].max()) for i in (1, 3))
    assert max(longest) < NUM_STEPS and shapes[0] == (NUM_STEPS, NUM_STEPS)
    assert all(s <= n for shape in shapes[1:] for s, n in zip(shape, longest))
    onp.testing.assert_allclose(histories[1], histories[0], rtol=1e-5)
    onp.testing.assert_allclose(histories[2], histories[0], rtol=1e-5)


def test_graphs_keep_their_memory_only_where_the_batches_take_few_small_shapes(
        monkeypatch):
    """static_alloc=None: True unless there are more shapes than graphs kept,
    or their score arrays would together take more than the budget."""
    from seq2seq_attention import BatchIterator, training
    from seq2seq_attention.models import SequenceBlock
    flags, batch_size = {}, 4
    default_budget = training.STATIC_SCORES_BYTES
    # 'large': the same few shapes as 'few', one byte over the budget
    for name, bucket, static_alloc in (('few', 0, None), ('many', 1, None),
                                       ('asked', 1, True), ('large', 0, None)):
        set_seed(0)
        data_iter, src_vocab, tgt_vocab = tiny_data()
        data_iter = BatchIterator(data_iter.arrays, batch_size, bucket=bucket)
        shapes = data_iter.batch_shapes(True)
        # batch_size x target steps x vocabulary float32 scores per shape
        scores_bytes = sum(batch_size * num_steps * len(tgt_vocab) * 4
                           for _, num_steps in shapes)
        budget = scores_bytes - 1 if name == 'large' else default_budget
        assert name == 'large' or scores_bytes <= budget
        monkeypatch.setattr(training, 'STATIC_SCORES_BYTES', budget)
        net = build_seq2seq(len(src_vocab), len(tgt_vocab), 8, 16, 1)
        train_s2s(net, data_iter, 0.01, 1, tgt_vocab, mx.cpu(), verbose=False,
                  plot=False, static_alloc=static_alloc)
        flags[name] = (len(shapes), dict(net._flags)['static_alloc'])
    # unbucketed: four cut lengths per side at most; bucketed: every length of 1 to 8
    assert flags['few'][0] <= SequenceBlock.max_graphs < flags['many'][0] == 64
    assert flags['few'][1] is True and flags['many'][1] is False
    assert flags['asked'][1] is True  # as asked, whatever the shapes
    assert flags['large'][0] == flags['few'][0] and flags['large'][1] is False
