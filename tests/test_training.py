"""Training: the masked loss, data parallelism, overfitting a few pairs."""

import mxnet as mx
import numpy as onp
import pytest
from mxnet import autograd, np

from conftest import CPU, NUM_STEPS, PAIRS, tiny_config, tiny_data
from seq2seq_attention import (
    BatchIterator,
    Seq2SeqConfig,
    build_seq2seq,
    set_seed,
)
from seq2seq_attention.decoding import beam_search, predict_s2s
from seq2seq_attention.loss import MaskedSoftmaxCELoss
from seq2seq_attention.training import (
    History,
    evaluate_loss,
    initialize,
    train_s2s,
)


def test_masked_loss_sums_the_valid_tokens_and_ignores_padding():
    loss = MaskedSoftmaxCELoss()
    pred = np.random.normal(size=(3, 4, 10))
    label = np.array(onp.random.randint(0, 10, size=(3, 4)), dtype='int32')
    valid_len = np.array([4, 2, 0], dtype='int32')
    losses = loss(pred, label, valid_len).asnumpy()
    # changing predictions and labels at padded positions changes nothing
    pred_other, label_other = pred.copy(), label.copy()
    pred_other[1, 2:] = 100
    label_other[1, 2:] = 3
    pred_other[2] = -7
    onp.testing.assert_allclose(
        loss(pred_other, label_other, valid_len).asnumpy(), losses
    )
    assert losses[2] == 0
    # a sequence's loss is the sum of its valid tokens' cross-entropies
    logp = pred.asnumpy() - onp.log(
        onp.exp(pred.asnumpy()).sum(-1, keepdims=True)
    )
    tokens = label.asnumpy()
    for i, n in enumerate([4, 2]):
        expected = -logp[i, range(n), tokens[i, :n]].sum()
        onp.testing.assert_allclose(losses[i], expected, rtol=1e-5)


def test_train_returns_the_history_and_prints_nothing(capsys):
    data_iter, src_vocab, tgt_vocab = tiny_data()
    net = build_seq2seq(
        tiny_config(
            src_vocab, tgt_vocab, embed_size=8, num_hiddens=8, num_layers=1
        )
    )
    seen = []
    history = train_s2s(
        net,
        data_iter,
        0.01,
        3,
        tgt_vocab,
        CPU,
        progress=lambda epoch, loss: seen.append((epoch, loss)),
    )
    assert isinstance(history, History) and len(history) == 3
    assert seen == list(zip([1, 2, 3], history))
    # every valid target token counts, every epoch
    assert history.tokens == [float(data_iter.arrays[3].sum())] * 3
    assert all(s > 0 for s in history.seconds) and history.tokens_per_sec > 0
    assert capsys.readouterr() == ('', '')
    # the last epoch's loss is what evaluating at its start would roughly give
    assert evaluate_loss(net, data_iter, tgt_vocab, CPU) < history[0]


def params_after_training(ctx, epochs=3):
    """Every parameter's values on each context after a short training."""
    set_seed(0)
    data_iter, src_vocab, tgt_vocab = tiny_data(batch_size=8)
    net = build_seq2seq(
        tiny_config(src_vocab, tgt_vocab, embed_size=8, num_hiddens=16)
    )
    history = train_s2s(net, data_iter, 0.01, epochs, tgt_vocab, ctx)
    return [
        [d.asnumpy() for d in p.list_data()]
        for p in net.collect_params().values()
    ], history


def test_two_contexts_give_the_same_parameters_as_one():
    one, history_one = params_after_training(mx.cpu(0))
    two, history_two = params_after_training([mx.cpu(0), mx.cpu(1)])
    onp.testing.assert_allclose(history_two, history_one, rtol=1e-5)
    for i, (a, b) in enumerate(zip(one, two)):
        assert len(b) == 2
        # both contexts hold the same copy, equal to the one-context result
        onp.testing.assert_array_equal(b[0], b[1])
        onp.testing.assert_allclose(
            b[0], a[0], rtol=1e-4, atol=1e-5, err_msg=str(i)
        )
    # and training did move the parameters away from their initial values
    initial, _ = params_after_training(mx.cpu(0), epochs=1)
    assert any(not onp.allclose(p[0], q[0]) for p, q in zip(initial, one))


def test_a_tiny_run_overfits_a_handful_of_pairs(overfit_model):
    net, src_vocab, tgt_vocab, history = overfit_model
    assert history[-1] < 0.05 < history[0]
    for src, tgt in PAIRS:
        translation, _ = predict_s2s(
            net, src, src_vocab, tgt_vocab, NUM_STEPS, CPU
        )
        assert translation == tgt


