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
    assert output.shape == (4, 7, 10) and state[0].shape == (4, 16) and state[1][0].shape == (2, 4, 16)


@pytest.mark.parametrize('decoder, attention',
                         [('attention', 'mlp'), ('attention', 'dot'), ('plain', 'mlp')])
def test_padding_tokens_change_neither_outputs_nor_gradients(decoder, attention):
    net = build_seq2seq(20, 15, embed_size=8, num_hiddens=16, num_layers=2,
                        decoder=decoder, attention=attention)
    net.initialize(init.Xavier())
    valid_lens = np.array([3, 6, 1], dtype='int32')
    X = onp.random.randint(3, 20, size=(3, 6))
    X_other = X.copy()
    for row, n in enumerate(valid_lens.asnumpy()):
        X_other[row, n:] = onp.random.randint(3, 20, size=6 - n)  # other tokens in the padding
    assert (X_other != X).any()
    dec_X = np.array(onp.random.randint(0, 15, size=(3, 5)), dtype='int32')

    def outputs_and_grads(tokens):
        with autograd.record():
            Y_hat, _ = net(np.array(tokens, dtype='int32'), dec_X, valid_lens)
            loss = (Y_hat ** 2).sum()
        loss.backward()
        grads = {name: p.grad().asnumpy().copy() for name, p in net.collect_params().items()}
        return Y_hat.asnumpy(), grads

    Y_hat, grads = outputs_and_grads(X)
    Y_hat_other, grads_other = outputs_and_grads(X_other)
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
