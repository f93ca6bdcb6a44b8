"""English–French corpus: finding it, preprocessing, vocabularies, batches.

Where the corpus comes from, in this order:

1. the ``path`` argument (a ``fra-eng.zip`` archive or an extracted
   ``fra.txt``);
2. the environment variable ``FRA_ENG_ZIP`` (same kinds of file);
3. the cache folder (``data/`` at the repository root for a source checkout,
   else ``~/.cache/seq2seq_attention``): an extracted ``fra-eng/fra.txt`` or
   ``fra-eng.zip``;
4. a download of d2l's ``DATA_HUB['fra-eng']`` archive into the cache folder.

Every copy is verified by the SHA-1 of the text inside it (``fra-eng/fra.txt``);
a download is verified by the upstream archive's SHA-1 as well. Files are
written under a temporary name and renamed only once complete, so a failure
leaves nothing half-written behind.
"""
import hashlib
import io
import math
import os
import re
import tempfile
import urllib.error
import urllib.request
import zipfile
import zlib
from pathlib import Path

import numpy as onp
from d2l import mxnet as d2l
from mxnet import np

from .checks import (check_batch_split, check_int, check_same_length,
                     check_whole_numbers)

FRA_ENG_URL, FRA_ENG_ZIP_SHA1 = d2l.DATA_HUB['fra-eng']
FRA_TXT_SHA1 = 'c43f99dce27311d3afd4d3e0716848194cfcc103'
FRA_TXT_MEMBER = 'fra-eng/fra.txt'
ENV_VAR = 'FRA_ENG_ZIP'
RESERVED_TOKENS = ['<pad>', '<bos>', '<eos>']


class CorpusError(RuntimeError):
    """A corpus file is corrupt, truncated, unsafe or not the expected one."""


class CorpusNotFoundError(FileNotFoundError):
    """No copy of the corpus could be found or downloaded."""


def sha1_of(data_or_path):
    """Return the hex SHA-1 of a bytes object or of a file's contents."""
    sha1 = hashlib.sha1()
    if isinstance(data_or_path, bytes):
        sha1.update(data_or_path)
        return sha1.hexdigest()
    with open(data_or_path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            sha1.update(chunk)
    return sha1.hexdigest()


def default_cache_dir():
    """Return `data/` in a source checkout, else a user cache folder."""
    repo_root = Path(__file__).resolve().parents[2]
    if (repo_root / 'pyproject.toml').exists():
        return repo_root / 'data'
    return Path.home() / '.cache' / 'seq2seq_attention'


def _read_verified_text(path):
    """Return the bytes of `fra.txt` (in an archive or not), SHA-1 checked."""
    path = Path(path)
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                data = zf.read(FRA_TXT_MEMBER)
        except KeyError:
            raise CorpusError(
                f'{path}: the archive holds no {FRA_TXT_MEMBER}') from None
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as e:
            raise CorpusError(
                f'{path}: corrupt or truncated archive ({e}); its SHA-1 is '
                f'{sha1_of(path)}, expected {FRA_ENG_ZIP_SHA1} (upstream) or '
                f'an archive whose {FRA_TXT_MEMBER} has SHA-1 '
                f'{FRA_TXT_SHA1}') from None
        what = f'{path} ({FRA_TXT_MEMBER} inside it)'
    elif path.suffix == '.zip':
        raise CorpusError(
            f'{path}: not a zip archive (corrupt or truncated); its SHA-1 is '
            f'{sha1_of(path)}, expected {FRA_ENG_ZIP_SHA1} (upstream) or an '
            f'archive whose {FRA_TXT_MEMBER} has SHA-1 {FRA_TXT_SHA1}')
    else:
        data, what = path.read_bytes(), str(path)
    digest = sha1_of(data)
    if digest != FRA_TXT_SHA1:
        raise CorpusError(f'{what}: SHA-1 is {digest}, expected {FRA_TXT_SHA1}')
    return data


def _write_atomically(path, data):
    """Write bytes to `path` through a temporary file beside it, then rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.',
                               suffix='.part')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def extract_zip(archive, folder):
    """Extract `archive` into `folder`, refusing members that would leave it."""
    folder = Path(folder).resolve()
    with zipfile.ZipFile(archive) as zf:
        members = zf.infolist()
        for m in members:  # check every name before writing anything
            target = (folder / m.filename).resolve()
            if target != folder and folder not in target.parents:
                raise CorpusError(f'{archive}: refusing to extract '
                                  f'{m.filename!r}, it would land outside '
                                  f'{folder}')
        for m in members:
            if not m.is_dir():
                _write_atomically(folder / m.filename, zf.read(m))
    return folder


def _download(url, target, sha1_hash):
    """Download `url` to `target` (via a temporary name), SHA-1 checked."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f'.{target.name}.',
                               suffix='.part')
    try:
        with (os.fdopen(fd, 'wb') as f,
              urllib.request.urlopen(url, timeout=60) as r):
            for chunk in iter(lambda: r.read(1 << 20), b''):
                f.write(chunk)
        digest = sha1_of(tmp)
        if digest != sha1_hash:
            raise CorpusError(
                f'{url}: downloaded SHA-1 is {digest}, expected {sha1_hash}')
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def locate_corpus(path=None, cache_dir=None, download=True):
    """Return the path of a verified `fra.txt`, extracted or downloaded."""
    cache_dir = (Path(cache_dir) if cache_dir is not None
                 else default_cache_dir())
    extracted = cache_dir / FRA_TXT_MEMBER
    if path is None and os.environ.get(ENV_VAR):
        path = os.environ[ENV_VAR]
        if not Path(path).is_file():
            raise CorpusNotFoundError(f'{ENV_VAR}={path} names no file')
    elif path is not None and not Path(path).is_file():
        raise CorpusNotFoundError(f'corpus file {path} does not exist')
    if path is None:
        if extracted.is_file() and sha1_of(extracted) == FRA_TXT_SHA1:
            return extracted
        path = cache_dir / 'fra-eng.zip'
        if not path.is_file():
            if not download:
                raise CorpusNotFoundError(_where_to_put_it(path))
            try:
                _download(FRA_ENG_URL, path, FRA_ENG_ZIP_SHA1)
            except (urllib.error.URLError, OSError) as e:
                raise CorpusNotFoundError(f'download failed ({e}). '
                                          f'{_where_to_put_it(path)}') from None
    path = Path(path)
    data = _read_verified_text(path)
    if not zipfile.is_zipfile(path):
        return path  # an extracted, verified fra.txt: use it where it is
    if not (extracted.is_file() and sha1_of(extracted) == FRA_TXT_SHA1):
        extract_zip(path, cache_dir)
    if sha1_of(extracted) != sha1_of(data):
        raise CorpusError(
            f'{extracted}: differs from the verified text of {path}')
    return extracted


