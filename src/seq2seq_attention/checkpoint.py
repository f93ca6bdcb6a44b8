"""Checkpoints: a model's parameters, both vocabularies and its hyperparameters.

A checkpoint is one zip file holding `meta.json` (format version,
hyperparameters, the two vocabularies' token lists) and `model.params` (Gluon's
parameter file). It is written under a temporary name and renamed when complete.
Loading checks the model's shapes and the vocabularies before anything is
copied, and names what differs.
"""
import json
import os
import tempfile
import zipfile
from collections import namedtuple
from pathlib import Path

import mxnet as mx

from .checks import check_vocabularies
from .data import Vocab
from .models import build_seq2seq
from .utils import as_ctx_list

FORMAT_VERSION = 1

Checkpoint = namedtuple('Checkpoint',
                        ['net', 'src_vocab', 'tgt_vocab', 'hparams', 'info'])


class CheckpointError(ValueError):
    """A checkpoint is unreadable or does not fit the model or vocabularies."""


def save_checkpoint(path, net, src_vocab, tgt_vocab, hparams, info=None):
    """Save `net`'s parameters, vocabularies, hyperparameters and `info`.

    `hparams` are `net`'s `build_seq2seq` hyperparameters. `info` is any
    JSON-serialisable dict worth keeping with the model (say, its `num_steps`).
    """
    path = Path(path)
    _check_vocab_sizes(path, net, src_vocab, tgt_vocab)
    meta = {'format_version': FORMAT_VERSION, 'hparams': dict(hparams),
            'info': info or {}, 'src_vocab': list(src_vocab.idx_to_token),
            'tgt_vocab': list(tgt_vocab.idx_to_token)}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f'.{path.name}.',
                               suffix='.part')
    os.close(fd)
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            params_file = os.path.join(tmpdir, 'model.params')
            net.save_parameters(params_file)
            with zipfile.ZipFile(tmp, 'w', zipfile.ZIP_DEFLATED) as zf:
                zf.writestr('meta.json', json.dumps(meta, indent=1))
                zf.write(params_file, 'model.params')
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def _read(path):
    """Return (meta, parameter arrays by name) from a checkpoint file."""
    try:
        with zipfile.ZipFile(path) as zf:
            meta = json.loads(zf.read('meta.json'))
            with tempfile.TemporaryDirectory() as tmpdir:
                zf.extract('model.params', tmpdir)
                arrays = mx.nd.load(os.path.join(tmpdir, 'model.params'))
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError,
            mx.MXNetError) as e:
        raise CheckpointError(
            f'{path}: not a readable checkpoint ({e})') from None
    if not isinstance(meta, dict):
        raise CheckpointError(f'{path}: meta.json holds a '
                              f'{type(meta).__name__}, not an object')
    if meta.get('format_version') != FORMAT_VERSION:
        raise CheckpointError(f'{path}: format version '
                              f'{meta.get("format_version")}, '
                              f'expected {FORMAT_VERSION}')
    for key, kind in (('hparams', dict), ('info', dict), ('src_vocab', list),
                      ('tgt_vocab', list)):
        if not isinstance(meta.get(key), kind):
            raise CheckpointError(
                f'{path}: meta.json has no {kind.__name__} {key!r}')
    return meta, arrays


def _check_vocab_sizes(path, net, src_vocab, tgt_vocab):
    """Raise a CheckpointError unless the vocabularies fit the embeddings."""
    try:
        check_vocabularies(net, src_vocab, tgt_vocab)
    except ValueError as e:
        raise CheckpointError(f'{path}: {e}') from None


def load_parameters(path, net, src_vocab=None, tgt_vocab=None, ctx=None):
    """Load a checkpoint's parameters into `net`.

    It checks shapes and vocabularies first.
    """
    meta, arrays = _read(path)
    _check_vocab_sizes(path, net, src_vocab, tgt_vocab)
    for name, vocab in (('src_vocab', src_vocab), ('tgt_vocab', tgt_vocab)):
        if vocab is not None and list(vocab.idx_to_token) != meta[name]:
            raise CheckpointError(
                f'{path}: its {name} ({len(meta[name])} tokens) differs from '
                f'the one given ({len(vocab)} tokens)')
    params = net._collect_params_with_prefix()
    missing = sorted(set(params) - set(arrays))
    unexpected = sorted(set(arrays) - set(params))
    if missing or unexpected:
        raise CheckpointError(
            f'{path}: does not fit this model (missing {missing[:3]}, '
            f'unexpected {unexpected[:3]})')
    for name, p in params.items():
        saved = tuple(arrays[name].shape)
        # dimensions not yet inferred (a model never run) are 0 or -1
        # and match anything
        if (len(p.shape) != len(saved)
                or any(a > 0 and a != b for a, b in zip(p.shape, saved))):
            raise CheckpointError(
                f'{path}: parameter {name} has shape {saved}, '
                f'the model expects {tuple(p.shape)}')
    ctxs = as_ctx_list(ctx if ctx is not None else mx.cpu())
    with tempfile.TemporaryDirectory() as tmpdir:
        params_file = os.path.join(tmpdir, 'model.params')
        with zipfile.ZipFile(path) as zf:
            zf.extract('model.params', tmpdir)
        net.load_parameters(params_file, ctx=ctxs)
    return meta


def load_checkpoint(path, ctx=None):
    """Rebuild the model a checkpoint describes.

    Return a `Checkpoint` (net, vocabularies, ...).
    """
    meta, _ = _read(path)
    try:
        src_vocab = Vocab.from_idx_to_token(meta['src_vocab'])
        tgt_vocab = Vocab.from_idx_to_token(meta['tgt_vocab'])
        net = build_seq2seq(**meta['hparams'])
    except (TypeError, ValueError) as e:
        raise CheckpointError(
            f'{path}: its metadata does not describe a model ({e})') from None
    # the vocabularies must fit the model the hyperparameters build; the
    # parameters' shapes are then checked against that model
    _check_vocab_sizes(path, net, src_vocab, tgt_vocab)
    load_parameters(path, net, src_vocab, tgt_vocab, ctx)
    return Checkpoint(net, src_vocab, tgt_vocab, meta['hparams'], meta['info'])
