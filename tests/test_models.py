"""Encoder and decoders: shapes, padding invariance, configs, bad input."""

import numpy as onp
import pytest
from mxnet import autograd, init, np
from mxnet.gluon import rnn

from seq2seq_attention import (
    DECODERS,
    BidirectionalEncoder,
    EncoderDecoder,
    Seq2SeqAttentionDecoder,
    Seq2SeqConfig,
    Seq2SeqDecoder,
    Seq2SeqEncoder,
    build_seq2seq,
)
from seq2seq_attention.models import StackedLSTM


def test_the_chapters_shape_check():
    encoder = Seq2SeqEncoder(
        vocab_size=10, embed_size=8, num_hiddens=16, num_layers=2
    )
    encoder.initialize()
    decoder = Seq2SeqAttentionDecoder(
        vocab_size=10, embed_size=8, num_hiddens=16, num_layers=2
    )
    decoder.initialize()
    X = np.zeros((4, 7))  # (batch_size, num_steps)
    state = decoder.init_state(encoder(X), None)
    output, state = decoder(X, state)
    shapes = (
        output.shape,
        len(state),
        state[0].shape,
        len(state[1]),
        state[1][0].shape,
    )
    assert shapes == ((4, 7, 10), 3, (4, 7, 16), 2, (2, 4, 16))
    assert decoder.attention_weights.shape == (4, 7, 7)


def test_plain_decoder_shapes():
    encoder, decoder = (
        Seq2SeqEncoder(10, 8, 16, 2),
        Seq2SeqDecoder(10, 8, 16, 2),
    )
    encoder.initialize()
    decoder.initialize()
    X = np.zeros((4, 7))
    output, state = decoder(X, decoder.init_state(encoder(X)))
    assert output.shape == (4, 7, 10)
    assert state[0].shape == (1, 4, 16) and state[1][0].shape == (2, 4, 16)


def outputs_and_grads_of(net, X, dec_X, valid_lens):
    """Decoder scores and every parameter's gradient for a squares loss."""
    with autograd.record():
        Y_hat = net(X, dec_X, valid_lens)
        loss = (Y_hat**2).sum()
    loss.backward()
    return Y_hat.asnumpy(), {
        name: p.grad().asnumpy().copy()
        for name, p in net.collect_params().items()
    }


@pytest.fixture(
    params=[
        ('attention', 'mlp', False),
        ('attention', 'dot', False),
        ('plain', 'mlp', False),
        ('attention', 'mlp', True),
        ('plain', 'mlp', True),
    ],
    ids=lambda kind: '-'.join(kind[:2]) + ('-bidirectional' * kind[2]),
)
def small_net(request):
    """A small initialised model of each kind: decoder, attention, encoder."""
    decoder, attention, bidirectional = request.param
    net = build_seq2seq(
        Seq2SeqConfig(
            20,
            15,
            embed_size=8,
            num_hiddens=16,
            num_layers=2,
            decoder=decoder,
            attention=attention,
            bidirectional=bidirectional,
        )
    )
    net.initialize(init.Xavier())
    return net


def random_batch(num_steps, num_dec_steps, batch_size=3):
    """Source ids, target ids, valid lengths for `small_net`'s vocabularies."""
    return (
        np.array(
            onp.random.randint(0, 20, size=(batch_size, num_steps)),
            dtype='int32',
        ),
        np.array(
            onp.random.randint(0, 15, size=(batch_size, num_dec_steps)),
            dtype='int32',
        ),
        np.array(
            onp.random.randint(1, num_steps + 1, size=batch_size), dtype='int32'
        ),
    )


