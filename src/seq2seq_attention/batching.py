"""Mini-batches for training: shuffled, bucketed by length, shared by workers.

`BatchIterator` slices whole arrays `(X, X_valid_len, Y, Y_valid_len)` into
batches, reshuffled every epoch by NumPy's seeded generator; with `bucket` it
groups sentences of similar lengths. Either can cut each batch to its longest
source and target sentence, so that the padding is not computed.
`ShardedBatches` gives one worker its share of each batch (data parallelism).
Both follow the `Batches` protocol, which is all `train_s2s` asks of its data.
"""
import math
from typing import Iterator, Protocol, runtime_checkable

import numpy as onp
from mxnet import np

from .checks import check_batch_split, check_int, check_whole_numbers


@runtime_checkable
class Batches(Protocol):
    """What `train_s2s` needs of its data (`BatchIterator` is one)."""

    #: every example, `(X, X_valid_len, Y, Y_valid_len)`
    arrays: tuple

    def __len__(self) -> int:
        """The number of batches in an epoch."""

    def batch_sizes(self) -> list:
        """The number of examples in each batch of an epoch."""

    def batch_shapes(self, cut=None) -> list:
        """The `(source, target)` lengths `batches(cut)` may take."""

    def batches(self, cut=None) -> Iterator[tuple]:
        """One epoch's batches, `(X, X_valid_len, Y, Y_valid_len)` each.

        `cut=True` cuts each batch to its longest source and target sentence;
        None cuts as iterating the data does.
        """


class BatchIterator:
    """Mini-batches of whole arrays, reshuffled every epoch (seeded NumPy).

    d2l's `load_array` wraps a Gluon `DataLoader`, which stacks examples one by
    one; slicing the arrays directly gives the same batches for far less work.

    With `bucket=True` (arrays laid out as `(X, X_valid_len, Y, Y_valid_len)`),
    each epoch groups examples of similar lengths into batches (sorting a
    shuffled order by source then target length, so equal lengths are still
    mixed at random), shuffles the batches, and cuts every batch to its longest
    source and target sentence: the padding is then not computed. The loss is
    the same function of the parameters; only the grouping into batches differs.
    Each batch shape gets its own compiled graph (and its memory) once the model
    is hybridized: `length_step` rounds the cut lengths up to a multiple of it,
    which bounds the number of shapes (at most
    `(num_steps / length_step) ** 2`).
    """

    def __init__(self, arrays, batch_size, shuffle=True, bucket=False,
                 length_step=1):
        self.arrays = tuple(arrays)
        self.batch_size = check_int('batch_size', batch_size, low=1)
        self.bucket = (bucket if isinstance(bucket, bool)
                       else check_int('bucket', bucket, low=0))
        self.length_step = check_int('length_step', length_step, low=1)
        self.shuffle = shuffle
        _check_arrays(self.arrays)
        self.num_examples = self.arrays[0].shape[0]
        self._lengths = None
        if bucket:
            self._host_lengths('bucket=True')

    def _host_lengths(self, what):
        """The valid lengths on the host: (num_examples, 2), source, target."""
        if self._lengths is None:
            if not (len(self.arrays) == 4 and self.arrays[0].ndim == 2
                    and self.arrays[2].ndim == 2):
                raise ValueError(f'{what} needs arrays (X, X_valid_len, Y, '
                                 f'Y_valid_len), X and Y of 2 axes')
            self._lengths = onp.stack(
                [self.arrays[1].asnumpy(), self.arrays[3].asnumpy()], 1)
        return self._lengths

    def __len__(self):
        return math.ceil(self.num_examples / self.batch_size)

    def batch_sizes(self):
        """The number of examples in each batch of an epoch."""
        return [min(self.batch_size, self.num_examples - i)
                for i in range(0, self.num_examples, self.batch_size)]

    def _cut_lengths(self, lengths):
        """The lengths a batch may be cut to, per side (source, target).

        A batch is cut to the first that holds its longest sentence. Each shape
        is a compiled graph with its memory, so there are few: with `bucket`,
        the multiples of `length_step` (capped at `num_steps`); without, where
        random batches of long sentences would bring up to `num_steps ** 2`
        shapes, L, L - s, L - 2s and L - 3s (L the data's longest sentence,
        s = ceil(L / 4)): at most 16 shapes, and a batch that holds a sentence
        of length L is cut to it exactly.
        """
        allowed = []
        for longest, tokens in zip(lengths.max(axis=0).tolist(),
                                   self.arrays[::2]):
            if self.bucket:
                num_steps, step = tokens.shape[1], self.length_step
                multiples = range(1, math.ceil(num_steps / step) + 1)
                allowed.append(sorted({min(k * step, num_steps)
                                       for k in multiples}))
            else:
                step = int(math.ceil(longest / 4))
                allowed.append(sorted({max(longest - i * step, 1)
                                       for i in range(4)}))
        return allowed

    def batch_shapes(self, cut=None):
        """The `(source, target)` lengths `batches(cut)` may cut batches to.

        `cut=None` means as iterating does: cut with `bucket`, else not. Each
        shape is a compiled graph (`train_s2s` keeps each graph's memory only
        when there are few).
        """
        if cut is None:
            cut = bool(self.bucket)
        # (raises unless the arrays are (X, X_valid_len, Y, Y_valid_len))
        lengths = self._host_lengths('batch_shapes')
        if not cut:
            return [(self.arrays[0].shape[1], self.arrays[2].shape[1])]
        src_lengths, tgt_lengths = self._cut_lengths(lengths)
        return [(s, t) for s in src_lengths for t in tgt_lengths]

    def __iter__(self):
        return self.batches()

    def batches(self, cut=None):
        """One epoch's batches; `cut` cuts each to its longest sentences.

        Cutting drops only padding columns (to one of a few lengths per side,
        see `_cut_lengths`): a model that ignores padding, as this library's do,
        computes the same losses and gradients from a cut batch, for less work.
        The batches are those of iterating (the same examples, the same random
        draws); `cut=None` cuts as iterating does (with `bucket`).
        """
        if cut is None:
            cut = bool(self.bucket)
        lengths = self._host_lengths('cut=True') if cut else None
        allowed = self._cut_lengths(lengths) if cut else None
        order = (onp.random.permutation(self.num_examples) if self.shuffle
                 else onp.arange(self.num_examples))
        # within each window, stable sort by source, then target length
        if self.bucket:
            window = self.bucket * self.batch_size
            for i in range(0, self.num_examples, window):
                window_lengths = self._lengths[order[i:i + window]]
                order[i:i + window] = order[i:i + window][onp.lexsort(
                    (window_lengths[:, 1], window_lengths[:, 0]))]
        starts = list(range(0, self.num_examples, self.batch_size))
        # sorted windows: shuffle the batches again
        if self.bucket > 1 and self.shuffle:
            starts = [starts[i] for i in onp.random.permutation(len(starts))]
        # one host-to-device copy per epoch; each batch slices it without
        # waiting for the device
        order_on_device = np.array(order, dtype='int32')
        for i in starts:
            idx = order_on_device[i:i + self.batch_size]
            arrays = [np.take(a, idx, axis=0) for a in self.arrays]
            # cut the padding beyond the batch's longest source and target
            if cut:
                batch = order[i:i + self.batch_size]
                longest = lengths[batch].max(axis=0)
                src_len, tgt_len = [next(m for m in side if m >= n)
                                    for n, side in zip(longest, allowed)]
                arrays[0] = arrays[0][:, :src_len]
                arrays[2] = arrays[2][:, :tgt_len]
            yield tuple(arrays)


