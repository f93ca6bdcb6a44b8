"""Bad input at every public edge: a clear error (type and words), never a crash or a silent answer.

Each case is a few lines of code, the exception it must raise and words its message must hold.
Cases whose input could reach MXNet's native code (where a bad value can kill the process: a
NaN length, an empty batch, zero time steps) run in a subprocess, so a segfault fails that one
case. Command-line cases run the installed command in a subprocess and want exit status 2 and
one line on stderr. After the catalogue, the edges that must now *work*: NumPy integers,
uneven shards, continued training, undoing `hybridize`, dropout, `evaluate_loss`.
"""
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import seq2seq_attention  # noqa: F401  (first: it prepares MXNet, see its docstring)
import mxnet as mx
import numpy as onp
import pytest
from mxnet import autograd, np

from conftest import NUM_STEPS, tiny_data
from seq2seq_attention import BatchIterator, ShardedBatches, build_seq2seq, set_seed
from seq2seq_attention.checkpoint import load_checkpoint, save_checkpoint
from seq2seq_attention.decoding import beam_search
from seq2seq_attention.training import evaluate_loss, train_s2s

HERE = Path(__file__).resolve().parent

# What every case can use: `net` (an initialized attention model that fits `src_vocab` and
# `tgt_vocab`), `plain` (the same with the plain decoder), `data_iter` (tiny_data's, batch 4)
PRELUDE = '''
import seq2seq_attention
import mxnet as mx
import numpy as onp
from mxnet import np
from conftest import NUM_STEPS, PAIRS, tiny_data
from seq2seq_attention import *
from seq2seq_attention.checkpoint import *
from seq2seq_attention.decoding import *
from seq2seq_attention.training import train_s2s, evaluate_loss
set_seed(0)
data_iter, src_vocab, tgt_vocab = tiny_data()
net = build_seq2seq(len(src_vocab), len(tgt_vocab), 4, 8, 1)
net.initialize()
plain = build_seq2seq(len(src_vocab), len(tgt_vocab), 4, 8, 1, decoder='plain')
plain.initialize()
X = np.array([[4, 5, 2, 0]], dtype='int32')
CPU = mx.cpu()
tgt_vocab_6 = Vocab.from_idx_to_token(tgt_vocab.idx_to_token[:6])  # <unk> is the 6th
'''