def test_padding_tokens_change_neither_outputs_nor_gradients(small_net):
    net = small_net
    valid_lens = np.array([3, 6, 1], dtype='int32')
    X = onp.random.randint(3, 20, size=(3, 6))
    X_other = X.copy()
    for row, n in enumerate(valid_lens.asnumpy()):
        # other tokens in the padding
        X_other[row, n:] = onp.random.randint(3, 20, size=6 - n)
    assert (X_other != X).any()
    dec_X = np.array(onp.random.randint(0, 15, size=(3, 5)), dtype='int32')

    Y_hat, grads = outputs_and_grads_of(
        net, np.array(X, dtype='int32'), dec_X, valid_lens
    )
    Y_hat_other, grads_other = outputs_and_grads_of(
        net, np.array(X_other, dtype='int32'), dec_X, valid_lens
    )
    onp.testing.assert_array_equal(Y_hat, Y_hat_other)
    for name in grads:
        onp.testing.assert_array_equal(
            grads[name], grads_other[name], err_msg=name
        )


def test_padding_does_matter_without_valid_lens():
    """The invariance is the encoder's doing: without lengths padding leaks."""
    encoder = Seq2SeqEncoder(20, 8, 16, 2)
    encoder.initialize()
    _, state = encoder(np.array([[5, 6, 0, 0]], dtype='int32'))
    _, state_other = encoder(np.array([[5, 6, 9, 9]], dtype='int32'))
    assert not onp.allclose(state[0].asnumpy(), state_other[0].asnumpy())


def test_encoder_rejects_bad_input():
    encoder = Seq2SeqEncoder(20, 8, 16, 2)
    encoder.initialize()
    with pytest.raises(ValueError, match='batch_size, num_steps'):
        encoder(np.zeros((4,)))
    with pytest.raises(ValueError, match='shape'):
        encoder(np.zeros((2, 4)), np.array([1, 2, 3]))
    with pytest.raises(ValueError, match=r'\[1, 4\]'):
        encoder(np.zeros((2, 4)), np.array([1, 5]))


def test_a_config_names_what_it_refuses_and_builds_its_decoder():
    with pytest.raises(ValueError, match="'lstm'"):
        Seq2SeqConfig(5, 5, decoder='lstm')
    with pytest.raises(ValueError, match="'cosine'"):
        Seq2SeqConfig(5, 5, attention='cosine')
    with pytest.raises(ValueError, match='num_layers must be an int >= 1'):
        Seq2SeqConfig(5, 5, num_layers=0)
    with pytest.raises(ValueError, match="attention='dot' needs keys"):
        Seq2SeqConfig(5, 5, attention='dot', bidirectional=True)
    with pytest.raises(TypeError, match='bidirectional must be a bool'):
        Seq2SeqConfig(5, 5, bidirectional='yes')
    net = build_seq2seq(Seq2SeqConfig(5, 7, bidirectional=True))
    assert type(net.encoder) is BidirectionalEncoder
    with pytest.raises(TypeError, match='config must be a Seq2SeqConfig'):
        build_seq2seq(5)
    assert Seq2SeqConfig(onp.int64(5), 5).src_vocab_size.__class__ is int
    for name, kind in DECODERS.items():
        net = build_seq2seq(Seq2SeqConfig(5, 7, decoder=name))
        assert isinstance(net, EncoderDecoder)
        assert type(net.decoder) is kind and net.decoder.vocab_size == 7


def test_a_bidirectional_encoder_joins_both_directions_at_each_word():
    """Position j: the forward LSTM after word j, and the backward LSTM after
    reading the sentence from its last word back to word j; the decoder's
    state: both final states through the bridges."""
    encoder = BidirectionalEncoder(20, 8, 16, 1)
    encoder.initialize(init.Xavier())
    X = np.array(onp.random.randint(3, 20, size=(2, 5)), dtype='int32')
    valid_lens = np.array([5, 3], dtype='int32')
    outputs, (h, c) = encoder(X, valid_lens)
    assert outputs.shape == (5, 2, 32) and h.shape == c.shape == (1, 2, 16)
    for i, n in enumerate([5, 3]):
        # (n, 1, embed_size): the sentence alone, and read backwards
        x = np.swapaxes(encoder.embedding(X[i : i + 1, :n]), 0, 1)
        zeros = [np.zeros((1, 1, 16)), np.zeros((1, 1, 16))]
        forward, (h_f, c_f) = encoder.rnn(x, zeros)
        backward, (h_b, c_b) = encoder.rnn_backward(x[::-1], zeros)
        close = dict(rtol=1e-5, atol=1e-6)
        onp.testing.assert_allclose(
            outputs[:n, i, :16].asnumpy(), forward[:, 0].asnumpy(), **close
        )
        onp.testing.assert_allclose(  # put back in the sentence's order
            outputs[:n, i, 16:].asnumpy(),
            backward[::-1, 0].asnumpy(),
            **close,
        )
        assert (outputs[n:, i] == 0).all()
        expected = encoder.bridge_h(np.concatenate([h_f, h_b], axis=2))
        onp.testing.assert_allclose(
            h[:, i : i + 1].asnumpy(), expected.asnumpy(), **close
        )
        expected = encoder.bridge_c(np.concatenate([c_f, c_b], axis=2))
        onp.testing.assert_allclose(
            c[:, i : i + 1].asnumpy(), expected.asnumpy(), **close
        )


