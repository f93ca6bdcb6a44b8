"""The command line: train, save, translate; every error one line, status 2.

The commands run in this process (`main(argv)`); one test starts the
installed module to check the exit status a shell sees.
"""

import json
import subprocess
import sys
import zipfile

import mxnet as mx
import pytest

from conftest import CPU, NUM_STEPS, tiny_config, tiny_data
from seq2seq_attention import build_seq2seq, set_seed
from seq2seq_attention.checkpoint import load_checkpoint, save_checkpoint
from seq2seq_attention.cli import main
from seq2seq_attention.decoding import beam_search
from seq2seq_attention.training import train_s2s


def run(argv, capsys):
    """`main(argv)` as a shell would see it: (exit status, stdout, stderr)."""
    try:
        status = main(argv)
    except SystemExit as e:  # argparse's errors
        status = e.code
    out, err = capsys.readouterr()
    return status, out, err


def test_train_save_and_translate(corpus_path, tmp_path, capsys):
    ckpt = tmp_path / 'model.s2s'
    status, out, _ = run(
        [
            'train',
            '--epochs',
            '2',
            '--num-examples',
            '128',
            '--save',
            str(ckpt),
        ],
        capsys,
    )
    assert status == 0
    assert 'epoch    2/2  loss' in out and 'tokens/sec on cpu(0)' in out
    assert "i'm home . =>" in out and f'saved {ckpt}' in out
    status, out, _ = run(
        [
            'translate',
            '--checkpoint',
            str(ckpt),
            'Go .',
            'I lost.',
            '--beam',
            '3',
        ],
        capsys,
    )
    assert status == 0
    # one line per sentence: what beam search gives (alpha 0.75, the default)
    c = load_checkpoint(ckpt)
    assert out.splitlines() == [
        beam_search(
            c.net,
            s,
            c.src_vocab,
            c.tgt_vocab,
            c.info['num_steps'],
            mx.cpu(),
            beam_size=3,
            alpha=0.75,
        )[0]
        for s in ('Go .', 'I lost.')
    ]


def test_an_interrupted_train_resumes_to_the_same_model(
    corpus_path, tmp_path, capsys, monkeypatch
):
    from seq2seq_attention import cli

    argv = ['train', '--epochs', '3', '--num-examples', '128', '--dropout',
            '0.2', '--save']  # fmt: skip
    status, whole, _ = run(argv + [str(tmp_path / 'whole.s2s')], capsys)
    assert status == 0
    assert not (tmp_path / 'whole.s2s.state').exists()  # removed at the end

    def stop_after_two(epochs):
        def progress(epoch, loss):
            if epoch == 2:
                raise KeyboardInterrupt

        return progress

    cut = tmp_path / 'cut.s2s'
    with monkeypatch.context() as m:
        m.setattr(cli, '_progress', stop_after_two)
        status, _, err = run(argv + [str(cut)], capsys)
    assert status == 130 and f'{cut}.state: add --resume' in err
    assert not cut.exists() and (tmp_path / 'cut.s2s.state').exists()
    # not without --resume: the interrupted run would be lost
    status, _, err = run(argv + [str(cut)], capsys)
    assert status == 2 and 'add --resume to continue it' in err
    status, resumed, _ = run(argv + [str(cut), '--resume'], capsys)
    assert status == 0

    def results(out):
        """The final loss and the translations, not the speed or progress."""
        lines = out.splitlines()
        loss = [ln.split(',')[0] for ln in lines if ln.startswith('loss ')]
        return loss + [ln for ln in lines if '=>' in ln]

    assert results(resumed) == results(whole) and len(results(whole)) == 9
    a, b = load_checkpoint(tmp_path / 'whole.s2s'), load_checkpoint(cut)
    for p, q in zip(
        a.net.collect_params().values(), b.net.collect_params().values()
    ):
        assert (p.data().asnumpy() == q.data().asnumpy()).all(), p.name


def test_train_a_bidirectional_model(corpus_path, tmp_path, capsys):
    ckpt = tmp_path / 'bi.s2s'
    status, out, _ = run(
        [
            'train',
            '--epochs',
            '1',
            '--num-examples',
            '64',
            '--bidirectional',
            '--save',
            str(ckpt),
        ],
        capsys,
    )
    assert status == 0 and f'saved {ckpt}' in out
    config = load_checkpoint(ckpt).config
    assert config.bidirectional and config.decoder == 'attention'


