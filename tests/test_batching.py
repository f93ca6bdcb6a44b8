"""Mini-batches: shuffled, bucketed, cut, shared by workers; the pipeline."""

import numpy as onp
import pytest
from mxnet import np

from seq2seq_attention import (
    Batches,
    BatchIterator,
    ShardedBatches,
    load_data_nmt,
    set_seed,
)


def test_load_data_nmt_batches(corpus_path):
    data_iter, src_vocab, tgt_vocab = load_data_nmt(batch_size=64, num_steps=10)
    batches = list(data_iter)
    assert len(batches) == len(data_iter) == 10  # 600 pairs in batches of 64
    assert sum(b[0].shape[0] for b in batches) == 600
    X, X_valid_len, Y, Y_valid_len = batches[0]
    assert X.shape == Y.shape == (64, 10) and X_valid_len.shape == (64,)
    # the valid length counts exactly the non-padding tokens
    onp.testing.assert_array_equal(
        (X != src_vocab['<pad>']).asnumpy().sum(axis=1), X_valid_len.asnumpy()
    )
    onp.testing.assert_array_equal(
        (Y != tgt_vocab['<pad>']).asnumpy().sum(axis=1), Y_valid_len.asnumpy()
    )


def test_batches_reshuffle_each_epoch_and_repeat_under_a_seed(corpus_path):
    data_iter, _, _ = load_data_nmt(batch_size=600, num_steps=10)
    set_seed(1)
    first, second = (
        [b[0].asnumpy() for b in data_iter],
        [b[0].asnumpy() for b in data_iter],
    )
    set_seed(1)
    again = [b[0].asnumpy() for b in data_iter]
    assert not onp.array_equal(first[0], second[0])
    assert onp.array_equal(first[0], again[0])
    assert sorted(map(tuple, first[0])) == sorted(
        map(tuple, second[0])
    )  # same examples


def bucket_data(num=50, seed=3):
    """Random token arrays (num, 8) with valid lengths from 1 to 8."""
    rng = onp.random.RandomState(seed)
    src_len, tgt_len = rng.randint(1, 9, size=num), rng.randint(1, 9, size=num)
    X = onp.where(
        onp.arange(8) < src_len[:, None], rng.randint(3, 9, size=(num, 8)), 0
    )
    Y = onp.where(
        onp.arange(8) < tgt_len[:, None], rng.randint(3, 9, size=(num, 8)), 0
    )
    return [np.array(a, dtype='int32') for a in (X, src_len, Y, tgt_len)]


@pytest.mark.parametrize('bucket', [1, 3])
def test_bucketed_batches_cut_only_padding_and_cover_every_example(bucket):
    arrays = bucket_data()
    X_full, Y_full = arrays[0].asnumpy(), arrays[2].asnumpy()
    seen = []
    for X, X_valid_len, Y, Y_valid_len in BatchIterator(
        arrays, 8, bucket=bucket
    ):
        assert X.shape[1] == int(X_valid_len.max()) and Y.shape[1] == int(
            Y_valid_len.max()
        )
        for x, y in zip(X.asnumpy(), Y.asnumpy()):
            # each row is a full row with padding columns cut off
            rows = [
                i
                for i in range(len(X_full))
                if (X_full[i, : len(x)] == x).all()
                and not X_full[i, len(x) :].any()
                and (Y_full[i, : len(y)] == y).all()
                and not Y_full[i, len(y) :].any()
            ]
            assert rows
        seen += X_valid_len.asnumpy().tolist()
    assert sorted(seen) == sorted(arrays[1].asnumpy().tolist())


def test_bucket_one_keeps_the_batches_of_the_unbucketed_iterator():
    arrays = bucket_data()
    set_seed(5)
    plain = [sorted(b[1].asnumpy().tolist()) for b in BatchIterator(arrays, 8)]
    set_seed(5)
    cut = [
        sorted(b[1].asnumpy().tolist())
        for b in BatchIterator(arrays, 8, bucket=1)
    ]
    assert plain == cut
    # wider windows group similar lengths: less padding overall
    set_seed(5)
    widths = [b[0].shape[1] for b in BatchIterator(arrays, 8, bucket=7)]
    assert sum(widths) < sum(
        b[0].shape[1] for b in BatchIterator(arrays, 8, bucket=1)
    )


