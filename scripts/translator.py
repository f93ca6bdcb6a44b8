"""The long recipe: the best translator this library trains in two hours here.

Chapter 6's translator learns from 10,000 pairs of common words in a few
minutes. This recipe trains the same kind of model, an attention decoder over
a bidirectional encoder, larger (128 units, two layers) and on the whole
corpus: every pair of at most 19 tokens a side, but for a validation and a
test set of sentences held out (no source sentence of either is in the
training pairs, nor in the other set). After every epoch it translates the
validation sentences; the epoch with the best validation BLEU is the model
kept. Only that model reads the test set: greedy and beam search, corpus BLEU
and chrF with 95% bootstrap intervals (sacrebleu), and BLEU by source length.

    make translator                    # .venv/bin/python scripts/translator.py

writes translator/best.s2s (the chosen model: `seq2seq-attention translate
--load translator/best.s2s ...`) and book/data/translator.json (its scores,
which the README and chapter 6 quote). The training state is kept in
translator/ after every epoch: an interrupted run (Ctrl-C) continues with
--resume to the same numbers. It trains on both cores of a machine like this
one: two worker processes (`distributed.py`), each computing half of every
batch's gradient; worker 0 validates, keeps the files and tests (--workers 1
trains in this process). The defaults are the recipe; the other options exist
for a smaller run (the tests use them).
"""

import argparse
import contextlib
import json
import os
import signal
import sys
import time

import seq2seq_attention  # noqa: F401  (first: it readies MXNet)
import mxnet as mx
from mxnet import npx

from seq2seq_attention import (
    ShardedBatches,
    build_seq2seq,
    preprocess_nmt,
    read_data_nmt,
    set_seed,
    split_pairs,
    tokenize_nmt,
    try_gpu,
)
from seq2seq_attention.checkpoint import load_checkpoint, save_checkpoint
from seq2seq_attention.data import build_data_iter
from seq2seq_attention.decoding import beam_search_batch, translate_batch
from seq2seq_attention.distributed import (
    is_worker,
    launch_local,
    worker_main,
)
from seq2seq_attention.metrics import corpus_bleu, corpus_scores
from seq2seq_attention.models import Seq2SeqConfig
from seq2seq_attention.resume import check_state_file
from seq2seq_attention.subsets import bucket_of
from seq2seq_attention.training import train_s2s
from seq2seq_attention.utils import write_atomically

BUCKETS = [(1, 5), (6, 8), (9, 11), (12, 19)]  # source tokens, as chapter 6
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
NUM_STEPS = 20  # at most 19 tokens and <eos>


def parse_args(argv=None):
    """The recipe's options; the defaults are the recipe."""
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add('--epochs', type=int, default=7)
    add('--embed-size', type=int, default=128)
    add('--num-hiddens', type=int, default=128)
    add('--num-layers', type=int, default=2)
    add('--batch-size', type=int, default=128)
    add('--lr', type=float, default=0.005)
    add('--min-freq', type=int, default=5, help='rarer words are <unk>')
    add('--held-out', type=int, default=1000, help='validation sentences')
    add('--test', type=int, default=2000, help='test sentences')
    add('--beam', type=int, default=4, help='beam width (alpha 0.75)')
    add('--max-pairs', type=int, help='the corpus\'s first pairs only')
    add('--seed', type=int, default=0)
    add(
        '--workers',
        type=int,
        default=2,
        help='processes training one model together, a core each',
    )
    add('--data', help='fra-eng.zip (default: $FRA_ENG_ZIP, data/, download)')
    add(
        '--out',
        default=os.path.join(ROOT, 'translator'),
        help='directory of the model and the training state',
    )
    add(
        '--results',
        default=os.path.join(ROOT, 'book', 'data', 'translator.json'),
    )
    add(
        '--resume',
        action='store_true',
        help='continue the interrupted run in --out',
    )
    args = parser.parse_args(argv)
    for name in (
        'epochs',
        'embed_size',
        'num_hiddens',
        'num_layers',
        'batch_size',
        'min_freq',
        'held_out',
        'test',
        'beam',
        'workers',
    ):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be at least 1')
    if args.max_pairs is not None and args.max_pairs < 1:
        parser.error('--max-pairs must be at least 1')
    return args


