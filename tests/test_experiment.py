"""Repeated runs: the copy task, runs in worker processes."""

import os
import random
import string

import mxnet as mx
import numpy as onp
import pytest

from seq2seq_attention.experiment import (
    Run,
    run_in_processes,
    train_and_translate,
)
from seq2seq_attention.synthetic import copy_task

CPU = mx.cpu()


def test_copy_task_draws_lengths_and_symbols_in_range_and_copies_or_reverses():
    source, target = copy_task(300, 3, 9, num_symbols=4, seed=1)
    assert len(source) == len(target) == 300
    assert {len(s) for s in source} == set(range(3, 10))  # every length drawn
    assert {t for s in source for t in s} == set('abcd')
    assert target == source and target[0] is not source[0]
    _, reversed_target = copy_task(
        300, 3, 9, num_symbols=4, reverse=True, seed=1
    )
    assert reversed_target == [s[::-1] for s in source]


def test_copy_task_repeats_with_its_seed_and_leaves_the_global_seeds_alone():
    state = random.getstate()
    assert copy_task(20, 5, 8, seed=3) == copy_task(20, 5, 8, seed=3)
    assert copy_task(20, 5, 8, seed=3) != copy_task(20, 5, 8, seed=4)
    assert random.getstate() == state


@pytest.mark.parametrize(
    'kwargs, message',
    [
        (dict(num_pairs=-1, min_len=1, max_len=2), 'num_pairs'),
        (dict(num_pairs=1, min_len=0, max_len=2), 'min_len'),
        (dict(num_pairs=1, min_len=5, max_len=4), 'max_len'),
        (
            dict(num_pairs=1, min_len=1, max_len=2, num_symbols=27),
            'num_symbols',
        ),
        (dict(num_pairs=1, min_len=1, max_len=2, seed=-1), 'seed'),
    ],
)
def test_copy_task_refuses_bad_arguments_by_name(kwargs, message):
    with pytest.raises(ValueError, match=message):
        copy_task(**kwargs)


def test_jobs_run_in_other_processes_and_come_back_in_order():
    jobs = [dict(num_pairs=3, min_len=2, max_len=4, seed=s) for s in (5, 6, 7)]
    assert run_in_processes(copy_task, jobs, num_workers=2) == [
        copy_task(**j) for j in jobs
    ]
    pids = run_in_processes(os.getpid, [{}, {}])
    assert (
        len(set(pids)) == 2 and os.getpid() not in pids
    )  # a fresh process per job
    assert run_in_processes(copy_task, []) == []


def test_a_job_error_is_raised_here_and_an_unimportable_function_refused():
    with pytest.raises(ValueError, match='num_pairs'):
        run_in_processes(
            copy_task,
            [
                dict(num_pairs=1, min_len=1, max_len=2),
                dict(num_pairs=-1, min_len=1, max_len=2),
            ],
        )
    with pytest.raises(ValueError, match='import'):
        run_in_processes(lambda: 1, [{}])
    with pytest.raises(ValueError, match='num_workers'):
        run_in_processes(copy_task, [{}], num_workers=0)


def small_run(**kwargs):
    """A one-epoch run on 40 copy pairs."""
    source, target = copy_task(40, 2, 6, num_symbols=5, seed=0)
    test_source = [
        ' '.join(s) for s in copy_task(7, 2, 6, num_symbols=5, seed=1)[0]
    ]
    return dict(
        train=list(zip(source, target)),
        test_source=test_source,
        num_epochs=2,
        embed_size=8,
        num_hiddens=8,
        num_layers=1,
        batch_size=8,
        num_steps=7,
        **kwargs,
    )


def test_a_run_trains_translates_and_repeats_exactly_in_a_worker_process():
    run = train_and_translate(
        seed=0, decoder='attention', beam_size=2, **small_run()
    )
    assert isinstance(run, Run) and (run.seed, run.decoder, run.attention) == (
        0,
        'attention',
        'mlp',
    )
    assert len(run.history) == 2 and all(onp.isfinite(run.history))
    assert (
        len(run.translations)
        == len(run.weights)
        == len(run.beam_translations)
        == 7
    )
    for translation, weights, source in zip(
        run.translations, run.weights, small_run()['test_source']
    ):
        # one row per output token and <eos>,
        # one column per source token and <eos>
        assert weights.shape[1] == len(source.split()) + 1
        assert weights.shape[0] <= len(translation.split()) + 1
        assert set(translation.split()) <= set(string.ascii_lowercase[:5]) | {
            '<unk>',
            '<pad>',
            '<bos>',
        }
    assert run.num_params > 0 and run.seconds_per_epoch > 0
    plain = train_and_translate(seed=0, decoder='plain', **small_run())
    assert plain.weights is None and plain.beam_translations is None
    assert plain.num_params < run.num_params
    # in worker processes, side by side:
    # the same losses and translations as here
    jobs = [
        dict(seed=0, decoder='attention', beam_size=2, **small_run()),
        dict(seed=1, decoder='attention', beam_size=2, **small_run()),
    ]
    here, other_seed = run_in_processes(train_and_translate, jobs)
    assert here.history == run.history and here.translations == run.translations
    assert here.beam_translations == run.beam_translations
    assert other_seed.history != run.history


def test_a_run_saves_the_model_it_translated_with(tmp_path):
    from seq2seq_attention.checkpoint import load_checkpoint
    from seq2seq_attention.decoding import translate_batch

    path = tmp_path / 'run.s2s'
    run = train_and_translate(
        seed=0, decoder='attention', save=path, **small_run()
    )
    ckpt = load_checkpoint(path)
    assert ckpt.info == {'num_steps': 7} and ckpt.config.num_layers == 1
    translations, _ = translate_batch(
        ckpt.net,
        small_run()['test_source'],
        ckpt.src_vocab,
        ckpt.tgt_vocab,
        ckpt.info['num_steps'],
        CPU,
    )
    assert translations == run.translations