# (id, code, exception, words of the message, runs in a subprocess)
CASES = [
    # attention and masking
    ('masked_softmax, NaN valid length',
     "masked_softmax(np.ones((2, 2, 4)), np.array([2., float('nan')]))",
     ValueError, 'valid_lens must hold whole numbers in [1, 4], it holds nan', True),
    ('masked_softmax, fractional valid length',
     'masked_softmax(np.ones((2, 2, 4)), np.array([2.5, 3.]))',
     ValueError, 'valid_lens must hold whole numbers, it holds 2.5', True),
    ('masked_softmax, valid length 0',
     'masked_softmax(np.ones((2, 2, 4)), np.array([0, 3]))',
     ValueError, 'valid_lens must lie in [1, 4], got values from 0 to 3', True),
    ('masked_softmax, valid length beyond the keys',
     'masked_softmax(np.ones((2, 2, 4)), np.array([2, 5]))',
     ValueError, 'valid_lens must lie in [1, 4], got values from 2 to 5', True),
    ('masked_softmax, 2-D scores', 'masked_softmax(np.ones((2, 4)), np.array([2, 3]))',
     ValueError, 'X must be 3-D', False),
    ('attention, valid lengths as a list',
     'a = DotProductAttention(); a.initialize(); '
     'a(np.ones((2, 1, 3)), np.ones((2, 4, 3)), np.ones((2, 4, 3)), [2, 3])',
     TypeError, 'valid_lens must be an array, got list', False),
    ('attention, valid lengths of the wrong shape',
     'a = DotProductAttention(); a.initialize(); '
     'a(np.ones((2, 1, 3)), np.ones((2, 4, 3)), np.ones((2, 4, 3)), np.array([2, 3, 4]))',
     ValueError, 'valid_lens has shape (3,), expected (2,) or (2, 1)', False),
    # models on arrays
    ('token id beyond the vocabulary',
     'net(np.array([[4, 500]], dtype="int32"), np.array([[1, 4]], dtype="int32"))',
     ValueError, 'enc_X (indices into 21 tokens) must lie in [0, 20], got values from 4 to 500',
     True),
    ('negative token id', 'net.encoder(np.array([[-5, 4]], dtype="int32"))',
     ValueError, 'X (indices into 21 tokens) must lie in [0, 20], got values from -5 to 4',
     True),
    ('fractional token id', 'net.encoder(np.array([[4.5, 4]]))',
     ValueError, 'X (indices into 21 tokens) must hold whole numbers, it holds 4.5', True),
    ('fractional encoder valid length', 'net.encoder(X, np.array([2.5]))',
     ValueError, 'valid_lens must hold whole numbers, it holds 2.5', True),
    ('encoder valid length 0', 'net(X, X, np.array([0]))',
     ValueError, 'valid_lens must lie in [1, 4], got values from 0 to 0', True),
    ('zero time steps', 'net(np.zeros((1, 0), dtype="int32"), X)',
     ValueError, 'enc_X must hold at least one example of at least one step', True),
    ('tokens of one axis', 'net.encoder(np.array([4, 5]))',
     ValueError, 'X must be token indices of shape (batch_size, num_steps), got (2,)', False),
    ('hyperparameter as a string', "build_seq2seq(12, 12, 4, '8', 1)",
     TypeError, "num_hiddens must be an int, got '8' (str)", False),
    ('no layers', 'build_seq2seq(12, 12, 4, 8, 0)',
     ValueError, 'num_layers must be an int >= 1, got 0', False),
    ('dropout 1.5', 'build_seq2seq(12, 12, 4, 8, 1, dropout=1.5)',
     ValueError, 'dropout must be a finite number in [0, 1), got 1.5', False),
    ('unknown decoder', "build_seq2seq(12, 12, 4, 8, 1, decoder='transformer')",
     ValueError, "decoder must be one of 'attention', 'plain', got 'transformer'", False),
    # data
    ('zero time steps in the data', 'build_array_nmt([["go", "."]], src_vocab, 0)',
     ValueError, 'num_steps must be an int >= 1, got 0', True),
    ('source and target of different lengths',
     'build_data_iter([["go"], ["hi"], ["run"]], [["va"], ["salut"]], 2, 5)',
     ValueError, 'source and target must hold equally many items, got 3 and 2', False),
    ('no sentences', 'build_data_iter([], [], 2, 5)',
     ValueError, 'source and target hold no sentences', False),
    ('no examples asked for', 'load_data_nmt(64, 10, num_examples=0)',
     ValueError, 'num_examples must be an int >= 1, got 0', False),
    ('valid length 0 in the data',
     'BatchIterator((X, np.array([0]), X, np.array([2])), 1)',
     ValueError, 'X_valid_len must lie in [1, 4], got values from 0 to 0', True),
    ('valid length beyond num_steps in the data',
     'BatchIterator((X, np.array([2]), X, np.array([7])), 1)',
     ValueError, 'Y_valid_len must lie in [1, 4], got values from 7 to 7', True),
    ('arrays of different lengths', 'BatchIterator((X, np.array([2, 3])), 1)',
     ValueError, 'arrays must hold equally many examples (at least one), got [1, 2]', False),
    ('batch size 0', 'BatchIterator((X,), 0)',
     ValueError, 'batch_size must be an int >= 1, got 0', False),
    ('a shard would be empty', 'ShardedBatches(tiny_data(batch_size=3)[0], 0, 4)',
     ValueError, 'a batch of 3 examples cannot be shared by 4 workers', True),
    ('rank beyond the workers', 'ShardedBatches(data_iter, 2, 2)',
     ValueError, 'rank must be an int in [0, 1], got 2', False),
    # training
    ('negative learning rate', 'train_s2s(net, data_iter, -1, 1, tgt_vocab, CPU)',
     ValueError, 'lr must be a finite number > 0, got -1', False),
    ('NaN learning rate', "train_s2s(net, data_iter, float('nan'), 1, tgt_vocab, CPU)",
     ValueError, 'lr must be a finite number > 0, got nan', False),
    ('no epochs', 'train_s2s(net, data_iter, 0.01, 0, tgt_vocab, CPU)',
     ValueError, 'num_epochs must be an int >= 1, got 0', False),
    ('epochs as a float', 'train_s2s(net, data_iter, 0.01, 2.0, tgt_vocab, CPU)',
     TypeError, 'num_epochs must be an int, got 2.0 (float)', False),
    ('data for another vocabulary',
     'small = build_seq2seq(5, 6, 4, 8, 1); '
     'train_s2s(small, data_iter, 0.01, 1, tgt_vocab_6, CPU)',
     ValueError, 'X (indices into 5 tokens) must lie in [0, 4]', True),
    ('last batch smaller than the contexts',
     'train_s2s(net, tiny_data(PAIRS[:3], batch_size=2)[0], 0.01, 1, tgt_vocab, '
     '[mx.cpu(0), mx.cpu(1)])',
     ValueError, 'a batch of 1 examples cannot be split over 2 contexts', True),
    ('a batch of the wrong layout, from a plain iterable',
     'train_s2s(net, [(X, X)], 0.01, 1, tgt_vocab, CPU)',
     ValueError, 'batches must be (X, X_valid_len, Y, Y_valid_len), got 2 arrays', True),
    ('a bad batch from a plain iterable',
     'train_s2s(net, [(X, np.array([9]), X, np.array([2]))], 0.01, 1, tgt_vocab, CPU)',
     ValueError, 'X_valid_len must lie in [1, 4], got values from 9 to 9', True),
    ('target vocabulary of another model',
     'train_s2s(net, data_iter, 0.01, 1, src_vocab, CPU)',
     ValueError, "tgt_vocab holds 21 tokens, but the model's Seq2SeqAttentionDecoder embeds 24",
     False),
    ('evaluating on data for another vocabulary',
     'small = build_seq2seq(5, 6, 4, 8, 1); small.initialize(); '
     'evaluate_loss(small, data_iter, tgt_vocab_6, CPU)',
     ValueError, 'X (indices into 5 tokens) must lie in [0, 4]', True),
    ('seed -1', 'set_seed(-1)', ValueError, 'seed must be an int in [0, 4294967295], got -1',
     False),
    ('seed 1.5', 'set_seed(1.5)', TypeError, 'seed must be an int, got 1.5 (float)', False),
    # decoding
    ('a string, not a list of sentences',
     "translate_batch(net, 'go .', src_vocab, tgt_vocab, NUM_STEPS, CPU)",
     TypeError, 'sentences must be a list of str, got str (wrap one sentence in a list)', False),
    ('vocabularies of another model',
     "translate_batch(net, ['go .'], tgt_vocab, src_vocab, NUM_STEPS, CPU)",
     ValueError, "src_vocab holds 24 tokens, but the model's Seq2SeqEncoder embeds 21", False),
    ('attention weights of the plain decoder',
     "translate_batch(plain, ['go .'], src_vocab, tgt_vocab, NUM_STEPS, CPU, "
     "save_attention_weights=True)",
     ValueError, 'save_attention_weights=True, but Seq2SeqDecoder has no attention weights',
     False),
    ('beam size 0', "beam_search(net, 'go .', src_vocab, tgt_vocab, NUM_STEPS, CPU, 0)",
     ValueError, 'beam_size must be an int >= 1, got 0', False),
    ('decoding zero steps', "translate_batch(net, ['go .'], src_vocab, tgt_vocab, 0, CPU)",
     ValueError, 'num_steps must be an int >= 1, got 0', True),
    ('empty sentence', "translate_batch(net, ['  '], src_vocab, tgt_vocab, NUM_STEPS, CPU)",
     ValueError, 'cannot translate an empty sentence', False),
    ('corpus BLEU of nothing', 'corpus_bleu([], [])',
     ValueError, 'corpus_bleu needs at least one hypothesis and reference', False),
    ('BLEU of unequal lists', "corpus_bleu(['a'], ['a', 'b'])",
     ValueError, 'hypotheses and references must hold equally many items, got 1 and 2', False),
]


