"""Attention: masked softmax and both scoring functions against direct NumPy."""

import numpy as onp
import pytest
from mxnet import np

from seq2seq_attention import DotProductAttention, MLPAttention, masked_softmax


def numpy_softmax(scores, valid_lens):
    """Reference masked softmax: exp over the valid keys, normalised; 0
    elsewhere."""
    out = onp.zeros_like(scores)
    for b in range(scores.shape[0]):
        for q in range(scores.shape[1]):
            n = int(valid_lens[b] if valid_lens.ndim == 1 else valid_lens[b, q])
            e = onp.exp(scores[b, q, :n] - scores[b, q, :n].max())
            out[b, q, :n] = e / e.sum()
    return out


@pytest.mark.parametrize(
    'valid_lens', [onp.array([2, 3]), onp.array([[1, 3], [2, 4], [4, 1]])[:2]]
)
def test_masked_softmax_zeroes_padding_and_rows_sum_to_one(valid_lens):
    X = onp.random.uniform(size=(2, 2, 4)).astype('float32')
    weights = masked_softmax(np.array(X), np.array(valid_lens)).asnumpy()
    expected = numpy_softmax(X, valid_lens)
    onp.testing.assert_allclose(weights, expected, rtol=1e-5, atol=1e-7)
    assert (weights[expected == 0] == 0).all()  # exactly zero, not just small
    onp.testing.assert_allclose(weights.sum(axis=-1), 1, rtol=1e-6)


def test_masked_softmax_without_valid_lens_is_a_plain_softmax():
    X = onp.random.uniform(size=(2, 3, 4)).astype('float32')
    full = onp.full(2, 4)
    onp.testing.assert_allclose(
        masked_softmax(np.array(X), None).asnumpy(),
        numpy_softmax(X, full),
        rtol=1e-5,
    )


@pytest.mark.parametrize(
    'valid_lens, message',
    [
        (onp.array([1, 2, 3]), 'shape'),  # wrong batch size
        (onp.array([[1, 2, 3]]), 'shape'),  # wrong 2-D shape
        (
            onp.array([0, 2]),
            r'\[1, 4\]',
        ),  # a sequence with nothing to attend to
        (onp.array([2, 5]), r'\[1, 4\]'),  # longer than the number of keys
    ],
)
def test_masked_softmax_rejects_bad_valid_lens(valid_lens, message):
    with pytest.raises(ValueError, match=message):
        masked_softmax(np.random.uniform(size=(2, 2, 4)), np.array(valid_lens))


def test_masked_softmax_rejects_non_3d_scores():
    with pytest.raises(ValueError, match='3-D'):
        masked_softmax(np.ones((2, 4)), np.array([1, 2]))


def toy_inputs():
    queries = onp.random.normal(size=(2, 1, 20)).astype('float32')
    keys = onp.random.normal(size=(2, 10, 2)).astype('float32')
    values = onp.tile(
        onp.arange(40, dtype='float32').reshape(1, 10, 4), (2, 1, 1)
    )
    return queries, keys, values, onp.array([2, 6])


def test_mlp_attention_matches_its_formula():
    queries, keys, values, valid_lens = toy_inputs()
    attention = MLPAttention(num_hiddens=8)
    attention.initialize()
    out = attention(
        np.array(queries),
        np.array(keys),
        np.array(values),
        np.array(valid_lens),
    )
    W_q = attention.W_q.weight.data().asnumpy()
    W_k = attention.W_k.weight.data().asnumpy()
    w_v = attention.w_v.weight.data().asnumpy()
    # score(q, k) = w_v^T tanh(W_q q + W_k k)
    features = onp.tanh(
        (queries @ W_q.T)[:, :, None, :] + (keys @ W_k.T)[:, None, :, :]
    )
    weights = numpy_softmax((features @ w_v.T)[..., 0], valid_lens)
    onp.testing.assert_allclose(
        attention.attention_weights.asnumpy(), weights, rtol=1e-4, atol=1e-6
    )
    onp.testing.assert_allclose(
        out.asnumpy(), weights @ values, rtol=1e-4, atol=1e-4
    )


def test_dot_product_attention_matches_its_formula():
    _, keys, values, valid_lens = toy_inputs()
    queries = onp.random.normal(size=(2, 3, 2)).astype('float32')
    attention = DotProductAttention()
    attention.initialize()
    out = attention(
        np.array(queries),
        np.array(keys),
        np.array(values),
        np.array(valid_lens),
    )
    weights = numpy_softmax(
        queries @ keys.transpose(0, 2, 1) / onp.sqrt(2), valid_lens
    )
    onp.testing.assert_allclose(
        attention.attention_weights.asnumpy(), weights, rtol=1e-5, atol=1e-7
    )
    onp.testing.assert_allclose(
        out.asnumpy(), weights @ values, rtol=1e-5, atol=1e-4
    )


def test_dot_product_attention_rejects_mismatched_sizes():
    attention = DotProductAttention()
    with pytest.raises(ValueError, match='same size'):
        attention(np.ones((2, 1, 3)), np.ones((2, 4, 2)), np.ones((2, 4, 2)))
