"""Checkpoints: round trips, old files, and files that do not fit."""

import json
from pathlib import Path

import numpy as onp
import pytest

from conftest import CPU, NUM_STEPS, PAIRS, tiny_config, tiny_data
from seq2seq_attention import build_seq2seq
from seq2seq_attention.checkpoint import (
    CheckpointError,
    load_checkpoint,
    load_parameters,
    save_checkpoint,
)
from seq2seq_attention.decoding import predict_s2s, translate_batch
from seq2seq_attention.training import evaluate_loss, train_s2s

DATA = Path(__file__).resolve().parent / 'data'


def test_a_round_trip_gives_identical_translations(overfit_model, tmp_path):
    net, src_vocab, tgt_vocab, _ = overfit_model
    config = tiny_config(src_vocab, tgt_vocab)
    path = save_checkpoint(
        tmp_path / 'model.s2s',
        net,
        config,
        src_vocab,
        tgt_vocab,
        info={'num_steps': NUM_STEPS},
    )
    # no temporary file left over
    assert [p.name for p in tmp_path.iterdir()] == ['model.s2s']
    net2, src2, tgt2, config2, info = load_checkpoint(path)
    assert config2 == config and info == {'num_steps': NUM_STEPS}
    for src, _ in PAIRS:
        a, wa = predict_s2s(
            net, src, src_vocab, tgt_vocab, NUM_STEPS, CPU, True
        )
        b, wb = predict_s2s(net2, src, src2, tgt2, NUM_STEPS, CPU, True)
        assert a == b
        # `net` runs compiled graphs, `net2` operator by operator: the same
        # parameters give the same weights up to float32 rounding
        onp.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)


def test_a_checkpoint_of_the_earlier_library_loads_and_translates_the_same():
    """Written before Seq2SeqConfig existed (tests/data/README.md)."""
    expected = json.loads((DATA / 'v1_checkpoint.json').read_text())
    net, src_vocab, tgt_vocab, config, info = load_checkpoint(
        DATA / 'v1_checkpoint.s2s'
    )
    assert (config.embed_size, config.num_hiddens, config.decoder) == (
        8,
        8,
        'attention',
    )
    translations, weights = translate_batch(
        net,
        expected['sources'],
        src_vocab,
        tgt_vocab,
        info['num_steps'],
        CPU,
        save_attention_weights=True,
    )
    assert translations == expected['translations']
    for w, w_expected in zip(weights, expected['weights']):
        onp.testing.assert_allclose(w, w_expected, rtol=1e-5, atol=1e-6)


def test_loading_into_the_wrong_model_fails_and_changes_nothing(
    overfit_model, tmp_path
):
    net, src_vocab, tgt_vocab, _ = overfit_model
    path = save_checkpoint(
        tmp_path / 'model.s2s',
        net,
        tiny_config(src_vocab, tgt_vocab),
        src_vocab,
        tgt_vocab,
    )
    # other num_hiddens: the first parameters fit, a later one does not
    other = build_seq2seq(tiny_config(src_vocab, tgt_vocab, num_hiddens=24))
    other.initialize()

    def go():  # the model's translation of 'go .', weights included
        return predict_s2s(
            other,
            'go .',
            src_vocab,
            tgt_vocab,
            NUM_STEPS,
            CPU,
            save_attention_weights=True,
        )

    before = go()
    with pytest.raises(CheckpointError, match='does not fit.*shape'):
        load_parameters(path, other)
    after = go()
    assert after[0] == before[0]
    onp.testing.assert_array_equal(after[1], before[1])
    plain = build_seq2seq(tiny_config(src_vocab, tgt_vocab, decoder='plain'))
    with pytest.raises(CheckpointError, match='does not fit'):
        load_parameters(path, plain)
    smaller = type(src_vocab).from_idx_to_token(src_vocab.idx_to_token[:-1])
    with pytest.raises(CheckpointError, match='src_vocab'):
        load_parameters(path, net, smaller, tgt_vocab)


def test_unreadable_checkpoints_are_named(tmp_path):
    bad = tmp_path / 'bad.s2s'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(CheckpointError, match='bad.s2s'):
        load_checkpoint(bad)


def test_training_continues_from_a_loaded_checkpoint(tmp_path):
    data_iter, src_vocab, tgt_vocab = tiny_data()
    config = tiny_config(
        src_vocab, tgt_vocab, embed_size=4, num_hiddens=8, num_layers=1
    )
    net = build_seq2seq(config)
    train_s2s(net, data_iter, 0.01, 20, tgt_vocab, CPU)
    path = save_checkpoint(
        tmp_path / 'model.s2s', net, config, src_vocab, tgt_vocab
    )
    loaded = load_checkpoint(path)
    before = evaluate_loss(loaded.net, data_iter, loaded.tgt_vocab, CPU)
    history = train_s2s(
        loaded.net, data_iter, 0.01, 1, loaded.tgt_vocab, CPU, reinit=False
    )
    fresh = train_s2s(
        load_checkpoint(path).net, data_iter, 0.01, 1, loaded.tgt_vocab, CPU
    )
    # the first epoch starts where the checkpoint ended, below a fresh start
    assert history[0] < fresh[0]
    assert abs(history[0] - before) < 0.5 * abs(fresh[0] - before)


def test_a_bidirectional_model_round_trips(tmp_path):
    data_iter, src_vocab, tgt_vocab = tiny_data()
    config = tiny_config(src_vocab, tgt_vocab, num_layers=1, bidirectional=True)
    net = build_seq2seq(config)
    train_s2s(net, data_iter, 0.01, 5, tgt_vocab, CPU)
    path = save_checkpoint(
        tmp_path / 'bi.s2s', net, config, src_vocab, tgt_vocab
    )
    loaded = load_checkpoint(path)
    assert loaded.config == config and loaded.config.bidirectional
    sentences = [src for src, _ in PAIRS]
    (a, wa), (b, wb) = [
        translate_batch(
            model,
            sentences,
            src_vocab,
            tgt_vocab,
            NUM_STEPS,
            CPU,
            save_attention_weights=True,
        )
        for model in (net, loaded.net)
    ]
    assert a == b
    for x, y in zip(wa, wb):
        onp.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
