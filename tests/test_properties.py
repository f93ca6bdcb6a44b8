"""Property-based tests (hypothesis): the data pipeline and the
masking, for any lengths.

Padding must change nothing: whatever token fills the padded positions, and
however long the padding, masked attention and the encoder give what the
unpadded computation gives.
"""

# first: it prepares MXNet, see its docstring
import seq2seq_attention  # noqa: F401
import numpy as onp
from hypothesis import given, settings
from hypothesis import strategies as st
from mxnet import np

from seq2seq_attention import (
    BatchIterator,
    ShardedBatches,
    Seq2SeqEncoder,
    Vocab,
    build_array_nmt,
    masked_softmax,
    set_seed,
)

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)
WORDS = st.sampled_from(['a', 'b', 'c', 'd', 'unseen'])
SENTENCES = st.lists(
    st.lists(WORDS, min_size=0, max_size=12), min_size=1, max_size=20
)
VOCAB = Vocab(
    [['a', 'b', 'c', 'd']], reserved_tokens=['<pad>', '<bos>', '<eos>']
)


@SETTINGS
@given(SENTENCES, st.integers(1, 15))
def test_build_array_keeps_each_sentence_then_eos_then_padding(
    sentences, num_steps
):
    array, valid_len = build_array_nmt(sentences, VOCAB, num_steps)
    array, valid_len = array.asnumpy(), valid_len.asnumpy()
    assert array.shape == (len(sentences), num_steps)
    for row, length, sentence in zip(array, valid_len, sentences):
        expected = (VOCAB[sentence] + [VOCAB['<eos>']])[:num_steps]
        assert length == len(
            expected
        )  # <pad> never appears among the valid tokens
        assert row[:length].tolist() == expected
        assert (row[length:] == VOCAB['<pad>']).all()


@SETTINGS
@given(
    st.integers(1, 40),
    st.integers(1, 9),
    st.sampled_from([False, 1, 3]),
    st.integers(1, 4),
    st.booleans(),
    st.integers(0, 2**16),
)
def test_every_epoch_yields_every_example_once_with_its_valid_tokens(
    num_examples, batch_size, bucket, length_step, shuffle, seed
):
    set_seed(seed)
    rng = onp.random.RandomState(seed)
    num_steps = 6
    lengths = rng.randint(1, num_steps + 1, size=(num_examples, 2))
    ids = (
        onp.arange(num_examples)[:, None] * 10 + 3
    )  # example i's tokens: 10 i + 3
    X = onp.where(onp.arange(num_steps) < lengths[:, :1], ids, 0)
    Y = onp.where(onp.arange(num_steps) < lengths[:, 1:], ids, 0)
    arrays = (
        np.array(X, dtype='int32'),
        np.array(lengths[:, 0], dtype='int32'),
        np.array(Y, dtype='int32'),
        np.array(lengths[:, 1], dtype='int32'),
    )
    data = BatchIterator(
        arrays,
        batch_size,
        shuffle=shuffle,
        bucket=bucket,
        length_step=length_step,
    )
    seen, sizes = [], []
    for X_b, X_len, Y_b, Y_len in data:
        X_b, X_len, Y_b, Y_len = (a.asnumpy() for a in (X_b, X_len, Y_b, Y_len))
        sizes.append(len(X_b))
        # no valid token was cut away with the padding
        assert X_b.shape[1] >= X_len.max() and Y_b.shape[1] >= Y_len.max()
        for x, n, y, m in zip(X_b, X_len, Y_b, Y_len):
            example = (x[0] - 3) // 10
            seen.append(example)
            assert n == lengths[example, 0] and m == lengths[example, 1]
            assert (x[:n] == x[0]).all() and (y[:m] == x[0]).all()
    assert sorted(seen) == list(range(num_examples))
    assert sorted(sizes) == sorted(data.batch_sizes())


@SETTINGS
@given(st.integers(1, 30), st.integers(1, 6))
def test_shards_cover_each_batch_once_and_differ_by_at_most_one(n, num_parts):
    if n < num_parts:
        return  # refused (tests/test_bad_input.py)
    X = np.arange(n, dtype='int32').reshape(n, 1)
    data = BatchIterator((X,), n, shuffle=False)
    shares = [
        next(iter(ShardedBatches(data, r, num_parts)))[0]
        .asnumpy()[:, 0]
        .tolist()
        for r in range(num_parts)
    ]
    assert sum(shares, []) == list(range(n))
    assert max(map(len, shares)) - min(map(len, shares)) <= 1


@SETTINGS
@given(
    st.integers(1, 4),
    st.integers(1, 3),
    st.integers(1, 7),
    st.integers(0, 2**16),
    st.booleans(),
)
def test_masked_softmax_equals_the_softmax_of_the_unpadded_scores(
    batch_size, num_queries, num_keys, seed, per_query
):
    rng = onp.random.RandomState(seed)
    scores = rng.normal(
        scale=3, size=(batch_size, num_queries, num_keys)
    ).astype('float32')
    shape = (batch_size, num_queries) if per_query else (batch_size,)
    valid_lens = rng.randint(1, num_keys + 1, size=shape)
    # what fills the padded positions must not matter: any values, huge ones too
    padded = scores.copy()
    lens = (
        valid_lens
        if per_query
        else onp.repeat(valid_lens[:, None], num_queries, 1)
    )
    for b in range(batch_size):
        for q in range(num_queries):
            padded[b, q, lens[b, q] :] = rng.choice([1e30, -1e30, 0, 7.5])
    weights = masked_softmax(np.array(padded), np.array(valid_lens)).asnumpy()
    for b in range(batch_size):
        for q in range(num_queries):
            valid = scores[b, q, : lens[b, q]]
            expected = onp.exp(valid - valid.max())
            onp.testing.assert_allclose(
                weights[b, q, : lens[b, q]],
                expected / expected.sum(),
                rtol=1e-5,
                atol=1e-7,
            )
            assert (weights[b, q, lens[b, q] :] == 0).all()


ENCODER = Seq2SeqEncoder(
    vocab_size=10, embed_size=4, num_hiddens=6, num_layers=2
)
ENCODER.initialize()


@SETTINGS
@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=4),
    st.integers(0, 3),
    st.integers(0, 2**16),
)
def test_the_encoder_ignores_padding_whatever_its_tokens(lengths, extra, seed):
    rng = onp.random.RandomState(seed)
    num_steps = max(lengths) + extra
    X = rng.randint(
        0, 10, size=(len(lengths), num_steps)
    )  # padding: any tokens at all
    outputs, (h, c) = ENCODER(
        np.array(X, dtype='int32'), np.array(lengths, dtype='int32')
    )
    for i, n in enumerate(lengths):
        alone, (h1, c1) = ENCODER(np.array(X[i : i + 1, :n], dtype='int32'))
        onp.testing.assert_allclose(
            outputs[:n, i].asnumpy(),
            alone[:, 0].asnumpy(),
            rtol=1e-5,
            atol=1e-6,
        )
        assert (outputs[n:, i].asnumpy() == 0).all()
        onp.testing.assert_allclose(
            h[:, i].asnumpy(), h1[:, 0].asnumpy(), rtol=1e-5, atol=1e-6
        )
        onp.testing.assert_allclose(
            c[:, i].asnumpy(), c1[:, 0].asnumpy(), rtol=1e-5, atol=1e-6
        )
