"""From raw text to arrays: preprocessing, tokens, vocabularies, index arrays.

As d2l's section *Machine Translation and the Dataset* does it: lower-case
the text and space out punctuation, split each line into an English and a
French token list, map tokens to indices with one vocabulary per language, and
pad or cut every sentence (with `<eos>` appended) to `num_steps` indices,
keeping each one's valid length. `split_pairs` holds out test pairs whose
source sentences never occur in training.
"""
import re
import sys

import numpy as onp
from d2l import mxnet as d2l
from mxnet import np

from .checks import check_int, check_same_length

RESERVED_TOKENS = ['<pad>', '<bos>', '<eos>']


def preprocess_nmt(text):
    """Lower-case, replace non-breaking spaces, space out `,.!?` (as d2l)."""
    text = text.replace('\u202f', ' ').replace('\xa0', ' ').lower()
    # d2l inserts a space before a punctuation mark that follows any character
    # but a space
    return re.sub(r'(?<=[^ ])([,.!?])', r' \1', text)


def tokenize_nmt(text, num_examples=None):
    """Split the first `num_examples` pairs into source and target tokens."""
    source, target = [], []
    for line in text.split('\n'):
        if num_examples is not None and len(source) >= num_examples:
            break
        parts = line.split('\t')
        if len(parts) >= 2 and parts[0].split() and parts[1].split():
            # sys.intern: one str per distinct token, a third of the memory
            source.append([sys.intern(t) for t in parts[0].split()])
            target.append([sys.intern(t) for t in parts[1].split()])
    return source, target


class Vocab(d2l.Vocab):
    """d2l's vocabulary; its `to_tokens` also takes one-element lists."""

    def to_tokens(self, indices):
        """Map an index, or a sequence of indices, back to tokens."""
        if hasattr(indices, 'asnumpy'):
            indices = indices.asnumpy()
        if isinstance(indices, onp.ndarray):
            indices = indices.tolist()
        if isinstance(indices, (list, tuple)):
            return [self.idx_to_token[int(i)] for i in indices]
        return self.idx_to_token[int(indices)]

    @classmethod
    def from_idx_to_token(cls, idx_to_token):
        """Rebuild a vocabulary from its list of tokens (from a checkpoint)."""
        vocab = cls.__new__(cls)
        vocab.idx_to_token = list(idx_to_token)
        vocab.token_to_idx = {t: i for i, t in enumerate(vocab.idx_to_token)}
        vocab.token_freqs = []
        if (len(vocab.token_to_idx) != len(vocab.idx_to_token)
                or '<unk>' not in vocab.token_to_idx):
            raise ValueError(
                'idx_to_token must hold distinct tokens, <unk> among them')
        return vocab


def build_vocab(sentences, min_freq=2):
    """The vocabulary of tokens seen `min_freq` times, `<pad>` etc. reserved."""
    return Vocab(sentences, min_freq=min_freq, reserved_tokens=RESERVED_TOKENS)


def truncate_pad(line, num_steps, padding_token):
    """Cut `line` to `num_steps` tokens, or pad it with `padding_token`."""
    if len(line) > num_steps:
        return line[:num_steps]
    return line + [padding_token] * (num_steps - len(line))


def build_array_nmt(lines, vocab, num_steps):
    """Return token indices (`<eos>` added, cut or padded) and valid lengths."""
    lines = [vocab[line] + [vocab['<eos>']] for line in lines]
    array = np.array([truncate_pad(line, num_steps, vocab['<pad>'])
                      for line in lines],
                     dtype='int32')  # (num_examples, num_steps)
    # the tokens before the padding, <eos> included: (num_examples,)
    valid_len = np.array([min(len(line), num_steps) for line in lines],
                         dtype='int32')
    return array, valid_len


def split_pairs(source, target, num_train, num_test, seed=0):
    """Return disjoint `(train, test)` lists of `(src_tokens, tgt_tokens)`."""
    check_same_length('source', source, 'target', target)
    num_train = check_int('num_train', num_train, low=0, high=len(source))
    num_test = check_int('num_test', num_test, low=0)
    order = onp.random.RandomState(seed).permutation(len(source))
    train = [(source[i], target[i]) for i in order[:num_train]]
    # no test pair shares its source sentence with a training pair (the
    # corpus holds many sentences with several translations), nor with
    # another test pair
    seen = {' '.join(src) for src, _ in train}
    test = []
    for i in order[num_train:]:
        if len(test) == num_test:
            break
        if ' '.join(source[i]) not in seen:
            seen.add(' '.join(source[i]))
            test.append((source[i], target[i]))
    if len(test) < num_test:
        raise ValueError(f'only {len(test)} held-out pairs are left, '
                         f'{num_test} asked for')
    return train, test
