"""Command line: train the chapter's model, translate, save/load checkpoints.

    seq2seq-attention train [--epochs 200] [--decoder attention|plain]
                            [--save model.s2s [--resume]]
    seq2seq-attention translate --checkpoint model.s2s [--beam 4 --alpha 0.75]
                                "I'm home ."
"""
import argparse
import os
import sys

import mxnet as mx

from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .checks import check_float, check_int
from .corpus import CorpusError, CorpusNotFoundError, read_data_nmt
from .decoding import beam_search_batch, translate_batch
from .experiment import train_model
from .metrics import bleu
from .models import ATTENTIONS, DECODERS
from .resume import check_state_file
from .text import preprocess_nmt, tokenize_nmt
from .utils import try_all_gpus

# The sentences the book translates:
# the original chapter's, then d2l 1.0's pairs
CHAPTER_SENTENCES = ['Go .', 'Wow !', "I'm OK .", 'I won !']
D2L_PAIRS = [('go .', 'va !'), ('i lost .', "j'ai perdu ."),
             ("he's calm .", 'il est calme .'),
             ("i'm home .", 'je suis chez moi .')]


def _contexts(name):
    """Map --ctx to contexts: 'cpu', 'gpu' (the first GPU) or 'all-gpus'."""
    if name == 'cpu':
        return [mx.cpu()]
    gpus = try_all_gpus()
    if gpus[0].device_type != 'gpu':
        raise SystemExit(f'--ctx {name}: no GPU is visible to MXNet')
    return gpus if name == 'all-gpus' else gpus[:1]


def _translate(net, sentences, src_vocab, tgt_vocab, num_steps, ctx, beam,
               alpha):
    """Translate sentences with greedy decoding (beam 1) or beam search."""
    if beam == 1:
        return translate_batch(net, sentences, src_vocab, tgt_vocab,
                               num_steps, ctx)[0]
    return beam_search_batch(net, sentences, src_vocab, tgt_vocab, num_steps,
                             ctx, beam_size=beam, alpha=alpha)[0]


def _progress(epochs):
    """Report training: a bar on a terminal, else a line every 10 epochs."""
    if sys.stderr.isatty():
        import tqdm
        bar = tqdm.tqdm(total=epochs, unit='epoch', file=sys.stderr)

        def progress(epoch, loss):
            bar.set_postfix(loss=f'{loss:.3f}', refresh=False)
            bar.update()
            if epoch == epochs:
                bar.close()
        return progress

    def progress(epoch, loss):
        if epoch % 10 == 0 or epoch == epochs:
            print(f'epoch {epoch:4d}/{epochs}  loss {loss:.3f}', flush=True)
    return progress


def _state_file(args):
    """Where `train --save PATH` keeps its training state: PATH.state."""
    if not args.save:
        if args.resume:
            raise ValueError('--resume needs the --save PATH of the run to '
                             'continue')
        return None
    state_file = args.save + '.state'
    check_state_file(state_file, args.resume, 'delete the file')
    return state_file


def cmd_train(args):
    """Train the chapter's model, print its translations, save it if asked.

    With --save PATH the training state is kept in PATH.state after every
    epoch; --resume continues an interrupted run from there, to the same
    numbers. The state is removed once the checkpoint is written.
    """
    ctxs = _contexts(args.ctx)
    state_file = _state_file(args)
    source, target = tokenize_nmt(preprocess_nmt(read_data_nmt(args.data)),
                                  args.num_examples)
    net, config, src_vocab, tgt_vocab, history = train_model(
        args.seed, list(zip(source, target)), args.batch_size, args.num_steps,
        args.lr, args.epochs, min_freq=2, progress=_progress(args.epochs),
        ctx=ctxs, embed_size=args.embed_size, num_hiddens=args.num_hiddens,
        num_layers=args.num_layers, dropout=args.dropout,
        decoder=args.decoder, attention=args.attention,
        bidirectional=args.bidirectional, state_file=state_file)
    print(f'loss {history[-1]:.3f}, {history.tokens_per_sec:.1f} tokens/sec '
          f'on {", ".join(str(c) for c in ctxs)}')
    sentences = CHAPTER_SENTENCES + [eng for eng, _ in D2L_PAIRS]
    translations = _translate(net, sentences, src_vocab, tgt_vocab,
                              args.num_steps, ctxs, args.beam, args.alpha)
    for sentence, translation in zip(CHAPTER_SENTENCES, translations):
        print(f'{sentence} => {translation}')
    for (eng, fra), translation in zip(D2L_PAIRS,
                                       translations[len(CHAPTER_SENTENCES):]):
        print(f'{eng} => {translation}, bleu {bleu(translation, fra, k=2):.3f}')
    if args.save:
        save_checkpoint(args.save, net, config, src_vocab, tgt_vocab,
                        info={'num_steps': args.num_steps,
                              'epochs': args.epochs})
        os.remove(state_file)
        print(f'saved {args.save}')


