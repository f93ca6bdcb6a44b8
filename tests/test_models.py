"""Encoder and decoders: the chapter's shape check, padding invariance, bad input."""
import numpy as onp
import pytest
from mxnet import autograd, init, np

from seq2seq_attention import (EncoderDecoder, Seq2SeqAttentionDecoder, Seq2SeqDecoder,
                               Seq2SeqEncoder, build_seq2seq)


def test_the_chapters_shape_check():
    encoder = Seq2SeqEncoder(vocab_size=10, embed_size=8, num_hiddens=16, num_layers=2)
    encoder.initialize()
    decoder = Seq2SeqAttentionDecoder(vocab_size=10, embed_size=8, num_hiddens=16, num_layers=2)
    decoder.initialize()
    X = np.zeros((4, 7))  # (batch_size, num_steps)
    state = decoder.init_state(encoder(X), None)
    output, state = decoder(X, state)
    shapes = (output.shape, len(state), state[0].shape, len(state[1]), state[1][0].shape)
    assert shapes == ((4, 7, 10), 3, (4, 7, 16), 2, (2, 4, 16))
    assert decoder.attention_weights.shape == (4, 7, 7)


def test_plain_decoder_shapes():
    encoder, decoder = Seq2SeqEncoder(10, 8, 16, 2), Seq2SeqDecoder(10, 8, 16, 2)
    encoder.initialize()
    decoder.initialize()
    X = np.zeros((4, 7))
    output, state = decoder(X, decoder.init_state(encoder(X)))
    assert output.shape == (4, 7, 10) and state[0].shape == (1, 4, 16) and state[1][0].shape == (2, 4, 16)


def outputs_and_grads_of(net, X, dec_X, valid_lens):
    """Decoder scores and every parameter's gradient for a sum-of-squares loss."""
    with autograd.record():
        Y_hat = net(X, dec_X, valid_lens)
        loss = (Y_hat ** 2).sum()
    loss.backward()
    return Y_hat.asnumpy(), {name: p.grad().asnumpy().copy()
                             for name, p in net._collect_params_with_prefix().items()}


@pytest.fixture(params=[('attention', 'mlp'), ('attention', 'dot'), ('plain', 'mlp')],
                ids=lambda kind: '-'.join(kind))
def small_net(request):
    """A small initialised model of each kind: (decoder, attention)."""
    decoder, attention = request.param
    net = build_seq2seq(20, 15, embed_size=8, num_hiddens=16, num_layers=2,
                        decoder=decoder, attention=attention)
    net.initialize(init.Xavier())
    return net


def test_padding_tokens_change_neither_outputs_nor_gradients(small_net):
    net = small_net
    valid_lens = np.array([3, 6, 1], dtype='int32')
    X = onp.random.randint(3, 20, size=(3, 6))
    X_other = X.copy()
    for row, n in enumerate(valid_lens.asnumpy()):
        X_other[row, n:] = onp.random.randint(3, 20, size=6 - n)  # other tokens in the padding
    assert (X_other != X).any()
    dec_X = np.array(onp.random.randint(0, 15, size=(3, 5)), dtype='int32')

    Y_hat, grads = outputs_and_grads_of(net, np.array(X, dtype='int32'), dec_X, valid_lens)
    Y_hat_other, grads_other = outputs_and_grads_of(net, np.array(X_other, dtype='int32'),
                                                    dec_X, valid_lens)
    onp.testing.assert_array_equal(Y_hat, Y_hat_other)
    for name in grads:
        onp.testing.assert_array_equal(grads[name], grads_other[name], err_msg=name)


def test_padding_does_matter_without_valid_lens():
    """The invariance above is the encoder's doing: without valid lengths padding leaks in."""
    encoder = Seq2SeqEncoder(20, 8, 16, 2)
    encoder.initialize()
    X = np.array([[5, 6, 0, 0]], dtype='int32')
    X_other = np.array([[5, 6, 9, 9]], dtype='int32')
    _, state = encoder(X)
    _, state_other = encoder(X_other)
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


def test_unknown_model_kinds_are_named():
    with pytest.raises(ValueError, match="'lstm'"):
        build_seq2seq(5, 5, 4, 4, 1, decoder='lstm')
    with pytest.raises(ValueError, match="'cosine'"):
        build_seq2seq(5, 5, 4, 4, 1, attention='cosine')
    assert isinstance(build_seq2seq(5, 5, 4, 4, 1), EncoderDecoder)


def test_hybridized_model_computes_what_the_imperative_one_does(small_net):
    net = small_net
    inputs = [(np.array(onp.random.randint(0, 20, size=(3, n)), dtype='int32'),
               np.array(onp.random.randint(0, 15, size=(3, m)), dtype='int32'),
               np.array(onp.random.randint(1, n + 1, size=3), dtype='int32'))
              for n, m in [(6, 5), (4, 1), (6, 5)]]  # change lengths, then come back
    imperative = [outputs_and_grads_of(net, *i) for i in inputs]
    net.hybridize(static_alloc=True, static_shape=True)
    for (Y_hat, grads), i in zip(imperative, inputs):
        Y_hat_h, grads_h = outputs_and_grads_of(net, *i)
        onp.testing.assert_allclose(Y_hat_h, Y_hat, rtol=1e-5, atol=1e-6)
        for name in grads:
            onp.testing.assert_allclose(grads_h[name], grads[name], rtol=1e-4, atol=1e-6,
                                        err_msg=name)
    # one compiled graph per (source length, target length): (6, 5) in use, (4, 1) kept
    assert net.num_steps == (6, 5) and set(net._graphs) == {(4, 1)}


