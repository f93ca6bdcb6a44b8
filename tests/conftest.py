"""Shared fixtures: seeds, the corpus, tiny data, a model that memorised it,
and a fresh interpreter for what must load MXNet under another environment.

Tests marked `slow` (the book, the chapters under nbval, distributed
training, the CPU-bits checks) take minutes; `pytest -m "not slow"` leaves
them out.
"""

import json
import os
import subprocess
import sys
import textwrap

import seq2seq_attention  # noqa: F401  (first: it prepares MXNet)
import mxnet as mx
import pytest

from seq2seq_attention import (
    Seq2SeqConfig,
    Vocab,
    build_data_iter,
    build_seq2seq,
    set_seed,
)
from seq2seq_attention.corpus import CorpusNotFoundError, locate_corpus
from seq2seq_attention.training import train_s2s


def run_python(code, env, drop=()):
    """Run `code` in a fresh interpreter, the variables `drop` removed from
    the environment and `env` added; return its last stdout line as JSON and
    the whole stdout."""
    full_env = {k: v for k, v in os.environ.items() if k not in drop}
    full_env.update(env)
    result = subprocess.run(
        [sys.executable, '-c', textwrap.dedent(code)],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1]), result.stdout


def pytest_collection_modifyitems(items):
    """Mark every chapter that nbval re-executes as slow."""
    for item in items:
        if item.nodeid.endswith('.ipynb') or '.ipynb::' in item.nodeid:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same seeds."""
    set_seed(0)


@pytest.fixture(scope='session')
def corpus_path():
    """Path of a verified fra.txt. In CI a missing corpus is a failure."""
    try:
        return locate_corpus(download=False)
    except CorpusNotFoundError as e:
        if os.environ.get('CI'):
            raise
        pytest.skip(f'corpus not available here: {e}')


PAIRS = [
    ('i am home .', 'je suis chez moi .'),
    ('he is calm .', 'il est calme .'),
    ('i lost .', "j'ai perdu ."),
    ('go .', 'va !'),
    ('we won !', 'nous avons gagné !'),
    ('hi', 'salut'),
    ('she runs .', 'elle court .'),
    ('they swim .', 'ils nagent .'),
]
NUM_STEPS = 8
CPU = mx.cpu()


def tiny_data(pairs=PAIRS, batch_size=4):
    """Data for a handful of pairs, every token in the vocabularies."""
    source = [s.split() for s, _ in pairs]
    target = [t.split() for _, t in pairs]
    src_vocab = Vocab(source, reserved_tokens=['<pad>', '<bos>', '<eos>'])
    tgt_vocab = Vocab(target, reserved_tokens=['<pad>', '<bos>', '<eos>'])
    return build_data_iter(
        source, target, batch_size, NUM_STEPS, src_vocab, tgt_vocab
    )


def tiny_config(src_vocab, tgt_vocab, **kwargs):
    """A small model's configuration for the given vocabularies."""
    options = dict(embed_size=16, num_hiddens=32, num_layers=2)
    options.update(kwargs)
    return Seq2SeqConfig(len(src_vocab), len(tgt_vocab), **options)


@pytest.fixture(scope='session')
def overfit_model():
    """An attention model trained until it memorises the eight pairs."""
    set_seed(0)
    data_iter, src_vocab, tgt_vocab = tiny_data()
    config = tiny_config(src_vocab, tgt_vocab)
    net = build_seq2seq(config)
    history = train_s2s(net, data_iter, 0.01, 150, tgt_vocab, CPU)
    return net, src_vocab, tgt_vocab, history