def test_cut_batches_are_the_same_batches_without_their_padding_columns():
    """`batches(cut=True)` (what train_s2s trains on): same examples, same
    draws."""
    arrays = bucket_data()
    cut_batches = {}
    for bucket in (False, 2):
        set_seed(5)
        full = list(BatchIterator(arrays, 8, bucket=bucket).batches(cut=False))
        set_seed(5)
        cut = list(BatchIterator(arrays, 8, bucket=bucket).batches(cut=True))
        set_seed(5)
        assert [
            b[1].asnumpy().tolist()
            for b in BatchIterator(arrays, 8, bucket=bucket)
        ] == [b[1].asnumpy().tolist() for b in cut]
        assert len(full) == len(cut) == 7
        widths = []
        for f, c in zip(full, cut):
            for lens in (1, 3):  # the same examples in the same order
                onp.testing.assert_array_equal(
                    c[lens].asnumpy(), f[lens].asnumpy()
                )
            for tokens, lens in ((0, 1), (2, 3)):
                width, longest = c[tokens].shape[1], int(f[lens].max())
                if bucket:  # cut to the longest sentence (length_step 1)
                    assert width == longest
                else:
                    # the first of 8, 6, 4, 2 (the data's longest: 8)
                    # that holds it
                    assert width in (2, 4, 6, 8) and 0 <= width - longest < 2
                onp.testing.assert_array_equal(
                    c[tokens].asnumpy(), f[tokens].asnumpy()[:, :width]
                )
                assert (
                    not f[tokens].asnumpy()[:, width:].any()
                )  # only padding went
                widths.append(width)
        assert min(widths) < 8  # something was cut
        cut_batches[bucket] = cut
    # each worker gets its share of the cut batch
    set_seed(5)
    shares = list(
        ShardedBatches(BatchIterator(arrays, 8), 1, 2).batches(cut=True)
    )
    assert [s[0].shape for s in shares] == [
        (len(c[0]) // 2, c[0].shape[1]) for c in cut_batches[False]
    ]
    with pytest.raises(
        ValueError, match=r'cut=True needs arrays \(X, X_valid_len'
    ):
        list(BatchIterator(arrays[:2], 8).batches(cut=True))


@pytest.mark.parametrize('bucket, length_step', [(False, 1), (2, 1), (2, 3)])
def test_batch_shapes_lists_every_shape_the_batches_take(bucket, length_step):
    """`batch_shapes(cut)`: what train_s2s reads to choose static_alloc."""
    arrays = bucket_data()
    data_iter = BatchIterator(arrays, 8, bucket=bucket, length_step=length_step)
    for cut, batches in (
        (True, data_iter.batches),
        (False, data_iter.batches),
        (None, lambda cut: iter(data_iter)),
    ):
        listed = data_iter.batch_shapes(cut)
        assert len(set(listed)) == len(listed)
        seen = {
            (b[0].shape[1], b[2].shape[1])
            for _ in range(20)
            for b in batches(cut)
        }
        assert seen <= set(listed), (cut, seen - set(listed))
        if cut is False or (cut is None and not bucket):  # nothing cut
            assert listed == [(8, 8)]
        else:
            assert len(seen) > 1  # (the data's lengths vary)
    # bucketed in steps of 1, any length of 1 to 8 per side;
    # else four per side at most
    assert len(data_iter.batch_shapes(True)) == (
        64 if bucket and length_step == 1 else 9 if bucket else 16
    )
    assert ShardedBatches(data_iter, 0, 2).batch_shapes(
        True
    ) == data_iter.batch_shapes(True)
    with pytest.raises(
        ValueError, match=r'batch_shapes needs arrays \(X, X_valid_len'
    ):
        BatchIterator(arrays[:2], 8).batch_shapes()


def test_length_step_bounds_the_batch_shapes():
    arrays = bucket_data()
    shapes = {
        (b[0].shape[1], b[2].shape[1])
        for _ in range(3)
        for b in BatchIterator(arrays, 8, bucket=2, length_step=3)
    }
    assert shapes <= {(a, b) for a in (3, 6, 8) for b in (3, 6, 8)}
    for X, X_valid_len, Y, Y_valid_len in BatchIterator(
        arrays, 8, bucket=2, length_step=3
    ):
        assert X.shape[1] >= int(X_valid_len.max()) and Y.shape[1] >= int(
            Y_valid_len.max()
        )


def test_both_iterators_follow_the_protocol_the_trainer_relies_on():
    arrays = bucket_data()
    data_iter = BatchIterator(arrays, 8)
    shares = ShardedBatches(data_iter, 1, 2)
    for batches in (data_iter, shares):
        assert isinstance(batches, Batches)
        assert batches.arrays == data_iter.arrays
        assert len(batches) == len(batches.batch_sizes()) == 7
    # 50 examples: six batches of 8 and one of 2, each shared by two workers
    assert data_iter.batch_sizes() == [8] * 6 + [2]
    assert shares.batch_sizes() == [4] * 6 + [1]
    assert [len(b[0]) for b in shares] == shares.batch_sizes()
    with pytest.raises(ValueError, match='cannot be shared by 3 workers'):
        ShardedBatches(data_iter, 1, 3)
    with pytest.raises(TypeError, match='Batches protocol'):
        ShardedBatches([arrays], 0, 2)


def test_uneven_shards_are_cut_as_numpy_array_split():
    X = np.arange(5 * 2, dtype='int32').reshape(5, 2)
    data = BatchIterator((X,), 5, shuffle=False)
    shares = [
        next(iter(ShardedBatches(data, r, 4)))[0].asnumpy() for r in range(4)
    ]
    assert [len(s) for s in shares] == [2, 1, 1, 1]
    for share, expected in zip(shares, onp.array_split(X.asnumpy(), 4)):
        onp.testing.assert_array_equal(share, expected)
    assert ShardedBatches(data, 0, 4).batch_sizes() == [2]
