"""The long recipe, `scripts/translator.py`, on a small run of the corpus.

Held-out sets that share no source sentence with the training pairs, the
model kept being the one validation chose, Ctrl-C held back while an epoch is
logged, and an interrupted run that resumes to the same numbers; the same with
two worker processes (`--workers 2`), which train the model one process does.
"""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as onp
import pytest

from seq2seq_attention.checkpoint import load_checkpoint

SCRIPT = Path(__file__).resolve().parents[1] / 'scripts' / 'translator.py'
SMALL = ['--max-pairs', '6000', '--held-out', '40', '--test', '60',
         '--epochs', '3', '--embed-size', '16', '--num-hiddens', '16',
         '--num-layers', '1', '--beam', '2', '--workers', '1']  # fmt: skip


def recipe_args(corpus_path, out):
    """The small run's options, writing into directory `out`."""
    return SMALL + ['--data', str(corpus_path), '--out', str(out / 'model'),
                    '--results', str(out / 'scores.json')]  # fmt: skip


def start(args, **kwargs):
    """The recipe in a child process."""
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


def epochs(scores):
    """Each validated epoch's number, training loss and validation BLEU."""
    return [(e['epoch'], e['loss'], e['valid_bleu']) for e in scores['epochs']]


@pytest.fixture(scope='module')
def whole(corpus_path, tmp_path_factory):
    """An uninterrupted small run: its directory and scores."""
    out = tmp_path_factory.mktemp('whole')
    run = start(recipe_args(corpus_path, out))
    stdout, stderr = run.communicate(timeout=600)
    assert run.returncode == 0, stderr[-3000:]
    return out, json.loads((out / 'scores.json').read_text()), stdout


def load_script():
    """scripts/translator.py as a module."""
    spec = importlib.util.spec_from_file_location('translator', SCRIPT)
    translator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(translator)
    return translator


def test_the_held_out_sets_share_no_source_with_training(corpus_path):
    translator = load_script()
    args = translator.parse_args(SMALL + ['--data', str(corpus_path)])
    train, valid, test = translator.corpus_splits(args)
    sources = [{' '.join(s) for s, _ in split} for split in (train, valid)]
    test_sources = [' '.join(s) for s, _ in test]
    assert (len(valid), len(test)) == (40, 60)
    assert len(set(test_sources)) == 60  # one pair per source sentence
    assert not sources[0] & sources[1]
    assert not set(test_sources) & (sources[0] | sources[1])
    assert len(train) > 5000


def test_the_model_kept_is_the_one_validation_chose(whole):
    out, scores, stdout = whole
    epochs = scores['epochs']
    assert [e['epoch'] for e in epochs] == [1, 2, 3]
    best = max(epochs, key=lambda e: e['valid_bleu'])  # the first best
    assert scores['chosen_epoch'] == best['epoch']
    model = load_checkpoint(out / 'model' / 'best.s2s')
    assert model.info['epoch'] == best['epoch']
    assert model.config.bidirectional and model.config.num_hiddens == 16
    assert not (out / 'model' / 'training.state').exists()  # a finished run
    for name in ('greedy', 'beam 2'):
        test = scores['test'][name]
        assert 0 <= test['BLEU']['score'] <= 100
        assert test['BLEU']['half_width'] >= 0
        assert 'nrefs:1' in test['BLEU']['signature']
        assert sum(size for _, size in test['by_length'].values()) == 60
        assert len(test['examples']) == 10
    assert f"BLEU {scores['test']['greedy']['BLEU']['score']:.1f}" in stdout


def test_ctrl_c_is_held_back_until_the_block_ends():
    translator = load_script()
    # (a job started in the background of a script ignores SIGINT: CI's)
    before, done = signal.getsignal(signal.SIGINT), []
    with pytest.raises(KeyboardInterrupt):
        with translator.interrupt_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)  # Python would have raised it by now
            done.append('the block finished')
    assert done == ['the block finished']
    assert signal.getsignal(signal.SIGINT) == before  # put back


