"""Batches of about equal token counts: a speed lever measured, not kept.

Joey NMT's `batch_type: token`, the `token-batches` configuration of
bench/train_speed.py. Its batches compute almost no padding (1.40x the
default's tokens/s at a translator's size), but the loss per epoch falls far
slower, with a wide spread over seeds (bench/RESULTS.md), so the library does
not offer them. Import it after `alternatives.set_environment`: it loads the
library.
"""

import numpy as onp
from mxnet import np
from seq2seq_attention.batching import BatchIterator
from seq2seq_attention.checks import check_int


class TokenBatches(BatchIterator):
    """Batches of about `max_tokens` tokens, sentences of equal lengths.

    Every epoch the examples, in a fresh random order, are sorted by source
    then target length (a stable sort: sentences of equal lengths stay
    shuffled), cut into consecutive batches each holding as many sentences as
    fit `max_tokens` tokens (a batch's tokens: its number of sentences times
    its longest source or target, whichever is longer), and the batches are
    shuffled. Each batch is cut to its longest source and target sentence
    (rounded up to a multiple of `length_step`), so little or no padding is
    computed, and every batch weighs about as many tokens: the trainer
    divides each batch's gradient by its token count, and sorted batches of
    128 short sentences would otherwise count each of their tokens several
    times as much as a batch of long ones. The sorted lengths are the same
    every epoch, so the batches' sizes are too.
    """

    def __init__(self, arrays, max_tokens, shuffle=True, length_step=1):
        self.max_tokens = check_int('max_tokens', max_tokens, low=1)
        super().__init__(
            arrays,
            self.max_tokens,
            shuffle,
            bucket=True,
            length_step=length_step,
        )
        lengths = self._host_lengths('TokenBatches')
        longest = int(lengths.max())
        if longest > self.max_tokens:
            raise ValueError(
                f'max_tokens={self.max_tokens} cannot hold a sentence of '
                f'{longest} tokens: make it at least {longest}'
            )
        self._starts = self._batch_starts(
            lengths[onp.lexsort((lengths[:, 1], lengths[:, 0]))]
        )

    def _batch_starts(self, sorted_lengths):
        """Where each batch starts in the sorted order, and the end."""
        starts, count, longest = [0], 0, 0
        for i, (src_len, tgt_len) in enumerate(sorted_lengths.tolist()):
            longest_with = max(longest, src_len, tgt_len)
            if count and (count + 1) * longest_with > self.max_tokens:
                starts.append(i)
                count, longest_with = 0, max(src_len, tgt_len)
            count, longest = count + 1, longest_with
        return starts + [len(sorted_lengths)]

    def __len__(self):
        return len(self._starts) - 1

    def batch_sizes(self):
        """The number of examples in each batch (in sorted order)."""
        return [
            end - start for start, end in zip(self._starts, self._starts[1:])
        ]

    def batches(self, cut=None):
        """One epoch's batches, each cut to its longest sentences.

        `cut=False` keeps every batch `num_steps` long on each side.
        """
        cut = True if cut is None else cut
        lengths = self._lengths
        allowed = self._cut_lengths(lengths)
        order = (
            onp.random.permutation(self.num_examples)
            if self.shuffle
            else onp.arange(self.num_examples)
        )
        # sort by source, then target length (stable: equal lengths shuffled)
        order = order[onp.lexsort((lengths[order, 1], lengths[order, 0]))]
        bounds = list(zip(self._starts, self._starts[1:]))
        if self.shuffle:
            bounds = [bounds[i] for i in onp.random.permutation(len(bounds))]
        order_on_device = np.array(order, dtype='int32')
        for start, end in bounds:
            idx = order_on_device[start:end]
            arrays = [np.take(a, idx, axis=0) for a in self.arrays]
            if cut:
                longest = lengths[order[start:end]].max(axis=0)
                src_len, tgt_len = [
                    next(m for m in side if m >= n)
                    for n, side in zip(longest, allowed)
                ]
                arrays[0] = arrays[0][:, :src_len]
                arrays[2] = arrays[2][:, :tgt_len]
            yield tuple(arrays)