def _where_to_put_it(zip_path):
    """Tell the reader where a copy of the corpus must go when offline."""
    return (f'No copy of the English-French corpus was found. Download '
            f'{FRA_ENG_URL} (SHA-1 {FRA_ENG_ZIP_SHA1}) and put it at '
            f'{zip_path}, or set {ENV_VAR} to the path of a fra-eng.zip whose '
            f'{FRA_TXT_MEMBER} has SHA-1 {FRA_TXT_SHA1}.')


def read_data_nmt(path=None):
    """Return the raw corpus text, one `English<TAB>French` pair a line."""
    with open(locate_corpus(path), encoding='utf-8') as f:
        return f.read()


def preprocess_nmt(text):
    """Lower-case, replace non-breaking spaces, space out `,.!?` (as d2l)."""
    text = text.replace('\u202f', ' ').replace('\xa0', ' ').lower()
    # d2l inserts a space before a punctuation mark that follows any character
    # but a space
    return re.sub(r'(?<=[^ ])([,.!?])', r' \1', text)


def tokenize_nmt(text, num_examples=None):
    """Split the first `num_examples` pairs into source and target tokens.

    Each distinct token is one string object shared by all its occurrences, and
    lines are read one at a time: the whole corpus then takes about a third of
    the memory.
    """
    source, target, shared = [], [], {}
    # lines end at '\n' only, as text.split('\n') cuts them
    for line in io.StringIO(text):
        if num_examples is not None and len(source) >= num_examples:
            break
        parts = line.split('\t')
        if len(parts) >= 2 and parts[0].split() and parts[1].split():
            source.append([shared.setdefault(t, t) for t in parts[0].split()])
            target.append([shared.setdefault(t, t) for t in parts[1].split()])
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
    num_steps = check_int('num_steps', num_steps, low=1)
    lines = [vocab[line] + [vocab['<eos>']] for line in lines]
    array = np.array([truncate_pad(line, num_steps, vocab['<pad>'])
                      for line in lines],
                     dtype='int32')  # (num_examples, num_steps)
    # (num_examples,)
    valid_len = (array != vocab['<pad>']).astype('int32').sum(axis=1)
    return array, valid_len


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
        return self.batches(cut=bool(self.bucket))

    def batches(self, cut=True):
        """One epoch's batches; `cut` cuts each to its longest sentences.

        Cutting drops only padding columns (to one of a few lengths per side,
        see `_cut_lengths`): a model that ignores padding, as this library's do,
        computes the same losses and gradients from a cut batch, for less work.
        The batches are those of iterating (the same examples, the same random
        draws); with `bucket` they are cut either way.
        """
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
    slice: that is checked before the first batch when `data_iter` can tell its
    batch sizes (a `BatchIterator` can), else batch by batch.
    """

    def __init__(self, data_iter, rank, num_parts):
        self.num_parts = check_int('num_parts', num_parts, low=1)
        self.rank = check_int('rank', rank, low=0, high=self.num_parts - 1)
        self.data_iter = data_iter
        if hasattr(data_iter, 'batch_sizes'):
            for n in data_iter.batch_sizes():
                self._check_batch(n)

    def _check_batch(self, n):
        """Refuse a batch too small to give every worker an example."""
        check_batch_split(n, self.num_parts,
                          f'shared by {self.num_parts} workers')

    def __len__(self):
        return len(self.data_iter)

    def batch_sizes(self):
        """The number of examples in this worker's share of each batch."""
        bounds = [_shard_bounds(n, self.num_parts, self.rank)
                  for n in self.data_iter.batch_sizes()]
        return [end - start for start, end in bounds]

    def batch_shapes(self, cut=None):
        """`data_iter.batch_shapes(cut)` (None if it cannot tell)."""
        if not hasattr(self.data_iter, 'batch_shapes'):
            return None
        return self.data_iter.batch_shapes(cut)  # a share cuts no step

    def __iter__(self):
        return self._shares(iter(self.data_iter))

    def batches(self, cut=True):
        """This worker's shares of `data_iter.batches(cut)` (see there)."""
        if not hasattr(self.data_iter, 'batches'):
            return iter(self)
        return self._shares(self.data_iter.batches(cut))

    def _shares(self, batches):
        """Yield this worker's share of each batch."""
        for batch in batches:
            n = batch[0].shape[0]
            self._check_batch(n)
            start, end = _shard_bounds(n, self.num_parts, self.rank)
            yield tuple(a[start:end] for a in batch)


