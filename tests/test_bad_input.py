"""Bad input at each public edge: a clear error, not a crash or a silent answer.

Each case is a line of code, the exception it must raise and words its message
must hold. Cases whose input could reach MXNet's native code (where a bad value
can kill the process: a NaN length, an empty batch, zero time steps) run
together in one subprocess, one after the other, so that a crash fails the case
it happened in (and names it) without taking pytest down. The command line's
errors are in tests/test_cli.py.
"""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import seq2seq_attention  # noqa: F401  (first: it prepares MXNet)
import pytest

HERE = Path(__file__).resolve().parent

# What every case can use: `net` (an initialized attention model that fits
# `src_vocab` and `tgt_vocab`), `plain` (the same with the plain decoder),
# `data_iter` (tiny_data's, batch 4)
PRELUDE = '''
import seq2seq_attention
import mxnet as mx
import numpy as onp
from mxnet import np
from conftest import NUM_STEPS, PAIRS, tiny_data
from seq2seq_attention import *
from seq2seq_attention.checkpoint import *
from seq2seq_attention.decoding import *
from seq2seq_attention.metrics import *
from seq2seq_attention.training import train_s2s, evaluate_loss
set_seed(0)
data_iter, src_vocab, tgt_vocab = tiny_data()
net = build_seq2seq(Seq2SeqConfig(len(src_vocab), len(tgt_vocab), 4, 8, 1))
net.initialize()
plain = build_seq2seq(Seq2SeqConfig(len(src_vocab), len(tgt_vocab), 4, 8, 1,
                                    decoder='plain'))
plain.initialize()
X = np.array([[4, 5, 2, 0]], dtype='int32')
CPU = mx.cpu()
tgt_vocab_6 = Vocab.from_idx_to_token(tgt_vocab.idx_to_token[:6])\
  # <unk> is the 6th
'''

