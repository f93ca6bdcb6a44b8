"""Shared fixtures: seeds, the corpus (from FRA_ENG_ZIP or the cache), a model that memorised a few pairs."""
import os

import seq2seq_attention  # noqa: F401  (first: it prepares MXNet, see its docstring)
import mxnet as mx
import pytest

from seq2seq_attention import Vocab, build_data_iter, build_seq2seq, set_seed
from seq2seq_attention.training import train_s2s
from seq2seq_attention.data import CorpusNotFoundError, locate_corpus


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same seeds."""
    set_seed(0)


@pytest.fixture(scope='session')
def corpus_path():
    """Path of a verified fra.txt (downloaded if need be). In CI a missing corpus is a failure."""
    try:
        return locate_corpus()
    except CorpusNotFoundError as e:
        if os.environ.get('CI'):
            raise
        pytest.skip(f'corpus not available here: {e}')


PAIRS = [('i am home .', 'je suis chez moi .'), ('he is calm .', 'il est calme .'),
         ('i lost .', "j'ai perdu ."), ('go .', 'va !'), ('we won !', 'nous avons gagné !'),
         ('hi', 'salut'), ('she runs .', 'elle court .'), ('they swim .', 'ils nagent .')]
NUM_STEPS = 8


def tiny_data(pairs=PAIRS, batch_size=4):
    """Data for a handful of pairs, every token kept in the vocabularies (min_freq=1)."""
    source = [s.split() for s, _ in pairs]
    target = [t.split() for _, t in pairs]
    src_vocab = Vocab(source, reserved_tokens=['<pad>', '<bos>', '<eos>'])
    tgt_vocab = Vocab(target, reserved_tokens=['<pad>', '<bos>', '<eos>'])
    return build_data_iter(source, target, batch_size, NUM_STEPS, src_vocab, tgt_vocab)


@pytest.fixture(scope='session')
def overfit_model():
    """An attention model trained until it memorises the eight pairs."""
    set_seed(0)
    data_iter, src_vocab, tgt_vocab = tiny_data()
    net = build_seq2seq(len(src_vocab), len(tgt_vocab), 16, 32, 2)
    history = train_s2s(net, data_iter, 0.01, 150, tgt_vocab, mx.cpu(), verbose=False, plot=False)
    return net, src_vocab, tgt_vocab, history
