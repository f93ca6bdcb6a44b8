"""Real sentences for experiments: frequent-word pairs, sets by length.

The corpus's sentences run from one word to dozens, over tens of thousands of
words. Chapters 5 to 7 train in minutes on a CPU, so they keep the pairs
made only of each language's commonest words (`frequent_word_pairs`), and
judge on held-out sets with as many short as long sentences
(`by_length`): long sentences are rare, and a random sample would hold few.
Chapter 7 makes long inputs of real language by joining pairs end to end
(`joined_pairs`).
"""
import collections

import numpy as onp

from .checks import check_int, check_same_length


def most_common(sentences, num_words):
    """The `num_words` most frequent tokens of a list of token lists."""
    counts = collections.Counter(t for s in sentences for t in s)
    return {t for t, _ in counts.most_common(num_words)}


def frequent_word_pairs(source, target, num_words, max_len):
    """The pairs made only of their language's `num_words` commonest words.

    Both sides have at most `max_len` tokens (punctuation included).
    """
    check_same_length('source', source, 'target', target)
    num_words = check_int('num_words', num_words, low=1)
    max_len = check_int('max_len', max_len, low=1)
    top_src = most_common(source, num_words)
    top_tgt = most_common(target, num_words)
    return [(s, t) for s, t in zip(source, target)
            if set(s) <= top_src and set(t) <= top_tgt
            and len(s) <= max_len and len(t) <= max_len]


def bucket_of(tokens, buckets):
    """Index of the `(lowest, highest)` length bucket holding `tokens`."""
    for i, (lo, hi) in enumerate(buckets):
        if lo <= len(tokens) <= hi:
            return i
    raise ValueError(f'a sentence of {len(tokens)} tokens is in none of the '
                     f'buckets {buckets}')


def by_length(pairs, buckets, per_bucket, exclude=()):
    """`per_bucket` pairs of each source-length bucket, in order of `pairs`.

    Pairs whose source sentence is in `exclude` (token lists) are skipped, so
    that a validation set can be disjoint from a test set. Raises unless every
    bucket has `per_bucket` pairs.
    """
    per_bucket = check_int('per_bucket', per_bucket, low=1)
    excluded = {tuple(s) for s in exclude}
    chosen = [[] for _ in buckets]
    for src, tgt in pairs:
        b = next((i for i, (lo, hi) in enumerate(buckets)
                  if lo <= len(src) <= hi), None)  # None: in no bucket
        if (b is not None and tuple(src) not in excluded
                and len(chosen[b]) < per_bucket):
            chosen[b].append((src, tgt))
    short = [f'{lo}-{hi}: {len(c)}' for (lo, hi), c in zip(buckets, chosen)
             if len(c) < per_bucket]
    if short:
        raise ValueError(f'{per_bucket} pairs per bucket asked for, but the '
                         f'buckets hold only {", ".join(short)}')
    return [pair for bucket in chosen for pair in bucket]


def joined_pairs(pairs, num_joins, max_parts=4, min_parts=1, seed=0):
    """`num_joins` pairs, each made of `min_parts` to `max_parts` of `pairs`.

    Each join draws its number of parts uniformly, then that many distinct
    pairs; their sources are joined end to end, and their targets in the same
    order: long inputs of real words in real word order, with a known
    translation. Joins of held-out pairs hold no training sentence.
    """
    num_joins = check_int('num_joins', num_joins, low=1)
    min_parts = check_int('min_parts', min_parts, low=1)
    max_parts = check_int('max_parts', max_parts, low=min_parts)
    if len(pairs) < max_parts:
        raise ValueError(f'joins of up to {max_parts} parts need as many '
                         f'distinct pairs, got {len(pairs)}')
    rng = onp.random.RandomState(seed)
    joined = []
    for _ in range(num_joins):
        num_parts = rng.randint(min_parts, max_parts + 1)
        parts = rng.choice(len(pairs), num_parts, replace=False)
        joined.append(([token for i in parts for token in pairs[i][0]],
                       [token for i in parts for token in pairs[i][1]]))
    return joined
