"""The command line: train, save, translate from the checkpoint, and errors as one line."""
import pytest

from seq2seq_attention.cli import main


def test_train_save_and_translate(corpus_path, tmp_path, capsys):
    ckpt = tmp_path / 'model.s2s'
    assert main(['train', '--epochs', '2', '--num-examples', '128', '--save', str(ckpt)]) == 0
    out = capsys.readouterr().out
    assert 'epoch    2/2  loss' in out and 'tokens/sec on cpu(0)' in out
    assert "i'm home . =>" in out and f'saved {ckpt}' in out
    assert main(['translate', '--checkpoint', str(ckpt), 'Go .', 'I lost.', '--beam', '3']) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_errors_are_one_line_with_status_2(tmp_path, capsys):
    assert main(['translate', '--checkpoint', str(tmp_path / 'missing.s2s'), 'go .']) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'missing.s2s' in err and len(err.splitlines()) == 1
    with pytest.raises(SystemExit):
        main(['train', '--decoder', 'transformer'])