def test_at_most_max_graphs_compiled_graphs_are_kept_the_most_recent(small_net, monkeypatch):
    net = small_net
    monkeypatch.setattr(type(net), 'max_graphs', 3)
    net.hybridize(static_alloc=True, static_shape=True)
    lengths = [(6, 5), (4, 1), (5, 2), (3, 3), (4, 1), (6, 5)]
    inputs = {(n, m): (np.array(onp.random.randint(0, 20, size=(3, n)), dtype='int32'),
                       np.array(onp.random.randint(0, 15, size=(3, m)), dtype='int32'),
                       np.array(onp.random.randint(1, n + 1, size=3), dtype='int32'))
              for n, m in set(lengths)}
    first = {}
    for shape in lengths:
        Y_hat = net(*inputs[shape]).asnumpy()
        first.setdefault(shape, Y_hat)
        assert len(net._graphs) + 1 <= 3  # the graph in use and those kept
        onp.testing.assert_array_equal(Y_hat, first[shape])  # rebuilt graphs compute the same
    # (6, 5) in use; kept, most recent last: (3, 3) and (4, 1); (5, 2) was dropped
    assert net.num_steps == (6, 5) and list(net._graphs) == [(3, 3), (4, 1)]


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


def test_a_padded_batch_matches_each_sentence_run_alone():
    """Outputs, final states and gradients on a padded batch equal those of every sentence
    encoded on its own without padding (so the masking is right, not merely consistent)."""
    encoder = Seq2SeqEncoder(20, 8, 16, 2)
    encoder.initialize(init.Xavier())
    valid_lens = [3, 6, 1]
    X = onp.random.randint(3, 20, size=(3, 6))
    weights = onp.random.normal(size=(6, 3, 16))  # a random linear loss on the outputs

    def run(tokens, lens, w):
        with autograd.record():
            outputs, (h, c) = encoder(np.array(tokens, dtype='int32'),
                                      np.array(lens, dtype='int32'))
            loss = (outputs * np.array(w)).sum() + (h * c).sum()
        loss.backward()
        grads = {n: p.grad().asnumpy().copy()
                 for n, p in encoder._collect_params_with_prefix().items()}
        return outputs.asnumpy(), h.asnumpy(), c.asnumpy(), grads

    for hybridize in (False, True):
        if hybridize:
            encoder.hybridize(static_alloc=True, static_shape=True)
        outputs, h, c, grads = run(X, valid_lens, weights)
        total = {n: 0 for n in grads}
        for i, n in enumerate(valid_lens):
            o_i, h_i, c_i, g_i = run(X[i:i + 1, :n], [n], weights[:n, i:i + 1])
            onp.testing.assert_allclose(outputs[:n, i:i + 1], o_i, rtol=1e-5, atol=1e-6)
            assert (outputs[n:, i] == 0).all()
            onp.testing.assert_allclose(h[:, i:i + 1], h_i, rtol=1e-5, atol=1e-6)
            onp.testing.assert_allclose(c[:, i:i + 1], c_i, rtol=1e-5, atol=1e-6)
            total = {name: total[name] + g_i[name] for name in total}
        for name in grads:
            onp.testing.assert_allclose(grads[name], total[name], rtol=1e-4, atol=1e-5,
                                        err_msg=f'{name} (hybridized={hybridize})')


def test_stacked_lstm_computes_what_gluons_lstm_does():
    """The LSTM used where dropout acts between layers is Gluon's LSTM, layer by layer."""
    from mxnet.gluon import rnn
    from seq2seq_attention.models import StackedLSTM
    reference, stacked = rnn.LSTM(8, 2), StackedLSTM(8, 2, dropout=0.0)
    reference.initialize(init.Xavier())
    stacked.initialize()
    X = np.random.uniform(size=(5, 3, 4))  # (num_steps, batch_size, input_size)
    state = [np.random.uniform(size=(2, 3, 8)) for _ in range(2)]
    reference(X, state)
    stacked(X, state)  # infer the shapes, then copy the weights layer by layer
    ours = stacked._collect_params_with_prefix()
    for name, p in reference._collect_params_with_prefix().items():
        _, layer, rest = name.split('.')  # _unfused.1.i2h_weight: layer 1's i2h_weight
        ours[f'layers.{layer}._unfused.0.{rest}'].set_data(p.data())
    expected, (h, c) = reference(X, state)
    got, (h2, c2) = stacked(X, state)
    for a, b in ((expected, got), (h, h2), (c, c2)):
        onp.testing.assert_allclose(a.asnumpy(), b.asnumpy(), rtol=1e-5, atol=1e-6)


def test_embeddings_start_from_a_standard_normal_the_rest_from_xavier():
    """`make_embedding`'s own N(0, 1) wins over the Xavier that `initialize` is given."""
    from mxnet import random as mx_random
    mx_random.seed(0)
    net = build_seq2seq(200, 300, 32, 16, 2)
    net.initialize(init.Xavier())
    net(np.zeros((2, 3), dtype='int32'), np.zeros((2, 3), dtype='int32'))
    params = net._collect_params_with_prefix()
    embeddings = [name for name in params if name.endswith('embedding.weight')]
    assert embeddings == ['encoder.embedding.weight', 'decoder.embedding.weight']
    for name in embeddings:
        weight = params[name].data().asnumpy()
        assert abs(weight.mean()) < 0.05 and 0.95 < weight.std() < 1.05, name
    # Xavier (uniform, magnitude 3) keeps the dense layer within sqrt(6 / (fan_in + fan_out))
    dense = params['decoder.dense.weight'].data().asnumpy()
    assert 0 < abs(dense).max() <= (6 / sum(dense.shape)) ** 0.5
