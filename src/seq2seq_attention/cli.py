"""Command line: train the chapter's model, translate, save/load checkpoints.

    seq2seq-attention train [--epochs 200] [--decoder attention|plain]
                            [--save model.s2s]
    seq2seq-attention translate --checkpoint model.s2s [--beam 4 --alpha 0.75]
                                "I'm home ."
"""
import argparse
import sys

import mxnet as mx

from . import build_seq2seq, load_data_nmt, set_seed, try_all_gpus
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .data import CorpusError, CorpusNotFoundError
from .decoding import beam_search_batch, bleu, translate_batch
from .training import train_s2s

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


def cmd_train(args):
    """Train the chapter's model, print its translations, save it if asked."""
    set_seed(args.seed)
    ctxs = _contexts(args.ctx)
    data_iter, src_vocab, tgt_vocab = load_data_nmt(
        args.batch_size, args.num_steps, args.num_examples, args.data)
    hparams = dict(src_vocab_size=len(src_vocab), tgt_vocab_size=len(tgt_vocab),
                   embed_size=args.embed_size, num_hiddens=args.num_hiddens,
                   num_layers=args.num_layers, dropout=args.dropout,
                   decoder=args.decoder, attention=args.attention)
    net = build_seq2seq(**hparams)

    def progress(epoch, loss):
        if epoch % 10 == 0 or epoch == args.epochs:
            print(f'epoch {epoch:4d}/{args.epochs}  loss {loss:.3f}',
                  flush=True)
    train_s2s(net, data_iter, args.lr, args.epochs, tgt_vocab, ctxs, plot=False,
              progress=progress)
    sentences = CHAPTER_SENTENCES + [eng for eng, _ in D2L_PAIRS]
    translations = _translate(net, sentences, src_vocab, tgt_vocab,
                              args.num_steps, ctxs, args.beam, args.alpha)
    for sentence, translation in zip(CHAPTER_SENTENCES, translations):
        print(f'{sentence} => {translation}')
    for (eng, fra), translation in zip(D2L_PAIRS,
                                       translations[len(CHAPTER_SENTENCES):]):
        print(f'{eng} => {translation}, bleu {bleu(translation, fra, k=2):.3f}')
    if args.save:
        save_checkpoint(args.save, net, src_vocab, tgt_vocab, hparams,
                        info={'num_steps': args.num_steps,
                              'epochs': args.epochs})
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


def _number(kind, low, high=None, high_open=False):
    """An argparse type: `kind` (int or float) in [low, high] or [low, high)."""
    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'{text!r} is not a {kind.__name__}') from None
        above = (high is not None
                 and (value >= high if high_open else value > high))
        # NaN fails value == value
        if not value == value or value < low or above:
            where = (f'>= {low}' if high is None
                     else f'in [{low}, {high}{")" if high_open else "]"}')
            raise argparse.ArgumentTypeError(f'{text} is not {where}')
        return value
    convert.__name__ = kind.__name__  # argparse names the type in its messages
    return convert


def build_parser():
    """The argument parser for both commands."""
    parser = _Parser(prog='seq2seq-attention',
                     description=__doc__.split('\n')[0])
    sub = parser.add_subparsers(dest='command', required=True,
                                parser_class=_Parser)
    train = sub.add_parser(
        'train', help="train the chapter's model and translate its sentences")
    positive = _number(int, 1)
    train.add_argument('--epochs', type=positive, default=200)
    train.add_argument('--lr', type=_number(float, 1e-12), default=0.005)
    train.add_argument('--batch-size', type=positive, default=64)
    train.add_argument('--num-steps', type=positive, default=10)
    train.add_argument('--num-examples', type=positive, default=600)
    train.add_argument('--embed-size', type=positive, default=32)
    train.add_argument('--num-hiddens', type=positive, default=32)
    train.add_argument('--num-layers', type=positive, default=2)
    train.add_argument('--dropout', type=_number(float, 0, 1, high_open=True),
                       default=0.0)
    train.add_argument('--decoder', choices=['attention', 'plain'],
                       default='attention')
    train.add_argument('--attention', choices=['mlp', 'dot'], default='mlp')
    train.add_argument('--data', help='fra-eng.zip to use (default: '
                                      '$FRA_ENG_ZIP, data/, download)')
    train.add_argument('--save', help='write a checkpoint here after training')
    train.add_argument('--seed', type=_number(int, 0, 2 ** 32 - 1), default=0)
    translate = sub.add_parser(
        'translate', help='translate sentences with a saved checkpoint')
    translate.add_argument('--checkpoint', required=True)
    translate.add_argument('sentences', nargs='+')
    for p in (train, translate):
        p.add_argument('--ctx', choices=['cpu', 'gpu', 'all-gpus'],
                       default='cpu')
        p.add_argument('--beam', type=int, default=1,
                       help='beam width (1: greedy)')
        p.add_argument('--alpha', type=_number(float, -1e9), default=0.75,
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