@pytest.mark.parametrize('decoder', ['attention', 'plain'])
def test_cutting_the_padding_changes_no_loss(decoder):
    """Cut batches (the default, or bucket=1): the padded batches' losses."""
    histories, shapes = [], []
    for bucket, cut_padding in ((0, False), (0, True), (1, False)):
        set_seed(0)
        data_iter, src_vocab, tgt_vocab = tiny_data()
        data_iter = BatchIterator(data_iter.arrays, 4, bucket=bucket)
        net = build_seq2seq(
            tiny_config(
                src_vocab,
                tgt_vocab,
                embed_size=8,
                num_hiddens=16,
                decoder=decoder,
            )
        )
        histories.append(
            train_s2s(
                net, data_iter, 0.01, 5, tgt_vocab, CPU, cut_padding=cut_padding
            )
        )
        # (source, target) steps of the graphs training built
        shapes.append(list(net.graphs.graphs))
    # padded to NUM_STEPS = 8; cut, at most the longest sentence with <eos>
    longest = tuple(int(data_iter.arrays[i].max()) for i in (1, 3))
    assert max(longest) < NUM_STEPS
    assert shapes[0] == [(1, 1), (NUM_STEPS, NUM_STEPS)]  # shape inference
    assert all(
        s <= n
        for graphs in shapes[1:]
        for shape in graphs
        for s, n in zip(shape, longest)
    )
    onp.testing.assert_allclose(histories[1], histories[0], rtol=1e-5)
    onp.testing.assert_allclose(histories[2], histories[0], rtol=1e-5)


def test_training_continues_from_the_parameters_it_has():
    """reinit=False keeps the values (moved to the contexts asked for)."""
    data_iter, src_vocab, tgt_vocab = tiny_data()
    net = build_seq2seq(tiny_config(src_vocab, tgt_vocab, num_layers=1))
    train_s2s(net, data_iter, 0.01, 20, tgt_vocab, CPU)
    before = evaluate_loss(net, data_iter, tgt_vocab, CPU)
    initialize(net, [mx.cpu(0), mx.cpu(1)], reinit=False)
    # the same values (up to float32 rounding: other arrays, other graphs)
    assert evaluate_loss(net, data_iter, tgt_vocab, CPU) == pytest.approx(
        before, rel=1e-6
    )
    initialize(net, [CPU], reinit=True)
    assert evaluate_loss(net, data_iter, tgt_vocab, CPU) > before


def test_numpy_integers_are_integers():
    set_seed(onp.int64(3))
    data_iter, src_vocab, tgt_vocab = tiny_data(batch_size=onp.int64(4))
    net = build_seq2seq(
        Seq2SeqConfig(
            onp.int64(len(src_vocab)), len(tgt_vocab), onp.int32(4), 8, 1
        )
    )
    history = train_s2s(
        net, data_iter, onp.float32(0.01), onp.int64(1), tgt_vocab, mx.cpu()
    )
    assert len(history) == 1
    translation, _ = beam_search(
        net,
        'go .',
        src_vocab,
        tgt_vocab,
        onp.int64(NUM_STEPS),
        mx.cpu(),
        beam_size=onp.int64(2),
    )
    assert isinstance(translation, str)


@pytest.mark.parametrize('decoder', ['attention', 'plain'])
def test_dropout_acts_in_training_only_compiled_or_not(decoder):
    data_iter, src_vocab, tgt_vocab = tiny_data()
    net = build_seq2seq(
        tiny_config(
            src_vocab,
            tgt_vocab,
            embed_size=8,
            num_hiddens=16,
            dropout=0.5,
            decoder=decoder,
        )
    )
    net.initialize(mx.init.Xavier())
    X, X_valid_len, Y, _ = next(
        iter(BatchIterator(data_iter.arrays, 8, shuffle=False))
    )

    def run(train):
        with autograd.record(train_mode=train):
            return net(X, Y, X_valid_len).asnumpy()

    inference = run(False)
    onp.testing.assert_array_equal(
        run(False), inference
    )  # no randomness in inference
    training = [run(True), run(True)]
    assert not onp.allclose(
        training[0], training[1]
    )  # dropout draws anew each call
    assert not onp.allclose(training[0], inference)
    net.hybridize()
    onp.testing.assert_allclose(run(False), inference, rtol=1e-5, atol=1e-6)
    assert not onp.allclose(run(True), inference)


def test_evaluate_loss_is_the_mean_cross_entropy_per_valid_token():
    data_iter, src_vocab, tgt_vocab = tiny_data()
    net = build_seq2seq(
        tiny_config(
            src_vocab, tgt_vocab, embed_size=4, num_hiddens=8, num_layers=1
        )
    )
    net.initialize(mx.init.Xavier())
    total, tokens = 0.0, 0
    for X, X_valid_len, Y, Y_valid_len in data_iter:
        bos = np.full((Y.shape[0], 1), tgt_vocab['<bos>'], dtype='int32')
        scores = net(
            X, np.concatenate([bos, Y[:, :-1]], axis=1), X_valid_len
        ).asnumpy()
        scores = scores - scores.max(axis=-1, keepdims=True)
        log_probs = scores - onp.log(
            onp.exp(scores).sum(axis=-1, keepdims=True)
        )
        for i, length in enumerate(Y_valid_len.asnumpy().tolist()):
            for t in range(int(length)):
                total -= float(log_probs[i, t, int(Y[i, t])])
                tokens += 1
    assert evaluate_loss(net, data_iter, tgt_vocab, mx.cpu()) == pytest.approx(
        total / tokens, rel=1e-5
    )