def build_data_iter(source, target, batch_size, num_steps, src_vocab=None,
                    tgt_vocab=None, shuffle=True, bucket=False, min_freq=2,
                    length_step=1):
    """Return `(data_iter, src_vocab, tgt_vocab)` for token lists.

    Vocabularies are built unless given. `bucket` and `length_step` batch
    sentences of similar lengths and cut the padding (see `BatchIterator`).
    """
    check_same_length('source', source, 'target', target)
    if not source:
        raise ValueError('source and target hold no sentences')
    src_vocab = (src_vocab if src_vocab is not None
                 else build_vocab(source, min_freq))
    tgt_vocab = (tgt_vocab if tgt_vocab is not None
                 else build_vocab(target, min_freq))
    src_array, src_valid_len = build_array_nmt(source, src_vocab, num_steps)
    tgt_array, tgt_valid_len = build_array_nmt(target, tgt_vocab, num_steps)
    arrays = (src_array, src_valid_len, tgt_array, tgt_valid_len)
    data_iter = BatchIterator(arrays, batch_size, shuffle, bucket, length_step)
    return data_iter, src_vocab, tgt_vocab


def load_data_nmt(batch_size, num_steps, num_examples=600, path=None,
                  bucket=False):
    """Return `(data_iter, src_vocab, tgt_vocab)` for the first pairs.

    `bucket=True` batches sentences of similar lengths and cuts the padding (see
    `BatchIterator`).
    """
    num_examples = check_int('num_examples', num_examples, low=1)
    source, target = tokenize_nmt(preprocess_nmt(read_data_nmt(path)),
                                  num_examples)
    return build_data_iter(source, target, batch_size, num_steps, bucket=bucket)


def split_pairs(source, target, num_train, num_test, seed=0):
    """Return disjoint `(train, test)` lists of `(src_tokens, tgt_tokens)`.

    The pairs are shuffled by `seed`. No test pair shares its source sentence
    with a training pair, so held-out evaluation never scores a sentence the
    model was trained on (the corpus holds many sentences with several
    translations each).
    """
    check_same_length('source', source, 'target', target)
    num_train = check_int('num_train', num_train, low=0)
    num_test = check_int('num_test', num_test, low=0)
    order = onp.random.RandomState(seed).permutation(len(source))
    train = [(source[i], target[i]) for i in order[:num_train]]
    if len(train) < num_train:
        raise ValueError(f'asked for {num_train} training pairs, the corpus '
                         f'holds {len(source)}')
    seen = {' '.join(src) for src, _ in train}
    test = []
    for i in order[num_train:]:
        if len(test) == num_test:
            break
        key = ' '.join(source[i])
        if key not in seen:
            seen.add(key)  # also keeps test sources distinct from each other
            test.append((source[i], target[i]))
    if len(test) < num_test:
        raise ValueError(f'only {len(test)} held-out pairs are left, '
                         f'{num_test} asked for')
    return train, test