def test_an_interrupted_run_resumes_to_the_same_numbers(
    corpus_path, tmp_path, whole, monkeypatch, capsys
):
    from seq2seq_attention import training

    args = recipe_args(corpus_path, tmp_path)
    translator = load_script()
    train_epoch, calls = training.train_epoch, []

    def interrupted_in_epoch_two(*a, **kw):
        """Ctrl-C in epoch 2, after epoch 1's state, model and log are kept."""
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return train_epoch(*a, **kw)

    handler = signal.getsignal(signal.SIGINT)  # main() ignores it once stopped
    with monkeypatch.context() as m:
        m.setattr(training, 'train_epoch', interrupted_in_epoch_two)
        with pytest.raises(SystemExit) as stopped:
            translator.main(args)
    signal.signal(signal.SIGINT, handler)
    assert stopped.value.code == 130
    assert 'continue with the same options and --resume' in (
        capsys.readouterr().err
    )
    assert (tmp_path / 'model' / 'training.state').exists()
    assert not (tmp_path / 'scores.json').exists()
    # not without --resume: the interrupted run would be lost
    again = subprocess.run([sys.executable, str(SCRIPT), *args],
                           capture_output=True, text=True)  # fmt: skip
    assert again.returncode != 0 and 'add --resume' in again.stderr
    resumed = start(args + ['--resume'])
    _, stderr = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, stderr[-3000:]
    scores = json.loads((tmp_path / 'scores.json').read_text())
    expected = whole[1]
    for key in ('pairs', 'vocabulary', 'chosen_epoch', 'test'):
        assert scores[key] == expected[key], key
    assert epochs(scores) == epochs(expected)
    assert scores['command'] == expected['command'].replace(
        str(whole[0]), str(tmp_path)
    )
    a = load_checkpoint(whole[0] / 'model' / 'best.s2s')
    b = load_checkpoint(tmp_path / 'model' / 'best.s2s')
    for p, q in zip(
        a.net.collect_params().values(), b.net.collect_params().values()
    ):
        assert (p.data().asnumpy() == q.data().asnumpy()).all(), p.name


def test_bad_options_are_refused_by_name(tmp_path):
    run = subprocess.run(
        [sys.executable, str(SCRIPT), '--epochs', '0', '--out', str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and '--epochs must be at least 1' in run.stderr
    resume = subprocess.run(
        [sys.executable, str(SCRIPT), '--resume', '--out', str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert resume.returncode != 0 and 'no training state' in resume.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.fixture(scope='module')
def two_workers(corpus_path, tmp_path_factory):
    """The small run on two worker processes: its directory and scores."""
    out = tmp_path_factory.mktemp('two_workers')
    # (SMALL's --workers 1 comes first: argparse keeps the last)
    run = start(recipe_args(corpus_path, out) + ['--workers', '2'])
    stdout, stderr = run.communicate(timeout=600)
    assert run.returncode == 0, stderr[-3000:]
    return out, json.loads((out / 'scores.json').read_text()), stdout


@pytest.mark.slow
def test_two_workers_train_what_one_process_does(whole, two_workers):
    expected, (out, scores, stdout) = whole[1], two_workers
    for key in ('pairs', 'vocabulary'):
        assert scores[key] == expected[key], key
    # each worker sums half of every batch's gradient: the same training up
    # to the order of a sum's terms
    numbers = onp.array([e[1:] for e in epochs(scores)])
    onp.testing.assert_allclose(
        numbers, [e[1:] for e in epochs(expected)], rtol=1e-4
    )
    best = max(scores['epochs'], key=lambda e: e['valid_bleu'])
    assert (
        load_checkpoint(out / 'model' / 'best.s2s').info['epoch']
        == (best['epoch'])
    )
    assert not (out / 'model' / 'training.state').exists()
    assert scores['command'].endswith('--workers 2')
    assert stdout.count('epoch  1/3') == 1  # worker 0 alone reports


@pytest.mark.slow
def test_two_workers_stopped_by_ctrl_c_resume_to_the_same_numbers(
    corpus_path, tmp_path, two_workers
):
    args = recipe_args(corpus_path, tmp_path) + ['--workers', '2']
    # in a process group of its own, which Ctrl-C at a terminal reaches
    run = start(args, start_new_session=True)
    for line in run.stdout:
        if line.startswith('epoch  1/3'):
            os.killpg(run.pid, signal.SIGINT)
            break
    _, stderr = run.communicate(timeout=600)
    assert run.returncode == 130, stderr[-3000:]
    assert 'continue with the same options and --resume' in stderr
    assert (tmp_path / 'model' / 'training.state').exists()
    resumed = start(args + ['--resume'])
    _, stderr = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, stderr[-3000:]
    scores, expected = (
        json.loads((tmp_path / 'scores.json').read_text()),
        two_workers[1],
    )
    assert epochs(scores) == epochs(expected)
    assert scores['test'] == expected['test']