def _run_in_subprocess(code):
    """Run PRELUDE + code in a fresh Python; return (exception type name, message) or None."""
    script = PRELUDE + textwrap.dedent(f'''
        import json
        try:
            {code}
        except Exception as e:
            print(json.dumps([type(e).__name__, str(e)]))
        else:
            print(json.dumps(None))
        ''')
    proc = subprocess.run([sys.executable, '-c', script], cwd=HERE, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, f'exit status {proc.returncode}\n{proc.stderr[-2000:]}'
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope='module')
def namespace():
    """The names PRELUDE defines, for the cases run in this process."""
    names = {}
    exec(PRELUDE, names)
    return names


@pytest.mark.parametrize('code, exc, words, isolated', [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_error(code, exc, words, isolated, namespace):
    if isolated:
        raised = _run_in_subprocess(code)
        assert raised is not None, 'no exception'
        assert raised[0] == exc.__name__, raised
        assert words in raised[1], raised[1]
    else:
        with pytest.raises(exc) as info:
            exec(code, dict(namespace))
        assert words in str(info.value)


# The command line: exit status 2, one line on stderr, no traceback
CLI_CASES = [
    ('--num-steps 0', ['train', '--num-steps', '0'], 'argument --num-steps: 0 is not >= 1'),
    ('--num-steps -3', ['train', '--num-steps', '-3'], 'argument --num-steps: -3 is not >= 1'),
    ('--num-examples 0', ['train', '--num-examples', '0'],
     'argument --num-examples: 0 is not >= 1'),
    ('--dropout 1.5', ['train', '--dropout', '1.5'], 'argument --dropout: 1.5 is not in [0, 1)'),
    ('--num-layers 0', ['train', '--num-layers', '0'], 'argument --num-layers: 0 is not >= 1'),
    ('--lr nan', ['train', '--lr', 'nan'], 'argument --lr: nan is not >= 1e-12'),
    ('--epochs ten', ['train', '--epochs', 'ten'], "argument --epochs: 'ten' is not a int"),
    ('unknown decoder', ['train', '--decoder', 'transformer'],
     "argument --decoder: invalid choice: 'transformer'"),
    ('missing checkpoint', ['translate', '--checkpoint', 'missing.s2s', 'go .'],
     'missing.s2s: not a readable checkpoint'),
]


def _cli(args, cwd):
    """Run the command line in a subprocess; return (exit status, stderr)."""
    proc = subprocess.run([sys.executable, '-m', 'seq2seq_attention'] + args, cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stderr


@pytest.mark.parametrize('args, words', [c[1:] for c in CLI_CASES],
                         ids=[c[0] for c in CLI_CASES])
def test_command_line_errors_are_one_line(args, words, tmp_path):
    status, err = _cli(args, tmp_path)
    assert status == 2, err
    assert words in err and len(err.strip().splitlines()) == 1, err
    assert 'Traceback' not in err


def _rewrite_meta(src, dst, change):
    """Copy checkpoint `src` to `dst` with `change(meta)` applied to its meta.json."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w') as zout:
        meta = json.loads(zin.read('meta.json'))
        change(meta)
        zout.writestr('meta.json', json.dumps(meta))
        zout.writestr('model.params', zin.read('model.params'))
    return dst


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A checkpoint of a small, briefly trained model."""
    set_seed(0)
    data_iter, src_vocab, tgt_vocab = tiny_data()
    hparams = dict(src_vocab_size=len(src_vocab), tgt_vocab_size=len(tgt_vocab),
                   embed_size=4, num_hiddens=8, num_layers=1)
    net = build_seq2seq(**hparams)
    train_s2s(net, data_iter, 0.01, 2, tgt_vocab, mx.cpu(), verbose=False, plot=False)
    path = tmp_path_factory.mktemp('ckpt') / 'model.s2s'
    return save_checkpoint(path, net, src_vocab, tgt_vocab, hparams,
                           info={'num_steps': NUM_STEPS})


def _drop(key):
    return lambda meta: meta.pop(key)


def _set_hparam(name, value):
    return lambda meta: meta['hparams'].__setitem__(name, value)


BROKEN_CHECKPOINTS = [
    ('target vocabulary one token short', lambda meta: meta['tgt_vocab'].pop(),
     "tgt_vocab holds 23 tokens, but the model's Seq2SeqAttentionDecoder embeds 24"),
    ('no info', _drop('info'), "meta.json has no dict 'info'"),
    ('no hparams', _drop('hparams'), "meta.json has no dict 'hparams'"),
    ('a hyperparameter as a string', _set_hparam('num_hiddens', '8'),
     "its metadata does not describe a model (num_hiddens must be an int, got '8' (str))"),
    ('an unknown hyperparameter', _set_hparam('heads', 8),
     "its metadata does not describe a model (build_seq2seq() got an unexpected keyword "
     "argument 'heads')"),
    ('a vocabulary without <unk>', lambda meta: meta['src_vocab'].remove('<unk>'),
     'its metadata does not describe a model (idx_to_token must hold distinct tokens'),
]


@pytest.mark.parametrize('change, words', [c[1:] for c in BROKEN_CHECKPOINTS],
                         ids=[c[0] for c in BROKEN_CHECKPOINTS])
def test_broken_checkpoints_are_refused_by_the_library_and_the_command_line(
        change, words, checkpoint, tmp_path):
    broken = _rewrite_meta(checkpoint, tmp_path / 'broken.s2s', change)
    with pytest.raises(ValueError) as info:  # CheckpointError is a ValueError
        load_checkpoint(broken)
    assert words in str(info.value)
    status, err = _cli(['translate', '--checkpoint', str(broken), 'go .'], tmp_path)
    assert status == 2 and words in err and len(err.strip().splitlines()) == 1, err


def test_a_checkpoint_without_num_steps_is_a_one_line_error(checkpoint, tmp_path):
    broken = _rewrite_meta(checkpoint, tmp_path / 'broken.s2s', lambda m: m['info'].clear())
    status, err = _cli(['translate', '--checkpoint', str(broken), 'go .'], tmp_path)
    assert status == 2 and 'its info holds no num_steps (a positive int), got None' in err
    assert len(err.strip().splitlines()) == 1, err


# What must work now

def test_numpy_integers_are_integers():
    set_seed(onp.int64(3))
    data_iter, src_vocab, tgt_vocab = tiny_data(batch_size=onp.int64(4))
    net = build_seq2seq(onp.int64(len(src_vocab)), len(tgt_vocab), onp.int32(4), 8, 1)
    history = train_s2s(net, data_iter, onp.float32(0.01), onp.int64(1), tgt_vocab, mx.cpu(),
                        verbose=False, plot=False)
    assert len(history) == 1
    translation, _ = beam_search(net, 'go .', src_vocab, tgt_vocab, onp.int64(NUM_STEPS),
                                 mx.cpu(), beam_size=onp.int64(2))
    assert isinstance(translation, str)


def test_uneven_shards_are_cut_as_numpy_array_split():
    X = np.arange(5 * 2, dtype='int32').reshape(5, 2)
    data = BatchIterator((X,), 5, shuffle=False)
    shares = [next(iter(ShardedBatches(data, r, 4)))[0].asnumpy() for r in range(4)]
    assert [len(s) for s in shares] == [2, 1, 1, 1]
    for share, expected in zip(shares, onp.array_split(X.asnumpy(), 4)):
        onp.testing.assert_array_equal(share, expected)
    assert ShardedBatches(data, 0, 4).batch_sizes() == [2]


def test_training_continues_from_a_loaded_checkpoint(checkpoint):
    data_iter, _, _ = tiny_data()
    loaded = load_checkpoint(checkpoint)
    before = evaluate_loss(loaded.net, data_iter, loaded.tgt_vocab, mx.cpu())
    history = train_s2s(loaded.net, data_iter, 0.01, 1, loaded.tgt_vocab, mx.cpu(),
                        reinit=False, verbose=False, plot=False)
    fresh = train_s2s(load_checkpoint(checkpoint).net, data_iter, 0.01, 1, loaded.tgt_vocab,
                      mx.cpu(), verbose=False, plot=False)
    # the first epoch starts where the checkpoint ended, below a fresh start
    assert history[0] < fresh[0]
    assert abs(history[0] - before) < 0.5 * abs(fresh[0] - before)


def test_hybridize_false_undoes_an_earlier_hybridize():
    data_iter, src_vocab, tgt_vocab = tiny_data()
    net = build_seq2seq(len(src_vocab), len(tgt_vocab), 4, 8, 1)
    train_s2s(net, data_iter, 0.01, 1, tgt_vocab, mx.cpu(), verbose=False, plot=False)
    assert net._active and net.encoder._active
    train_s2s(net, data_iter, 0.01, 1, tgt_vocab, mx.cpu(), hybridize=False, verbose=False,
              plot=False)
    assert not net._active and not net.encoder._active and not net.decoder.attention._active


@pytest.mark.parametrize('decoder', ['attention', 'plain'])
def test_dropout_acts_in_training_only_compiled_or_not(decoder):
    data_iter, src_vocab, tgt_vocab = tiny_data()
    net = build_seq2seq(len(src_vocab), len(tgt_vocab), 8, 16, 2, dropout=0.5,
                        decoder=decoder)
    net.initialize(mx.init.Xavier())
    X, X_valid_len, Y, _ = next(iter(BatchIterator(data_iter.arrays, 8, shuffle=False)))

    def run(train):
        with autograd.record(train_mode=train):
            return net(X, Y, X_valid_len).asnumpy()
    inference = run(False)
    onp.testing.assert_array_equal(run(False), inference)  # no randomness in inference
    training = [run(True), run(True)]
    assert not onp.allclose(training[0], training[1])  # dropout draws anew each call
    assert not onp.allclose(training[0], inference)
    net.hybridize()
    onp.testing.assert_allclose(run(False), inference, rtol=1e-5, atol=1e-6)
    assert not onp.allclose(run(True), inference)


def test_evaluate_loss_is_the_mean_cross_entropy_per_valid_token():
    data_iter, src_vocab, tgt_vocab = tiny_data()
    net = build_seq2seq(len(src_vocab), len(tgt_vocab), 4, 8, 1)
    net.initialize(mx.init.Xavier())
    total, tokens = 0.0, 0
    for X, X_valid_len, Y, Y_valid_len in data_iter:
        bos = np.full((Y.shape[0], 1), tgt_vocab['<bos>'], dtype='int32')
        scores = net(X, np.concatenate([bos, Y[:, :-1]], axis=1), X_valid_len).asnumpy()
        scores = scores - scores.max(axis=-1, keepdims=True)
        log_probs = scores - onp.log(onp.exp(scores).sum(axis=-1, keepdims=True))
        for i, length in enumerate(Y_valid_len.asnumpy().tolist()):
            for t in range(int(length)):
                total -= float(log_probs[i, t, int(Y[i, t])])
                tokens += 1
    assert evaluate_loss(net, data_iter, tgt_vocab, mx.cpu()) == pytest.approx(
        total / tokens, rel=1e-5)