def corpus_splits(args):
    """Training pairs, validation and test pairs: no source in two of them."""
    source, target = tokenize_nmt(preprocess_nmt(read_data_nmt(args.data)))
    pairs = [
        (s, t)
        for s, t in zip(source, target)
        if len(s) < NUM_STEPS and len(t) < NUM_STEPS
    ]
    pairs = pairs[: args.max_pairs]
    num_held_out = args.held_out + args.test
    # the pairs after the training ones hold many of its sources again (a
    # sentence with several translations), and those are lost to both:
    # leave the fewest pairs after the training ones that hold enough new
    # sources
    for times in (1.5, 2, 3, 5, 10):
        try:
            train, held_out = split_pairs(
                [s for s, _ in pairs],
                [t for _, t in pairs],
                num_train=max(len(pairs) - int(times * num_held_out), 0),
                num_test=num_held_out,
                seed=args.seed,
            )
            return train, held_out[: args.held_out], held_out[args.held_out :]
        except ValueError:
            continue
    sys.exit(
        f'{len(pairs)} pairs hold too few distinct source sentences '
        f'for {num_held_out} held-out ones: use fewer or more pairs'
    )


def joined(pairs):
    """Sources and references of `pairs` as strings."""
    return [' '.join(s) for s, _ in pairs], [' '.join(t) for _, t in pairs]


def read_log(path, resume):
    """The epochs a resumed run has validated already (none for a new run)."""
    if not resume or not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)


def write_json(path, data):
    """Write `data` to `path` as JSON, whole or not at all."""

    def write(tmp):
        with open(tmp, 'w') as f:
            json.dump(data, f, indent=1, ensure_ascii=False)
            f.write('\n')

    write_atomically(path, write)


@contextlib.contextmanager
def interrupt_deferred():
    """Hold Ctrl-C (SIGINT) back until the block ends, then raise it."""
    pressed = []
    previous = signal.signal(signal.SIGINT, lambda *_: pressed.append(True))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        raise KeyboardInterrupt


def train(args, train_pairs, valid, best_path, log_path, state_file, kv):
    """Train, validating every epoch and keeping the best model; its log.

    With a distributed kvstore `kv`, this worker trains on its share of every
    batch, and only worker 0 validates and writes.
    """
    valid_src, valid_ref = joined(valid)
    set_seed(args.seed)
    data_iter, src_vocab, tgt_vocab = build_data_iter(
        [s for s, _ in train_pairs],
        [t for _, t in train_pairs],
        args.batch_size,
        NUM_STEPS,
        bucket=4,
        length_step=5,
        min_freq=args.min_freq,
    )
    config = Seq2SeqConfig(
        len(src_vocab),
        len(tgt_vocab),
        embed_size=args.embed_size,
        num_hiddens=args.num_hiddens,
        num_layers=args.num_layers,
        decoder='attention',
        bidirectional=True,
    )
    net = build_seq2seq(config)
    log = read_log(log_path, args.resume)
    last = time.perf_counter()
    if kv is not None:
        data_iter = ShardedBatches(data_iter, kv.rank, kv.num_workers)

    def progress(epoch, loss):
        nonlocal last
        if kv is not None and kv.rank > 0:
            return
        # the epoch's training state is saved: it is validated, its model
        # kept if the best, its line logged before a Ctrl-C stops the run
        with interrupt_deferred():
            translations, _ = translate_batch(
                net, valid_src, src_vocab, tgt_vocab, NUM_STEPS, try_gpu()
            )
            bleu = corpus_bleu(translations, valid_ref)
            now = time.perf_counter()
            if not log or bleu > max(entry['valid_bleu'] for entry in log):
                save_checkpoint(
                    best_path,
                    net,
                    config,
                    src_vocab,
                    tgt_vocab,
                    info={'num_steps': NUM_STEPS, 'epoch': epoch},
                )
            log.append(
                dict(
                    epoch=epoch, loss=loss, valid_bleu=bleu, seconds=now - last
                )
            )
            write_json(log_path, log)
        last = now
        print(
            f'epoch {epoch:2d}/{args.epochs}  loss {loss:.3f}  '
            f'validation BLEU {bleu:.1f}  ({now - start:.0f} s)',
            flush=True,
        )

    start = time.perf_counter()
    history = train_s2s(
        net,
        data_iter,
        args.lr,
        args.epochs,
        tgt_vocab,
        try_gpu(),
        static_alloc=False,
        kvstore=kv,
        progress=progress,
        state_file=state_file,
    )
    return log, history, len(src_vocab), len(tgt_vocab)


def bleu_by_length(test, translations, references):
    """Corpus BLEU of each source-length bucket: `{bucket: [BLEU, size]}`."""
    scores = {}
    for b, (lo, hi) in enumerate(BUCKETS):
        chosen = [
            i for i, (s, _) in enumerate(test) if bucket_of(s, BUCKETS) == b
        ]
        if chosen:
            scores[f'{lo}-{hi}'] = [
                corpus_bleu(
                    [translations[i] for i in chosen],
                    [references[i] for i in chosen],
                ),
                len(chosen),
            ]
    return scores