CLI_CASES = [
    (
        '--num-steps 0',
        ['train', '--num-steps', '0'],
        'argument --num-steps: the value must be an int >= 1, got 0',
    ),
    (
        '--num-examples 0',
        ['train', '--num-examples', '0'],
        'argument --num-examples: the value must be an int >= 1, got 0',
    ),
    (
        '--dropout 1.5',
        ['train', '--dropout', '1.5'],
        'argument --dropout: the value must be a finite number in [0, 1), '
        'got 1.5',
    ),
    (
        '--lr nan',
        ['train', '--lr', 'nan'],
        'argument --lr: the value must be a finite number > 0, got nan',
    ),
    (
        '--epochs ten',
        ['train', '--epochs', 'ten'],
        "argument --epochs: 'ten' is not an int",
    ),
    (
        '--beam 0',
        ['translate', '--checkpoint', 'x.s2s', '--beam', '0', 'go'],
        'argument --beam: the value must be an int >= 1, got 0',
    ),
    (
        'unknown decoder',
        ['train', '--decoder', 'transformer'],
        "argument --decoder: invalid choice: 'transformer'",
    ),
    (
        '--resume without --save',
        ['train', '--resume'],
        '--resume needs the --save PATH of the run to continue',
    ),
    (
        '--resume with no state',
        ['train', '--save', 'm.s2s', '--resume'],
        '--resume: no training state at m.s2s.state',
    ),
    (
        'missing checkpoint',
        ['translate', '--checkpoint', 'missing.s2s', 'go .'],
        'missing.s2s: not a readable checkpoint',
    ),
]


@pytest.mark.parametrize(
    'argv, words', [c[1:] for c in CLI_CASES], ids=[c[0] for c in CLI_CASES]
)
def test_errors_are_one_line_with_status_2(
    argv, words, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    status, _, err = run(argv, capsys)
    assert status == 2, err
    assert words in err and len(err.strip().splitlines()) == 1, err


def test_the_installed_command_exits_with_status_2_on_an_error(tmp_path):
    proc = subprocess.run(
        [sys.executable, '-m', 'seq2seq_attention', 'train', '--epochs', '0'],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        'seq2seq-attention train: error: argument --epochs: the value must be '
        'an int >= 1, got 0'
    ]


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """A checkpoint of a small, briefly trained model."""
    set_seed(0)
    data_iter, src_vocab, tgt_vocab = tiny_data()
    config = tiny_config(
        src_vocab, tgt_vocab, embed_size=4, num_hiddens=8, num_layers=1
    )
    net = build_seq2seq(config)
    train_s2s(net, data_iter, 0.01, 2, tgt_vocab, CPU)
    path = tmp_path_factory.mktemp('ckpt') / 'model.s2s'
    return save_checkpoint(
        path, net, config, src_vocab, tgt_vocab, info={'num_steps': NUM_STEPS}
    )


def rewrite_meta(src, dst, change):
    """Copy checkpoint `src` to `dst` with `change(meta)` made to its meta."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, 'w') as zout:
        meta = json.loads(zin.read('meta.json'))
        change(meta)
        zout.writestr('meta.json', json.dumps(meta))
        zout.writestr('model.params', zin.read('model.params'))
    return dst


BROKEN_CHECKPOINTS = [
    (
        'target vocabulary one token short',
        lambda meta: meta['tgt_vocab'].pop(),
        "tgt_vocab holds 23 tokens, but the model's Seq2SeqAttentionDecoder "
        'embeds 24',
    ),
    ('no info', lambda meta: meta.pop('info'), "meta.json has no dict 'info'"),
    (
        'no hparams',
        lambda meta: meta.pop('hparams'),
        "meta.json has no dict 'hparams'",
    ),
    (
        'a hyperparameter as a string',
        lambda meta: meta['hparams'].update(num_hiddens='8'),
        'its metadata does not describe a model (num_hiddens must be an int, '
        "got '8' (str))",
    ),
    (
        'an unknown hyperparameter',
        lambda meta: meta['hparams'].update(heads=8),
        'its metadata does not describe a model (Seq2SeqConfig.__init__() got '
        "an unexpected keyword argument 'heads')",
    ),
    (
        'a vocabulary without <unk>',
        lambda meta: meta['src_vocab'].remove('<unk>'),
        'its metadata does not describe a model (idx_to_token must hold '
        'distinct tokens',
    ),
    (
        'no num_steps',
        lambda meta: meta['info'].clear(),
        'its info holds no num_steps (a positive int), got None',
    ),
]


@pytest.mark.parametrize(
    'change, words',
    [c[1:] for c in BROKEN_CHECKPOINTS],
    ids=[c[0] for c in BROKEN_CHECKPOINTS],
)
def test_broken_checkpoints_are_refused_in_one_line(
    change, words, checkpoint, tmp_path, capsys
):
    broken = rewrite_meta(checkpoint, tmp_path / 'broken.s2s', change)
    if 'num_steps' not in words:  # (the library needs no num_steps)
        with pytest.raises(ValueError) as info:  # a CheckpointError
            load_checkpoint(broken)
        assert words in str(info.value)
    status, _, err = run(
        ['translate', '--checkpoint', str(broken), 'go .'], capsys
    )
    assert status == 2 and words in err, err
    assert len(err.strip().splitlines()) == 1, err