def _check_arrays(arrays):
    """Raise unless `arrays` hold equally many examples, laid out right.

    With four arrays `(X, X_valid_len, Y, Y_valid_len)`, every valid length must
    be a whole number from 1 to its sentences' `num_steps` (MXNet would silently
    compute garbage).
    """
    if not arrays or not all(hasattr(a, 'shape') and a.ndim >= 1
                             for a in arrays):
        raise ValueError(
            'arrays must be one or more arrays with a first (example) axis')
    counts = [a.shape[0] for a in arrays]
    if len(set(counts)) > 1 or counts[0] < 1:
        raise ValueError(f'arrays must hold equally many examples (at least '
                         f'one), got {counts}')
    if len(arrays) == 4 and arrays[0].ndim == 2 and arrays[2].ndim == 2:
        for name, tokens, valid_len in (('X', arrays[0], arrays[1]),
                                        ('Y', arrays[2], arrays[3])):
            if tokens.shape[1] < 1:
                raise ValueError(f'{name} must hold at least one step, got '
                                 f'shape {tokens.shape}')
            check_whole_numbers(f'{name}_valid_len', valid_len, 1,
                                tokens.shape[1])


def _shard_bounds(n, num_parts, rank):
    """Where part `rank` of `n` examples starts and ends (as `array_split`).

    The first `n % num_parts` parts hold one example more than the others.
    """
    size, extra = divmod(n, num_parts)
    start = rank * size + min(rank, extra)
    return start, start + size + (rank < extra)


class ShardedBatches:
    """Worker `rank`'s share of each batch of `data_iter` (data parallel).

    Every batch is cut into `num_parts` consecutive slices whose sizes differ by
    at most one (as `numpy.array_split` cuts); worker `rank` gets slice `rank`.
    All workers must draw the same batches (the same seed), and every batch must
    hold at least `num_parts` examples, so that no worker is left with an empty
    slice: that is checked before the first batch.
    """

    def __init__(self, data_iter, rank, num_parts):
        if not isinstance(data_iter, Batches):
            raise TypeError(f'data_iter must follow the Batches protocol (a '
                            f'BatchIterator does), got '
                            f'{type(data_iter).__name__}')
        self.num_parts = check_int('num_parts', num_parts, low=1)
        self.rank = check_int('rank', rank, low=0, high=self.num_parts - 1)
        self.data_iter = data_iter
        for n in data_iter.batch_sizes():
            check_batch_split(n, self.num_parts,
                              f'shared by {self.num_parts} workers')

    @property
    def arrays(self):
        """Every example of every worker (all shares of all batches)."""
        return self.data_iter.arrays

    def __len__(self):
        return len(self.data_iter)

    def batch_sizes(self):
        """The number of examples in this worker's share of each batch."""
        bounds = [_shard_bounds(n, self.num_parts, self.rank)
                  for n in self.data_iter.batch_sizes()]
        return [end - start for start, end in bounds]

    def batch_shapes(self, cut=None):
        """`data_iter.batch_shapes(cut)`: a share cuts no step."""
        return self.data_iter.batch_shapes(cut)

    def __iter__(self):
        return self._shares(iter(self.data_iter))

    def batches(self, cut=True):
        """This worker's shares of `data_iter.batches(cut)` (see there)."""
        return self._shares(self.data_iter.batches(cut))

    def _shares(self, batches):
        """Yield this worker's share of each batch."""
        for batch in batches:
            start, end = _shard_bounds(batch[0].shape[0], self.num_parts,
                                       self.rank)
            yield tuple(a[start:end] for a in batch)