def test_a_registered_decoder_is_built_by_its_name(monkeypatch):
    """A new decoder is a class and a line in DECODERS."""

    class Echo(Seq2SeqDecoder):
        """The plain decoder under another name."""

    monkeypatch.setitem(DECODERS, 'echo', Echo)
    net = build_seq2seq(Seq2SeqConfig(5, 7, decoder='echo'))
    assert type(net.decoder) is Echo


def test_vocabularies_that_do_not_fit_the_model_are_named():
    net = build_seq2seq(Seq2SeqConfig(5, 7))
    with pytest.raises(
        ValueError,
        match='src_vocab holds 6 tokens, but the '
        "model's Seq2SeqEncoder embeds 5",
    ):
        net.check_vocabularies(src_vocab=range(6))
    net.check_vocabularies(range(5), range(7))


def test_hybridized_model_computes_what_the_imperative_one_does(small_net):
    net = small_net
    # change lengths, then come back
    inputs = [random_batch(n, m) for n, m in [(6, 5), (4, 1), (6, 5)]]
    imperative = [outputs_and_grads_of(net, *i) for i in inputs]
    net.hybridize(static_alloc=True, static_shape=True)
    for (Y_hat, grads), i in zip(imperative, inputs):
        Y_hat_h, grads_h = outputs_and_grads_of(net, *i)
        onp.testing.assert_allclose(Y_hat_h, Y_hat, rtol=1e-5, atol=1e-6)
        for name in grads:
            onp.testing.assert_allclose(
                grads_h[name], grads[name], rtol=1e-4, atol=1e-6, err_msg=name
            )
    # one compiled graph per (source length, target length)
    assert len(net.graphs) == 2 and (6, 5) in net.graphs
    net.hybridize(False)  # imperative again: no graph is kept
    Y_hat, _ = outputs_and_grads_of(net, *inputs[0])
    assert len(net.graphs) == 0
    onp.testing.assert_allclose(Y_hat, imperative[0][0], rtol=1e-5, atol=1e-6)


def test_attention_weights_are_readable_after_a_hybridized_decoder_call():
    encoder = Seq2SeqEncoder(10, 8, 16, 2)
    decoder = Seq2SeqAttentionDecoder(10, 8, 16, 2)
    for block in (encoder, decoder):
        block.initialize()
        block.hybridize(static_alloc=True, static_shape=True)
    X, valid_lens = np.zeros((4, 7)), np.array([7, 3, 1, 5])
    decoder(X[:, :2], decoder.init_state(encoder(X, valid_lens), valid_lens))
    weights = decoder.attention_weights.asnumpy()
    assert weights.shape == (4, 2, 7)
    assert (weights[1, :, 3:] == 0).all() and (weights[2, :, 1:] == 0).all()
    onp.testing.assert_allclose(weights.sum(axis=-1), 1, rtol=1e-5)


