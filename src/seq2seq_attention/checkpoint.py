"""Checkpoints: a model's parameters, its configuration and both vocabularies.

A checkpoint is one zip file holding `meta.json` (format version, the model's
`Seq2SeqConfig` as `hparams`, `info`, the two vocabularies' token lists) and
`model.params` (Gluon's parameter file). It is written under a temporary name
and renamed when complete. Loading reads the file once, checks the
vocabularies, and loads the parameters all or none: a checkpoint that does
not fit the model changes nothing and names what differs.
"""
import dataclasses
import json
import os
import tempfile
import zipfile
from collections import namedtuple

import mxnet as mx

from .models import Seq2SeqConfig, build_seq2seq
from .text import Vocab
from .utils import as_ctx_list, write_atomically

FORMAT_VERSION = 1

Checkpoint = namedtuple('Checkpoint',
                        ['net', 'src_vocab', 'tgt_vocab', 'config', 'info'])


class CheckpointError(ValueError):
    """A checkpoint is unreadable or does not fit the model or vocabularies."""


def save_checkpoint(path, net, config, src_vocab, tgt_vocab, info=None):
    """Save `net`'s parameters, its `config`, the vocabularies and `info`.

    `info` is any JSON-serialisable dict worth keeping with the model (say,
    its `num_steps`).
    """
    try:
        net.check_vocabularies(src_vocab, tgt_vocab)
    except ValueError as e:
        raise CheckpointError(f'{path}: {e}') from None
    meta = {'format_version': FORMAT_VERSION,
            'hparams': dataclasses.asdict(config), 'info': info or {},
            'src_vocab': list(src_vocab.idx_to_token),
            'tgt_vocab': list(tgt_vocab.idx_to_token)}

    return write_model_zip(path, net, meta)


def write_model_zip(path, net, meta, entries=None):
    """Write a zip of `meta.json`, `net`'s `model.params` and `entries`.

    `entries` maps further file names to their bytes. The zip is written
    under a temporary name and renamed when complete (`write_atomically`).
    Checkpoints and training states (`resume`) are such files.
    """
    def write(tmp):
        with tempfile.TemporaryDirectory() as tmpdir:
            params_file = os.path.join(tmpdir, 'model.params')
            net.save_parameters(params_file)
            with zipfile.ZipFile(tmp, 'w', zipfile.ZIP_DEFLATED) as zf:
                zf.writestr('meta.json', json.dumps(meta, indent=1))
                zf.write(params_file, 'model.params')
                for name, data in (entries or {}).items():
                    zf.writestr(name, data)
    return write_atomically(path, write)


#: what reading a damaged or foreign model zip can raise
UNREADABLE = (OSError, KeyError, ValueError, zipfile.BadZipFile)


def read_model_zip(path, tmpdir, names=()):
    """A model zip's meta, its parameter file (put in `tmpdir`), `names`.

    Returns `(meta, params_file, {name: bytes})`; raises one of `UNREADABLE`
    if the file is not such a zip.
    """
    with zipfile.ZipFile(path) as zf:
        meta = json.loads(zf.read('meta.json'))
        params_file = zf.extract('model.params', tmpdir)
        return meta, params_file, {name: zf.read(name) for name in names}


def _read(path, tmpdir):
    """Read a checkpoint: its meta and its parameter file, put in `tmpdir`."""
    try:
        meta, params_file, _ = read_model_zip(path, tmpdir)
    except UNREADABLE as e:
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
    return meta, params_file


def _load_all_or_none(path, net, params_file, ctxs):
    """Load the parameter file into `net`; on failure restore its values."""
    before = {}
    for name, p in net.collect_params().items():
        try:
            before[name] = [d.copy() for d in p.list_data()]
        except (RuntimeError, mx.gluon.parameter.DeferredInitializationError):
            pass  # no values yet: nothing to restore
    try:
        net.load_parameters(params_file, ctx=ctxs)
    except (AssertionError, ValueError, mx.MXNetError) as e:
        for name, p in net.collect_params().items():
            if name in before:
                p.reset_ctx([d.ctx for d in before[name]])
                p.set_data(before[name][0])
        message = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise CheckpointError(
            f'{path}: does not fit this model ({message})') from None


def load_parameters(path, net, src_vocab=None, tgt_vocab=None, ctx=None):
    """Load a checkpoint's parameters into `net`, checked first; the meta."""
    with tempfile.TemporaryDirectory() as tmpdir:
        meta, params_file = _read(path, tmpdir)
        _load_into(path, net, meta, params_file, src_vocab, tgt_vocab, ctx)
    return meta


def _load_into(path, net, meta, params_file, src_vocab, tgt_vocab, ctx):
    """Check the vocabularies against `net` and the checkpoint, then load."""
    try:
        net.check_vocabularies(src_vocab, tgt_vocab)
    except ValueError as e:
        raise CheckpointError(f'{path}: {e}') from None
    for name, vocab in (('src_vocab', src_vocab), ('tgt_vocab', tgt_vocab)):
        if vocab is not None and list(vocab.idx_to_token) != meta[name]:
            raise CheckpointError(
                f'{path}: its {name} ({len(meta[name])} tokens) differs from '
                f'the one given ({len(vocab)} tokens)')
    ctxs = as_ctx_list(ctx if ctx is not None else mx.cpu())
    _load_all_or_none(path, net, params_file, ctxs)


def load_checkpoint(path, ctx=None):
    """Rebuild the model a checkpoint describes; a `Checkpoint`."""
    with tempfile.TemporaryDirectory() as tmpdir:
        meta, params_file = _read(path, tmpdir)
        try:
            src_vocab = Vocab.from_idx_to_token(meta['src_vocab'])
            tgt_vocab = Vocab.from_idx_to_token(meta['tgt_vocab'])
            config = Seq2SeqConfig(**meta['hparams'])
        except (TypeError, ValueError) as e:
            raise CheckpointError(f'{path}: its metadata does not describe a '
                                  f'model ({e})') from None
        net = build_seq2seq(config)
        _load_into(path, net, meta, params_file, src_vocab, tgt_vocab, ctx)
    return Checkpoint(net, src_vocab, tgt_vocab, config, meta['info'])

