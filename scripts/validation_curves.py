"""Chapter 6's choices, made on validation sentences: depth and encoder.

Trains the attention model of chapter 5's real-sentence setup (10,000 pairs of
the 1,000 commonest words, 64 units, batches of 128, learning rate 0.005) with
one and two LSTM layers, a one-directional and a bidirectional encoder, from
three seeds each, for 20 epochs. Every 2 epochs it translates 500 validation
sentences (held out, none in the test set, 125 per length bucket) and records
their alignment correlation and corpus BLEU. The test set is never read.

    .venv/bin/python scripts/validation_curves.py   # about 30 min on 2 cores

writes book/data/validation_curves.json, which chapter 6 reads.
"""

import json
import os
import sys
import time

import seq2seq_attention  # noqa: F401  (first: it readies MXNet)
import numpy as onp

from seq2seq_attention import (
    build_seq2seq,
    preprocess_nmt,
    read_data_nmt,
    set_seed,
    split_pairs,
    tokenize_nmt,
    try_gpu,
)
from seq2seq_attention.data import build_data_iter
from seq2seq_attention.decoding import translate_batch
from seq2seq_attention.experiment import run_in_processes
from seq2seq_attention.metrics import alignment_correlation, corpus_bleu
from seq2seq_attention.models import Seq2SeqConfig
from seq2seq_attention.subsets import by_length, frequent_word_pairs
from seq2seq_attention.training import train_s2s
from seq2seq_attention.utils import write_atomically

BUCKETS = [(1, 5), (6, 8), (9, 11), (12, 19)]
OUT = os.path.join(
    os.path.dirname(__file__), '..', 'book', 'data', 'validation_curves.json'
)


def splits():
    """Chapter 5's training pairs and a validation set disjoint from its test.

    The held-out pool is chapter 5's with the 3,000 pairs after it: the same
    test set, and enough long sentences left for validation.
    """
    source, target = tokenize_nmt(preprocess_nmt(read_data_nmt()))
    pairs = frequent_word_pairs(source, target, num_words=1000, max_len=19)
    train, held_out = split_pairs(
        [s for s, _ in pairs],
        [t for _, t in pairs],
        num_train=10000,
        num_test=18000,
        seed=0,
    )
    test = by_length(held_out, BUCKETS, 250)
    valid = by_length(held_out, BUCKETS, 125, exclude=[s for s, _ in test])
    return train, valid


def curve(seed, num_layers, bidirectional, num_epochs=20, every=2):
    """Train one model; its validation alignment and BLEU every few epochs."""
    train, valid = splits()
    valid_src = [' '.join(s) for s, _ in valid]
    valid_ref = [' '.join(t) for _, t in valid]
    set_seed(seed)
    data_iter, src_vocab, tgt_vocab = build_data_iter(
        [s for s, _ in train],
        [t for _, t in train],
        batch_size=128,
        num_steps=20,
        bucket=4,
        length_step=5,
        min_freq=1,
    )
    config = Seq2SeqConfig(
        len(src_vocab),
        len(tgt_vocab),
        embed_size=64,
        num_hiddens=64,
        num_layers=num_layers,
        decoder='attention',
        bidirectional=bidirectional,
    )
    net = build_seq2seq(config)
    points = []

    def progress(epoch, loss):
        if epoch % every == 0:
            translations, weights = translate_batch(
                net,
                valid_src,
                src_vocab,
                tgt_vocab,
                20,
                try_gpu(),
                save_attention_weights=True,
            )
            points.append(
                dict(
                    epoch=epoch,
                    loss=loss,
                    alignment=float(
                        onp.mean([alignment_correlation(w) for w in weights])
                    ),
                    bleu=corpus_bleu(translations, valid_ref),
                )
            )

    history = train_s2s(
        net,
        data_iter,
        0.005,
        num_epochs,
        tgt_vocab,
        try_gpu(),
        static_alloc=False,
        progress=progress,
    )
    return dict(
        seed=seed,
        num_layers=num_layers,
        bidirectional=bidirectional,
        seconds_per_epoch=sum(history.seconds) / num_epochs,
        points=points,
    )


def main():
    from validation_curves import curve as importable_curve  # for workers

    jobs = [
        dict(seed=seed, num_layers=num_layers, bidirectional=bi)
        for num_layers in (1, 2)
        for bi in (False, True)
        for seed in (0, 1, 2)
    ]
    start = time.perf_counter()
    runs = run_in_processes(importable_curve, jobs)
    result = dict(
        command='.venv/bin/python scripts/validation_curves.py', runs=runs
    )

    def write(tmp):
        with open(tmp, 'w') as f:
            json.dump(result, f, indent=1)

    write_atomically(OUT, write)  # never a half-written file
    for run in runs:
        last = run['points'][-1]
        print(
            f"{run['num_layers']} layer(s), bidirectional "
            f"{run['bidirectional']!s:5}, seed {run['seed']}: alignment "
            f"{last['alignment']:+.3f}, BLEU {last['bleu']:.1f}, "
            f"{run['seconds_per_epoch']:.1f} s/epoch"
        )
    print(f'{time.perf_counter() - start:.0f} s', file=sys.stderr)


if __name__ == '__main__':
    main()