# (id, code, exception, words of the message, runs in the subprocess)
CASES = [
    # attention and masking
    (
        'masked_softmax, NaN valid length',
        "masked_softmax(np.ones((2, 2, 4)), np.array([2., float('nan')]))",
        ValueError,
        'valid_lens must hold whole numbers in [1, 4], it holds nan',
        True,
    ),
    (
        'masked_softmax, fractional valid length',
        'masked_softmax(np.ones((2, 2, 4)), np.array([2.5, 3.]))',
        ValueError,
        'valid_lens must hold whole numbers, it holds 2.5',
        True,
    ),
    (
        'masked_softmax, valid length 0',
        'masked_softmax(np.ones((2, 2, 4)), np.array([0, 3]))',
        ValueError,
        'valid_lens must lie in [1, 4], got values from 0 to 3',
        True,
    ),
    (
        'masked_softmax, valid length beyond the keys',
        'masked_softmax(np.ones((2, 2, 4)), np.array([2, 5]))',
        ValueError,
        'valid_lens must lie in [1, 4], got values from 2 to 5',
        True,
    ),
    (
        'masked_softmax, 2-D scores',
        'masked_softmax(np.ones((2, 4)), np.array([2, 3]))',
        ValueError,
        'X must be 3-D',
        False,
    ),
    (
        'attention, valid lengths as a list',
        'a = DotProductAttention(); a.initialize(); '
        'a(np.ones((2, 1, 3)), np.ones((2, 4, 3)), np.ones((2, 4, 3)), [2, 3])',
        TypeError,
        'valid_lens must be an array, got list',
        False,
    ),
    (
        'attention, valid lengths of the wrong shape',
        'a = DotProductAttention(); a.initialize(); '
        'a(np.ones((2, 1, 3)), np.ones((2, 4, 3)), np.ones((2, 4, 3)), '
        'np.array([2, 3, 4]))',
        ValueError,
        'valid_lens has shape (3,), expected (2,) or (2, 1)',
        False,
    ),
    # models on arrays
    (
        'token id beyond the vocabulary',
        'net(np.array([[4, 500]], dtype="int32"), '
        'np.array([[1, 4]], dtype="int32"))',
        ValueError,
        'enc_X (indices into 21 tokens) must lie in [0, 20], '
        'got values from 4 to 500',
        True,
    ),
    (
        'negative token id',
        'net.encoder(np.array([[-5, 4]], dtype="int32"))',
        ValueError,
        'X (indices into 21 tokens) must lie in [0, 20], '
        'got values from -5 to 4',
        True,
    ),
    (
        'fractional token id',
        'net.encoder(np.array([[4.5, 4]]))',
        ValueError,
        'X (indices into 21 tokens) must hold whole numbers, it holds 4.5',
        True,
    ),
    (
        'fractional encoder valid length',
        'net.encoder(X, np.array([2.5]))',
        ValueError,
        'valid_lens must hold whole numbers, it holds 2.5',
        True,
    ),
    (
        'encoder valid length 0',
        'net(X, X, np.array([0]))',
        ValueError,
        'valid_lens must lie in [1, 4], got values from 0 to 0',
        True,
    ),
    (
        'zero time steps',
        'net(np.zeros((1, 0), dtype="int32"), X)',
        ValueError,
        'enc_X must hold at least one example of at least one step',
        True,
    ),
    (
        'tokens of one axis',
        'net.encoder(np.array([4, 5]))',
        ValueError,
        'X must be token indices of shape (batch_size, num_steps), got (2,)',
        False,
    ),
    (
        'hyperparameter as a string',
        "Seq2SeqConfig(12, 12, 4, '8', 1)",
        TypeError,
        "num_hiddens must be an int, got '8' (str)",
        False,
    ),
    (
        'no layers',
        'Seq2SeqConfig(12, 12, 4, 8, 0)',
        ValueError,
        'num_layers must be an int >= 1, got 0',
        False,
    ),
    (
        'dropout 1.5',
        'Seq2SeqConfig(12, 12, 4, 8, 1, dropout=1.5)',
        ValueError,
        'dropout must be a finite number in [0, 1), got 1.5',
        False,
    ),
    (
        'unknown decoder',
        "Seq2SeqConfig(12, 12, decoder='transformer')",
        ValueError,
        "decoder must be one of 'attention', 'plain', got 'transformer'",
        False,
    ),
    (
        'hyperparameters, not a config',
        'build_seq2seq(12, 12, 4, 8, 1)',
        TypeError,
        'build_seq2seq() takes 1 positional argument but 5 were given',
        False,
    ),
    # data
    (
        'zero time steps in the data',
        'build_data_iter([["go", "."]], [["va"]], 2, 0)',
        ValueError,
        'num_steps must be an int >= 1, got 0',
        True,
    ),
    (
        'source and target of different lengths',
        'build_data_iter([["go"], ["hi"], ["run"]], [["va"], ["salut"]], 2, 5)',
        ValueError,
        'source and target must hold equally many items, got 3 and 2',
        False,
    ),
    (
        'no sentences',
        'build_data_iter([], [], 2, 5)',
        ValueError,
        'source and target hold no sentences',
        False,
    ),
    (
        'no examples asked for',
        'load_data_nmt(64, 10, num_examples=0)',
        ValueError,
        'num_examples must be an int >= 1, got 0',
        False,
    ),
    (
        'valid length 0 in the data',
        'BatchIterator((X, np.array([0]), X, np.array([2])), 1)',
        ValueError,
        'X_valid_len must lie in [1, 4], got values from 0 to 0',
        True,
    ),
    (
        'valid length beyond num_steps in the data',
        'BatchIterator((X, np.array([2]), X, np.array([7])), 1)',
        ValueError,
        'Y_valid_len must lie in [1, 4], got values from 7 to 7',
        True,
    ),
    (
        'arrays of different lengths',
        'BatchIterator((X, np.array([2, 3])), 1)',
        ValueError,
        'arrays must hold equally many examples (at least one), got [1, 2]',
        False,
    ),
    (
        'batch size 0',
        'BatchIterator((X,), 0)',
        ValueError,
        'batch_size must be an int >= 1, got 0',
        False,
    ),
    (
        'a shard would be empty',
        'ShardedBatches(tiny_data(batch_size=3)[0], 0, 4)',
        ValueError,
        'a batch of 3 examples cannot be shared by 4 workers',
        True,
    ),
    (
        'rank beyond the workers',
        'ShardedBatches(data_iter, 2, 2)',
        ValueError,
        'rank must be an int in [0, 1], got 2',
        False,
    ),
    # training
    (
        'negative learning rate',
        'train_s2s(net, data_iter, -1, 1, tgt_vocab, CPU)',
        ValueError,
        'lr must be a finite number > 0, got -1',
        False,
    ),
    (
        'NaN learning rate',
        "train_s2s(net, data_iter, float('nan'), 1, tgt_vocab, CPU)",
        ValueError,
        'lr must be a finite number > 0, got nan',
        False,
    ),
    (
        'no epochs',
        'train_s2s(net, data_iter, 0.01, 0, tgt_vocab, CPU)',
        ValueError,
        'num_epochs must be an int >= 1, got 0',
        False,
    ),
    (
        'epochs as a float',
        'train_s2s(net, data_iter, 0.01, 2.0, tgt_vocab, CPU)',
        TypeError,
        'num_epochs must be an int, got 2.0 (float)',
        False,
    ),
    (
        'data for another vocabulary',
        'small = build_seq2seq(Seq2SeqConfig(5, 6, 4, 8, 1)); '
        'train_s2s(small, data_iter, 0.01, 1, tgt_vocab_6, CPU)',
        ValueError,
        'enc_X (indices into 5 tokens) must lie in [0, 4]',
        True,
    ),
    (
        'last batch smaller than the contexts',
        'train_s2s(net, tiny_data(PAIRS[:3], batch_size=2)[0], 0.01, 1, '
        'tgt_vocab, [mx.cpu(0), mx.cpu(1)])',
        ValueError,
        'a batch of 1 examples cannot be split over 2 contexts',
        True,
    ),
    (
        'a plain list of batches',
        'train_s2s(net, [(X, np.array([2]), X, np.array([2]))], 0.01, 1, '
        'tgt_vocab, CPU)',
        TypeError,
        'data_iter must follow the Batches protocol',
        False,
    ),
    (
        'data of the wrong layout',
        'train_s2s(net, BatchIterator((X, X), 1), 0.01, 1, tgt_vocab, CPU)',
        ValueError,
        'data_iter.arrays must be (X, X_valid_len, Y, Y_valid_len), '
        'got 2 arrays',
        False,
    ),
    (
        'target vocabulary of another model',
        'train_s2s(net, data_iter, 0.01, 1, src_vocab, CPU)',
        ValueError,
        "tgt_vocab holds 21 tokens, "
        "but the model's Seq2SeqAttentionDecoder embeds 24",
        False,
    ),
    (
        'evaluating on data for another vocabulary',
        'small = build_seq2seq(Seq2SeqConfig(5, 6, 4, 8, 1)); '
        'small.initialize(); '
        'evaluate_loss(small, data_iter, tgt_vocab_6, CPU)',
        ValueError,
        'enc_X (indices into 5 tokens) must lie in [0, 4]',
        True,
    ),
    (
        'seed -1',
        'set_seed(-1)',
        ValueError,
        'seed must be an int in [0, 4294967295], got -1',
        False,
    ),
    (
        'seed 1.5',
        'set_seed(1.5)',
        TypeError,
        'seed must be an int, got 1.5 (float)',
        False,
    ),
    # decoding
    (
        'a string, not a list of sentences',
        "translate_batch(net, 'go .', src_vocab, tgt_vocab, NUM_STEPS, CPU)",
        TypeError,
        'sentences must be a list of str, got str '
        '(wrap one sentence in a list)',
        False,
    ),
    (
        'vocabularies of another model',
        "translate_batch(net, ['go .'], tgt_vocab, src_vocab, NUM_STEPS, CPU)",
        ValueError,
        "src_vocab holds 24 tokens, but the model's Seq2SeqEncoder embeds 21",
        False,
    ),
    (
        'attention weights of the plain decoder',
        "translate_batch(plain, ['go .'], src_vocab, tgt_vocab, NUM_STEPS, "
        "CPU, save_attention_weights=True)",
        ValueError,
        'save_attention_weights=True, '
        'but Seq2SeqDecoder has no attention weights',
        False,
    ),
    (
        'beam size 0',
        "beam_search(net, 'go .', src_vocab, tgt_vocab, NUM_STEPS, CPU, 0)",
        ValueError,
        'beam_size must be an int >= 1, got 0',
        False,
    ),
    (
        'decoding zero steps',
        "translate_batch(net, ['go .'], src_vocab, tgt_vocab, 0, CPU)",
        ValueError,
        'num_steps must be an int >= 1, got 0',
        True,
    ),
    (
        'empty sentence',
        "translate_batch(net, ['  '], src_vocab, tgt_vocab, NUM_STEPS, CPU)",
        ValueError,
        'cannot translate an empty sentence',
        False,
    ),
    (
        'corpus BLEU of nothing',
        'corpus_bleu([], [])',
        ValueError,
        'corpus_bleu needs at least one hypothesis and reference',
        False,
    ),
    (
        'BLEU of unequal lists',
        "corpus_bleu(['a'], ['a', 'b'])",
        ValueError,
        'hypotheses and references must hold equally many items, got 1 and 2',
        False,
    ),
]