def cmd_translate(args):
    """Load a checkpoint and translate the given sentences."""
    ctxs = _contexts(args.ctx)
    ckpt = load_checkpoint(args.checkpoint, ctxs)
    num_steps = ckpt.info.get('num_steps')
    if (isinstance(num_steps, bool) or not isinstance(num_steps, int)
            or num_steps < 1):
        raise CheckpointError(f'{args.checkpoint}: its info holds no '
                              f'num_steps (a positive int), got {num_steps!r}')
    translations = _translate(ckpt.net, args.sentences, ckpt.src_vocab,
                              ckpt.tgt_vocab, num_steps, ctxs, args.beam,
                              args.alpha)
    print('\n'.join(translations))


class _Parser(argparse.ArgumentParser):
    """A parser whose errors are one line on stderr (exit status 2)."""

    def error(self, message):
        """Print `prog: error: message` and exit with status 2."""
        self.exit(2, f'{self.prog}: error: {message}\n')


def _number(check, **bounds):
    """An argparse type: a number `check` (`check_int`, `check_float`) takes."""
    kind = int if check is check_int else float

    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'{text!r} is not {"an int" if kind is int else "a number"}'
            ) from None
        try:
            return check('the value', value, **bounds)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    convert.__name__ = kind.__name__  # argparse names the type in messages
    return convert


def build_parser():
    """The argument parser for both commands."""
    parser = _Parser(prog='seq2seq-attention',
                     description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True,
                                parser_class=_Parser)
    train = sub.add_parser(
        'train', help="train the chapter's model and translate its sentences")
    positive = _number(check_int, low=1)
    train.add_argument('--epochs', type=positive, default=200)
    train.add_argument('--lr', type=_number(check_float, low=0, low_open=True),
                       default=0.005)
    train.add_argument('--batch-size', type=positive, default=64)
    train.add_argument('--num-steps', type=positive, default=10)
    train.add_argument('--num-examples', type=positive, default=600)
    train.add_argument('--embed-size', type=positive, default=32)
    train.add_argument('--num-hiddens', type=positive, default=32)
    train.add_argument('--num-layers', type=positive, default=2)
    train.add_argument('--dropout', default=0.0,
                       type=_number(check_float, low=0, high=1, high_open=True))
    train.add_argument('--decoder', choices=list(DECODERS), default='attention')
    train.add_argument('--attention', choices=ATTENTIONS, default='mlp')
    train.add_argument('--bidirectional', action='store_true',
                       help='an encoder that reads both ways (Bahdanau et al.)')
    train.add_argument('--data', help='fra-eng.zip to use (default: '
                                      '$FRA_ENG_ZIP, data/, download)')
    train.add_argument('--save', help='write a checkpoint here after training '
                       '(and the training state to SAVE.state every epoch)')
    train.add_argument('--resume', action='store_true',
                       help='continue the interrupted run of --save SAVE '
                            '(give the same other arguments)')
    train.add_argument('--seed', default=0,
                       type=_number(check_int, low=0, high=2 ** 32 - 1))
    translate = sub.add_parser(
        'translate', help='translate sentences with a saved checkpoint')
    translate.add_argument('--checkpoint', required=True)
    translate.add_argument('sentences', nargs='+')
    for p in (train, translate):
        p.add_argument('--ctx', choices=['cpu', 'gpu', 'all-gpus'],
                       default='cpu')
        p.add_argument('--beam', type=positive, default=1,
                       help='beam width (1: greedy)')
        p.add_argument('--alpha', type=_number(check_float), default=0.75,
                       help='length penalty for --beam > 1')
    return parser


def main(argv=None):
    """Run the command line; an error is one line, with exit status 2.

    An error the library foresees prints its message; anything else (a bug, or
    MXNet's own error) prints its type and first line: never a traceback.
    """
    args = build_parser().parse_args(argv)
    try:
        (cmd_train if args.command == 'train' else cmd_translate)(args)
    except KeyboardInterrupt:
        if args.command == 'train' and args.save:
            print(f'interrupted; the last finished epoch is kept in '
                  f'{args.save}.state: add --resume to continue',
                  file=sys.stderr)
        return 130
    except (CorpusError, CorpusNotFoundError, CheckpointError, ValueError,
            TypeError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    except Exception as e:  # noqa: BLE001
        # the command line promises one line, not a traceback
        first = (str(e).strip().splitlines() or [''])[0]
        print(f'error: {type(e).__name__}: {first}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
