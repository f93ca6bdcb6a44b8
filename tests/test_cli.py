"""The command line: train, save, translate from the checkpoint, and errors as one line."""
import mxnet as mx
import pytest

from seq2seq_attention.checkpoint import load_checkpoint
from seq2seq_attention.cli import main
from seq2seq_attention.decoding import beam_search


def test_train_save_and_translate(corpus_path, tmp_path, capsys):
    ckpt = tmp_path / 'model.s2s'
    assert main(['train', '--epochs', '2', '--num-examples', '128', '--save', str(ckpt)]) == 0
    out = capsys.readouterr().out
    assert 'epoch    2/2  loss' in out and 'tokens/sec on cpu(0)' in out
    assert "i'm home . =>" in out and f'saved {ckpt}' in out
    assert main(['translate', '--checkpoint', str(ckpt), 'Go .', 'I lost.', '--beam', '3']) == 0
    # one line per sentence, what beam search gives sentence by sentence (alpha 0.75 default)
    c = load_checkpoint(ckpt)
    assert capsys.readouterr().out.splitlines() == [
        beam_search(c.net, s, c.src_vocab, c.tgt_vocab, c.info['num_steps'], mx.cpu(),
                    beam_size=3, alpha=0.75)[0] for s in ('Go .', 'I lost.')]
    assert main(['translate', '--checkpoint', str(ckpt), 'Go .', '--beam', '0']) == 2
    assert 'beam_size must be an int >= 1, got 0' in capsys.readouterr().err


def test_errors_are_one_line_with_status_2(tmp_path, capsys):
    assert main(['translate', '--checkpoint', str(tmp_path / 'missing.s2s'), 'go .']) == 2
    err = capsys.readouterr().err
    assert err.startswith('error: ') and 'missing.s2s' in err and len(err.splitlines()) == 1
    with pytest.raises(SystemExit):
        main(['train', '--decoder', 'transformer'])