@pytest.mark.parametrize('kind', [Seq2SeqEncoder, BidirectionalEncoder])
def test_a_padded_batch_matches_each_sentence_run_alone(kind):
    """Outputs, final states and gradients on a padded batch equal those of
    every sentence encoded alone without padding (the masking is right, not
    merely consistent)."""
    encoder = kind(20, 8, 16, 2)
    encoder.initialize(init.Xavier())
    valid_lens = [3, 6, 1]
    X = onp.random.randint(3, 20, size=(3, 6))
    size = 32 if kind is BidirectionalEncoder else 16  # an annotation's
    weights = onp.random.normal(size=(6, 3, size))  # a random linear loss

    def run(tokens, lens, w):
        with autograd.record():
            outputs, (h, c) = encoder(
                np.array(tokens, dtype='int32'), np.array(lens, dtype='int32')
            )
            loss = (outputs * np.array(w)).sum() + (h * c).sum()
        loss.backward()
        grads = {
            n: p.grad().asnumpy().copy()
            for n, p in encoder.collect_params().items()
        }
        return outputs.asnumpy(), h.asnumpy(), c.asnumpy(), grads

    for hybridize in (False, True):
        if hybridize:
            encoder.hybridize(static_alloc=True, static_shape=True)
        outputs, h, c, grads = run(X, valid_lens, weights)
        total = {n: 0 for n in grads}
        for i, n in enumerate(valid_lens):
            o_i, h_i, c_i, g_i = run(
                X[i : i + 1, :n], [n], weights[:n, i : i + 1]
            )
            close = dict(rtol=1e-5, atol=1e-6)
            onp.testing.assert_allclose(outputs[:n, i : i + 1], o_i, **close)
            assert (outputs[n:, i] == 0).all()
            onp.testing.assert_allclose(h[:, i : i + 1], h_i, **close)
            onp.testing.assert_allclose(c[:, i : i + 1], c_i, **close)
            total = {name: total[name] + g_i[name] for name in total}
        for name in grads:
            onp.testing.assert_allclose(
                grads[name],
                total[name],
                rtol=1e-4,
                atol=1e-5,
                err_msg=f'{name} (hybridized={hybridize})',
            )


def test_stacked_lstm_computes_what_gluons_lstm_does():
    """Where dropout acts between layers: Gluon's LSTM, layer by layer."""
    reference, stacked = rnn.LSTM(8, 2), StackedLSTM(8, 2, dropout=0.0)
    reference.initialize(init.Xavier())
    stacked.initialize()
    X = np.random.uniform(size=(5, 3, 4))  # (num_steps, batch_size, input)
    state = [np.random.uniform(size=(2, 3, 8)) for _ in range(2)]
    reference(X, state)
    stacked(X, state)  # infer the shapes, then copy the weights layer by layer
    for name, p in reference.collect_params().items():
        layer, rest = name[len(reference.prefix) :].split('_', 1)  # l1, i2h_...
        ours = stacked.layers[int(layer[1:])].collect_params()
        [target] = [q for n, q in ours.items() if n.endswith(f'l0_{rest}')]
        target.set_data(p.data())
    expected, (h, c) = reference(X, state)
    got, (h2, c2) = stacked(X, state)
    for a, b in ((expected, got), (h, h2), (c, c2)):
        onp.testing.assert_allclose(
            a.asnumpy(), b.asnumpy(), rtol=1e-5, atol=1e-6
        )


def test_embeddings_start_from_a_standard_normal_the_rest_from_xavier():
    """`make_embedding`'s own N(0, 1) wins over the Xavier `initialize` has."""
    net = build_seq2seq(Seq2SeqConfig(200, 300, 32, 16, 2))
    net.initialize(init.Xavier())
    net(np.zeros((2, 3), dtype='int32'), np.zeros((2, 3), dtype='int32'))
    for block in (net.encoder, net.decoder):
        weight = block.embedding.weight.data().asnumpy()
        assert abs(weight.mean()) < 0.05 and 0.95 < weight.std() < 1.05
    # Xavier (uniform, magnitude 3): within sqrt(6 / (fan_in + fan_out))
    dense = net.decoder.dense.weight.data().asnumpy()
    assert 0 < abs(dense).max() <= (6 / sum(dense.shape)) ** 0.5
