"""Real sentences for experiments: frequent-word pairs, sets by length."""

import collections

import pytest

from seq2seq_attention.subsets import (
    bucket_of,
    by_length,
    frequent_word_pairs,
    joined_pairs,
    most_common,
)


def test_most_common_counts_tokens_over_all_sentences():
    sentences = [['a', 'b'], ['a', 'c'], ['a', 'b', '.']]
    assert most_common(sentences, 2) == {'a', 'b'}


def test_frequent_word_pairs_keeps_common_words_and_short_sentences():
    source = [['a', 'b'], ['a', 'x'], ['a', 'b', 'a', 'b'], ['b']]
    target = [['c'], ['c'], ['c', 'd'], ['y']]
    # the two commonest: source a (4), b (4); target c (3), then d (seen
    # before y); so 'x' and 'y' are rare, and the third pair is too long
    pairs = frequent_word_pairs(source, target, num_words=2, max_len=3)
    assert pairs == [(['a', 'b'], ['c'])]
    assert len(frequent_word_pairs(source, target, 2, max_len=4)) == 2


def test_frequent_word_pairs_rejects_bad_arguments():
    with pytest.raises(ValueError, match='source'):
        frequent_word_pairs([['a']], [], 10, 5)
    with pytest.raises(ValueError, match='max_len'):
        frequent_word_pairs([['a']], [['b']], 10, 0)


def test_bucket_of_names_the_sentence_outside_every_bucket():
    buckets = [(1, 2), (3, 5)]
    assert bucket_of(['a'] * 2, buckets) == 0
    assert bucket_of(['a'] * 5, buckets) == 1
    with pytest.raises(ValueError, match='6 tokens'):
        bucket_of(['a'] * 6, buckets)


def test_by_length_takes_equally_many_per_bucket_in_order():
    pairs = [
        ([str(i)] * n, [str(i)]) for i, n in enumerate([1, 3, 2, 4, 9, 1, 5])
    ]
    chosen = by_length(pairs, [(1, 2), (3, 5)], per_bucket=2)
    # the first two of lengths 1-2, then the first two of lengths 3-5; the
    # 9-token pair lies in no bucket and is skipped
    assert [len(s) for s, _ in chosen] == [1, 2, 3, 4]
    assert [t for _, t in chosen] == [['0'], ['2'], ['1'], ['3']]


def test_by_length_skips_excluded_sources_for_a_disjoint_set():
    pairs = [(['a'], ['x']), (['b'], ['y']), (['c'], ['z'])]
    test = by_length(pairs, [(1, 1)], per_bucket=1)
    valid = by_length(pairs, [(1, 1)], 2, exclude=[s for s, _ in test])
    assert test == [(['a'], ['x'])]
    assert valid == [(['b'], ['y']), (['c'], ['z'])]


def test_by_length_says_which_bucket_is_short():
    pairs = [(['a'], ['x']), (['a', 'b', 'c'], ['y'])]
    with pytest.raises(ValueError, match='3-5: 1'):
        by_length(pairs, [(1, 2), (3, 5)], per_bucket=1 + 1)


PAIRS = [([f's{i}', '.'], [f't{i}', 'x', '.']) for i in range(10)]


def test_joined_pairs_join_whole_pairs_in_the_same_order_both_sides():
    joined = joined_pairs(PAIRS, 300, max_parts=4, seed=3)
    assert len(joined) == 300
    counts = collections.Counter()
    for src, tgt in joined:
        parts = src[0::2]  # s3 . s7 . -> s3, s7
        assert src == [t for p in parts for t in (p, '.')]
        assert tgt == [t for p in parts for t in ('t' + p[1:], 'x', '.')]
        assert len(set(parts)) == len(parts)  # distinct pairs
        counts[len(parts)] += 1
    assert sorted(counts) == [1, 2, 3, 4]  # every number of parts occurs
    assert min(counts.values()) > 50  # drawn uniformly: about 75 each
    assert joined_pairs(PAIRS, 300, 4, seed=3) == joined  # seeded
    assert joined_pairs(PAIRS, 300, 4, seed=4) != joined
    three = joined_pairs(PAIRS, 20, max_parts=3, min_parts=3)
    assert {len(src) for src, _ in three} == {6}  # 3 parts of 2 tokens


def test_joined_pairs_rejects_bad_arguments():
    with pytest.raises(ValueError, match='num_joins'):
        joined_pairs(PAIRS, 0)
    with pytest.raises(ValueError, match='need as many distinct pairs, got 3'):
        joined_pairs(PAIRS[:3], 5, max_parts=4)
    with pytest.raises(ValueError, match='max_parts'):
        joined_pairs(PAIRS, 5, max_parts=2, min_parts=3)