def evaluate(best_path, test, beam):
    """The chosen model on the test set, greedy and by beam search."""
    model = load_checkpoint(best_path)
    test_src, test_ref = joined(test)
    greedy, _ = translate_batch(
        model.net,
        test_src,
        model.src_vocab,
        model.tgt_vocab,
        NUM_STEPS,
        try_gpu(),
    )
    beamed, _ = beam_search_batch(
        model.net,
        test_src,
        model.src_vocab,
        model.tgt_vocab,
        NUM_STEPS,
        try_gpu(),
        beam_size=beam,
        alpha=0.75,
    )
    results = {}
    for name, translations in [('greedy', greedy), (f'beam {beam}', beamed)]:
        scores = corpus_scores(translations, test_ref)
        results[name] = dict(
            {
                metric: dict(score=s, half_width=h, signature=sig)
                for metric, (s, h, sig) in scores.items()
            },
            by_length=bleu_by_length(test, translations, test_ref),
            examples=[
                dict(source=s, reference=r, translation=t)
                for s, r, t in list(zip(test_src, test_ref, translations))[:10]
            ],
        )
    return model.info['epoch'], results


def print_interrupted(out):
    """Tell the reader where the interrupted run is and how to continue."""
    print(
        f'interrupted: the state after the last whole epoch is in {out}; '
        f'continue with the same options and --resume',
        file=sys.stderr,
    )


def main(argv=None):
    args = parse_args(argv)
    best_path = os.path.join(args.out, 'best.s2s')
    log_path = os.path.join(args.out, 'validation.json')
    state_file = os.path.join(args.out, 'training.state')
    argv = sys.argv[1:] if argv is None else argv
    if not is_worker():  # the workers were started after this check
        try:
            check_state_file(state_file, args.resume, f'delete {args.out}')
        except ValueError as error:
            sys.exit(str(error))
        if args.workers > 1:  # this process only starts and waits for them
            command = [sys.executable, os.path.abspath(__file__), *argv]
            status = launch_local(command, args.workers)
            if status == 130:
                print_interrupted(args.out)
            sys.exit(status)
    kv = mx.kv.create('dist_sync') if is_worker() else None
    first = kv is None or kv.rank == 0  # the worker that validates and writes
    if not first:  # Ctrl-C is worker 0's to handle (it may be validating);
        # the launcher stops the others once it has ended
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    train_pairs, valid, test = corpus_splits(args)
    if first:
        print(
            f'{len(train_pairs)} training pairs, {len(valid)} validation and '
            f'{len(test)} test sentences',
            flush=True,
        )
    try:  # the training state stays until the scores are written
        log, history, src_size, tgt_size = train(
            args, train_pairs, valid, best_path, log_path, state_file, kv
        )
        if not first:
            return
        testing = time.perf_counter()
        epoch, results = evaluate(best_path, test, args.beam)
        testing = time.perf_counter() - testing
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # one Ctrl-C is enough
        # MXNet's queued work done before the process ends; a worker's may
        # wait for gradients that will not come, and it ends at once instead
        # (worker_main): its files were written whole, before the Ctrl-C
        if kv is None:
            npx.waitall()
            print_interrupted(args.out)  # (else the launcher says it)
        sys.exit(130)  # worker 0 at once: the others may be gone
    command = ' '.join(['scripts/translator.py'] + argv)
    write_json(
        args.results,
        dict(
            command=command.replace(' --resume', ''),
            pairs=dict(
                train=len(train_pairs), valid=len(valid), test=len(test)
            ),
            vocabulary=dict(source=src_size, target=tgt_size),
            model=dict(
                embed_size=args.embed_size,
                num_hiddens=args.num_hiddens,
                num_layers=args.num_layers,
                bidirectional=True,
            ),
            # training and validation (over every resumed part), then the test
            hours=sum(entry['seconds'] for entry in log) / 3600,
            test_minutes=testing / 60,
            tokens_per_sec=history.tokens_per_sec,
            chosen_epoch=epoch,
            epochs=log,
            test=results,
        ),
    )
    os.remove(state_file)
    for name, scores in results.items():
        print(
            f'test, {name}: '
            + ', '.join(
                f'{metric} {scores[metric]["score"]:.1f} ± '
                f'{scores[metric]["half_width"]:.1f}'
                for metric in ('BLEU', 'chrF')
            )
        )
    print(f'model: {best_path} (epoch {epoch}); scores: {args.results}')


if __name__ == '__main__':
    worker_main(main)