ISOLATED = [(name, code) for name, code, _, _, isolated in CASES if isolated]

# Runs each isolated case in turn and prints one JSON line per case:
# [name, exception type or None, message]
RUNNER = PRELUDE + textwrap.dedent('''
    import json, sys
    for name, code in json.loads(sys.argv[1]):
        try:
            exec(code, dict(globals()))
        except Exception as e:
            print(json.dumps([name, type(e).__name__, str(e)]), flush=True)
        else:
            print(json.dumps([name, None, '']), flush=True)
    ''')


@pytest.fixture(scope='module')
def isolated_results():
    """The isolated cases' outcomes, from one subprocess:
    {name: (type, message)}."""
    proc = subprocess.run(
        [sys.executable, '-c', RUNNER, json.dumps(ISOLATED)],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=600,
    )
    results = {}
    for line in proc.stdout.splitlines():
        name, kind, message = json.loads(line)
        results[name] = (kind, message)
    if proc.returncode != 0:  # a crash: the next case is the one it happened in
        crashed = next(name for name, _ in ISOLATED if name not in results)
        results[crashed] = (
            'crash',
            f'exit status {proc.returncode}: {proc.stderr[-2000:]}',
        )
    return results


@pytest.fixture(scope='module')
def namespace():
    """The names PRELUDE defines, for the cases run in this process."""
    names = {}
    exec(PRELUDE, names)
    return names


@pytest.mark.parametrize(
    'name, code, exc, words, isolated', CASES, ids=[c[0] for c in CASES]
)
def test_bad_input_is_a_clear_error(
    name, code, exc, words, isolated, namespace, isolated_results
):
    if isolated:
        assert name in isolated_results, 'not reached: an earlier case crashed'
        kind, message = isolated_results[name]
        assert kind == exc.__name__, (kind, message)
        assert words in message, message
    else:
        with pytest.raises(exc) as info:
            exec(code, dict(namespace))
        assert words in str(info.value)
