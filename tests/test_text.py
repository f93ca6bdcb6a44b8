"""From text to arrays: preprocessing, tokens, vocabularies, splits."""

import numpy as onp
import pytest
from d2l import mxnet as d2l

from seq2seq_attention.text import (
    Vocab,
    build_array_nmt,
    build_vocab,
    preprocess_nmt,
    split_pairs,
    tokenize_nmt,
)


def test_preprocess_matches_d2l(corpus_path):
    text = corpus_path.read_text(encoding='utf-8')[:200_000]
    assert preprocess_nmt(text) == d2l.preprocess_nmt(text)


def test_preprocess_examples():
    assert preprocess_nmt('Go.\tVa\u202f!') == 'go .\tva !'
    assert preprocess_nmt('Hi,Tom!') == 'hi ,tom !'
    assert (
        preprocess_nmt('.Start') == '.start'
    )  # no space is put before the first character


def test_tokenize_takes_exactly_num_examples_pairs():
    text = 'a .\tb .\n\nc\td e\nf\tg\n'
    assert tokenize_nmt(text, 2) == (
        [['a', '.'], ['c']],
        [['b', '.'], ['d', 'e']],
    )
    assert len(tokenize_nmt(text)[0]) == 3


def test_tokenize_splits_lines_at_newlines_only_and_interns_each_token():
    # a '\r' or a Unicode line separator stays inside its line
    # (then splits tokens)
    text = 'hi\rtom .\tsalut\u2028tom\r\ntom .\tsalut\n'
    source, target = tokenize_nmt(text)
    assert source == [['hi', 'tom', '.'], ['tom', '.']]
    assert target == [['salut', 'tom'], ['salut']]
    # one string object per distinct token (of both languages)
    assert source[0][1] is source[1][0] is target[0][1]
    assert target[0][0] is target[1][0]


def test_vocab_reserves_tokens_and_keeps_frequent_ones(corpus_path):
    source, _ = tokenize_nmt(
        preprocess_nmt(corpus_path.read_text(encoding='utf-8')), 600
    )
    vocab = build_vocab(source)
    counts = d2l.collections.Counter(t for line in source for t in line)
    for token in ['<pad>', '<bos>', '<eos>', '<unk>']:
        assert token in vocab.token_to_idx
    kept = set(vocab.idx_to_token) - {'<pad>', '<bos>', '<eos>', '<unk>'}
    assert kept == {t for t, c in counts.items() if c >= 2}


def test_to_tokens_maps_one_index_or_any_sequence_of_them():
    vocab = Vocab([['a', 'b', 'a', 'b']], reserved_tokens=['<pad>'])
    index = vocab['a']
    assert vocab.to_tokens([index]) == ['a']  # (d2l's raises TypeError here)
    assert vocab.to_tokens(index) == 'a'
    assert vocab.to_tokens(onp.array([index, vocab['b']])) == ['a', 'b']


def test_vocab_rebuilt_from_its_tokens_maps_the_same():
    vocab = build_vocab([['x', 'y', 'x', 'y', 'z']])
    again = Vocab.from_idx_to_token(vocab.idx_to_token)
    assert again.token_to_idx == vocab.token_to_idx and again['z'] == again.unk
    with pytest.raises(ValueError):
        Vocab.from_idx_to_token(['a', 'a', '<unk>'])


def test_build_array_appends_eos_pads_and_truncates():
    vocab = build_vocab([['a', 'b', 'c'] * 2])
    array, valid_len = build_array_nmt([['a'], ['a', 'b', 'c', 'a']], vocab, 3)
    pad, eos = vocab['<pad>'], vocab['<eos>']
    assert array.asnumpy().tolist() == [
        [vocab['a'], eos, pad],
        [vocab['a'], vocab['b'], vocab['c']],
    ]
    assert valid_len.asnumpy().tolist() == [2, 3]


def test_split_pairs_never_share_a_source_sentence(corpus_path):
    source, target = tokenize_nmt(
        preprocess_nmt(corpus_path.read_text(encoding='utf-8')), 5000
    )
    train, test = split_pairs(source, target, 3000, 500, seed=0)
    assert len(train) == 3000 and len(test) == 500
    train_sources = {' '.join(s) for s, _ in train}
    assert not any(' '.join(s) in train_sources for s, _ in test)
    assert split_pairs(source, target, 3000, 500, seed=0) == (train, test)
    with pytest.raises(ValueError, match='held-out'):
        split_pairs(source, target, 3000, 4000)
    with pytest.raises(
        ValueError, match=r'num_train must be an int in \[0, 5000\]'
    ):
        split_pairs(source, target, 6000, 0)
