"""Training that survives an interruption: its state, saved every epoch.

A long run can be stopped halfway (a closed laptop, a Colab session that
times out). `train_s2s(..., state_file=path)` writes, after every epoch and
atomically, all that the next epoch depends on: the parameters, Adam's step
count and moments, the losses so far, and NumPy's random state (which orders
the batches). Started again with the same path, it continues from there and
ends with the same numbers as a run that was never stopped. Dropout draws from
MXNet's generator, whose state MXNet cannot save: with a state file each epoch
first reseeds it from NumPy's, so that a resumed run draws the same masks.
The workers of a distributed run (`distributed.py`) all continue from the file
that worker 0 writes (on several machines, on storage that they share).
"""
import io
import os
import tempfile

import mxnet as mx
import numpy as onp

from .checkpoint import UNREADABLE, read_model_zip, write_model_zip

FORMAT_VERSION = 1


class TrainingStateError(ValueError):
    """A training state file is unreadable or does not fit the run."""


def check_state_file(state_file, resume, restart):
    """Refuse to resume a run that left no state, or to overwrite one.

    `restart` tells the reader how to start afresh instead (for example
    'delete the file').
    """
    if resume and not os.path.exists(state_file):
        raise ValueError(f'--resume: no training state at {state_file} '
                         f'(it is removed when a run ends)')
    if not resume and os.path.exists(state_file):
        raise ValueError(f'{state_file} exists: a run was interrupted; add '
                         f'--resume to continue it, or {restart}')


def save_training_state(path, net, optimizer, history, settings):
    """Write the parameters, Adam's state, the losses, NumPy's random state."""
    kind, keys, position, has_gauss, cached = onp.random.get_state()
    step, mean, var = optimizer.moments()
    meta = {'format_version': FORMAT_VERSION, 'settings': settings,
            'losses': list(history), 'tokens': history.tokens,
            'seconds': history.seconds, 'step': step,
            'numpy_random': [kind, keys.tolist(), int(position),
                             int(has_gauss), float(cached)]}

    moments = io.BytesIO()
    onp.savez(moments, *mean, *var)
    return write_model_zip(path, net, meta,
                           {'adam.npz': moments.getvalue()})


def _read(path, tmpdir):
    """The meta, the parameter file (put in `tmpdir`) and Adam's arrays."""
    try:
        meta, params_file, entries = read_model_zip(path, tmpdir,
                                                    ['adam.npz'])
        with onp.load(io.BytesIO(entries['adam.npz'])) as npz:
            arrays = [npz[f'arr_{i}'] for i in range(len(npz.files))]
    except UNREADABLE as e:
        raise TrainingStateError(
            f'{path}: not a readable training state ({e})') from None
    if (not isinstance(meta, dict)
            or meta.get('format_version') != FORMAT_VERSION):
        raise TrainingStateError(f'{path}: not a training state of format '
                                 f'version {FORMAT_VERSION}')
    return meta, params_file, arrays


def load_training_state(path, net, optimizer, history, settings, num_epochs):
    """Continue from `path`: parameters, Adam, losses, random state.

    Raises a `TrainingStateError` naming what differs if the file was written
    by another run (`settings`: learning rate, data, ...) or holds more than
    `num_epochs` epochs. Returns the number of epochs it holds.
    """
    with tempfile.TemporaryDirectory() as tmpdir:
        meta, params_file, arrays = _read(path, tmpdir)
        saved = meta.get('settings', {})
        differ = [f'{k} {saved.get(k)!r} there, {v!r} here'
                  for k, v in settings.items() if saved.get(k) != v]
        if differ:
            raise TrainingStateError(f'{path}: written by another run '
                                     f'({"; ".join(differ)})')
        done = len(meta['losses'])
        if done > num_epochs:
            raise TrainingStateError(f'{path}: holds {done} epochs, more than '
                                     f'the {num_epochs} asked for')
        try:
            net.load_parameters(params_file, ctx=optimizer.ctxs)
            half = len(arrays) // 2
            optimizer.set_moments(meta['step'], arrays[:half], arrays[half:])
        except (AssertionError, ValueError, mx.MXNetError) as e:
            message = (str(e).strip().splitlines() or [type(e).__name__])[0]
            raise TrainingStateError(
                f'{path}: does not fit this model ({message})') from None
    history.extend(meta['losses'])
    history.tokens.extend(meta['tokens'])
    history.seconds.extend(meta['seconds'])
    kind, keys, position, has_gauss, cached = meta['numpy_random']
    onp.random.set_state((kind, onp.array(keys, dtype=onp.uint32), position,
                          has_gauss, cached))
    return done


def reseed_mxnet():
    """Seed MXNet's generator from NumPy's (whose state a file can hold)."""
    mx.random.seed(int(onp.random.randint(2 ** 31 - 1)))


class TrainingState:
    """A run's state in a file: saved after every epoch, resumed from."""

    def __init__(self, path, net, optimizer, data_iter, lr, clip_theta):
        self.path, self.net, self.optimizer = path, net, optimizer
        # Workers of a distributed kvstore hold the same state (the summed
        # gradients update each): all read the file, worker 0 writes it.
        self.writes = (not optimizer.distributed
                       or optimizer.kvstore.rank == 0)
        # the examples of all workers' shares
        examples = optimizer.sum_over_workers(
            mx.np.array([sum(data_iter.batch_sizes()), 0]))
        # what a state file must have been trained with to be continued
        self.settings = {'lr': lr, 'clip_theta': clip_theta,
                         'batches': len(data_iter),
                         'examples': int(examples[0])}

    def start(self, history, num_epochs):
        """Resume from the file if there is one; the number of epochs done."""
        done = 0
        if os.path.exists(self.path):
            done = load_training_state(self.path, self.net, self.optimizer,
                                       history, self.settings, num_epochs)
        reseed_mxnet()  # dropout's draws for the next epoch, resumable
        return done

    def epoch_done(self, history):
        """Save the state after an epoch; seed the next epoch's dropout."""
        if self.writes:
            save_training_state(self.path, self.net, self.optimizer, history,
                                self.settings)
        reseed_mxnet()
