"""Training that survives an interruption: a resumed run ends where an
uninterrupted one does, to the last bit; a state file of another run is
refused with a message that names the difference."""

import zipfile

import numpy as onp
import pytest

from conftest import CPU, tiny_config, tiny_data
from seq2seq_attention import build_seq2seq, set_seed
from seq2seq_attention.resume import TrainingStateError, check_state_file
from seq2seq_attention.training import train_s2s


class Interrupted(Exception):
    """Stands for a Ctrl-C or a closed session."""


def run(state_file, num_epochs, stop_after=None, seed=0, lr=0.01, **model):
    """Train the tiny model from `seed`; stop after `stop_after` epochs."""
    set_seed(seed)
    data_iter, src_vocab, tgt_vocab = tiny_data()
    net = build_seq2seq(tiny_config(src_vocab, tgt_vocab, **model))

    def progress(epoch, loss):
        if epoch == stop_after:
            raise Interrupted

    history = train_s2s(
        net,
        data_iter,
        lr,
        num_epochs,
        tgt_vocab,
        CPU,
        progress=progress,
        state_file=state_file,
    )
    params = {
        name.split('_', 1)[-1]: p.data().asnumpy()
        for name, p in net.collect_params().items()
    }
    return history, params


@pytest.mark.parametrize('dropout', [0.0, 0.2])
def test_a_resumed_run_ends_with_the_numbers_of_an_uninterrupted_one(
    tmp_path, dropout
):
    whole, whole_params = run(tmp_path / 'whole.state', 6, dropout=dropout)
    with pytest.raises(Interrupted):
        run(tmp_path / 'cut.state', 6, stop_after=3, dropout=dropout)
    # a new process would start from other random states: so does this run
    resumed, resumed_params = run(
        tmp_path / 'cut.state', 6, seed=123, dropout=dropout
    )
    assert list(resumed) == list(whole)  # the losses of all six epochs
    assert resumed.tokens == whole.tokens
    assert sorted(resumed_params) == sorted(whole_params)
    for name, value in whole_params.items():
        onp.testing.assert_array_equal(resumed_params[name], value, name)


def test_a_finished_state_trains_no_more_and_can_be_extended(tmp_path):
    state = tmp_path / 'run.state'
    first, _ = run(state, 3)
    again, _ = run(state, 3, seed=5)
    assert list(again) == list(first) and again.seconds == first.seconds
    longer, _ = run(state, 5)
    assert list(longer)[:3] == list(first) and len(longer) == 5


def test_the_state_file_is_written_whole_after_every_epoch(tmp_path):
    state = tmp_path / 'run.state'
    with pytest.raises(Interrupted):
        run(state, 4, stop_after=2)
    with zipfile.ZipFile(state) as zf:
        assert sorted(zf.namelist()) == [
            'adam.npz',
            'meta.json',
            'model.params',
        ]
    # no temporary file is left beside it
    assert [p.name for p in tmp_path.iterdir()] == ['run.state']


def test_a_state_of_another_run_is_refused_and_names_the_difference(tmp_path):
    state = tmp_path / 'run.state'
    run(state, 2)
    saved = state.read_bytes()
    with pytest.raises(TrainingStateError, match=r"lr 0\.01 there, 0\.02 here"):
        run(state, 4, lr=0.02)
    with pytest.raises(TrainingStateError, match='does not fit this model'):
        run(state, 4, num_hiddens=16)
    with pytest.raises(TrainingStateError, match='holds 2 epochs, more than'):
        run(state, 1)
    assert state.read_bytes() == saved  # nothing was overwritten
    state.write_bytes(b'not a zip')
    with pytest.raises(TrainingStateError, match='not a readable'):
        run(state, 4)


def test_a_run_neither_resumes_nothing_nor_overwrites_a_state(tmp_path):
    state_file = str(tmp_path / 'run.state')
    check_state_file(state_file, resume=False, restart='delete it')
    with pytest.raises(ValueError, match='--resume: no training state at'):
        check_state_file(state_file, resume=True, restart='delete it')
    open(state_file, 'wb').close()
    check_state_file(state_file, resume=True, restart='delete it')
    with pytest.raises(
        ValueError,
        match=r'run.state exists: a run was interrupted; add --resume to '
        r'continue it, or delete it',
    ):
        check_state_file(state_file, resume=False, restart='delete it')
