"""Checks at the library's public edges: a clear error before any work starts.

MXNet does not check much: a NaN valid length or a zero-length batch can kill
the process, and token indices beyond a vocabulary are silently clipped. Each
check here raises a `TypeError` or `ValueError` whose message names the
argument, the value given and what is allowed. They run once per call, on the
host, never inside a compiled graph.
"""
import math
import numbers

import numpy as onp


def _interval(low, high, low_open=False, high_open=False):
    """Describe an interval in words: '>= 1', 'in [0, 1)', ..."""
    if high is None:
        return f'{">" if low_open else ">="} {low}'
    if low is None:
        return f'{"<" if high_open else "<="} {high}'
    return (f'in {"(" if low_open else "["}{low}, '
            f'{high}{")" if high_open else "]"}')


def check_int(name, value, low=None, high=None):
    """Return `value` as an int if it lies in [low, high].

    NumPy integers are included.
    """
    if (isinstance(value, (bool, onp.bool_))
            or not isinstance(value, numbers.Integral)):
        raise TypeError(f'{name} must be an int, got {value!r} '
                        f'({type(value).__name__})')
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f'{name} must be an int {_interval(low, high)}, '
                         f'got {value}')
    return value


def check_float(name, value, low=None, high=None, low_open=False,
                high_open=False):
    """Return `value` as a float if it is a finite number in the interval."""
    if (isinstance(value, (bool, onp.bool_))
            or not isinstance(value, numbers.Real)):
        raise TypeError(f'{name} must be a number, got {value!r} '
                        f'({type(value).__name__})')
    value = float(value)
    outside = (not math.isfinite(value)
               or (low is not None
                   and (value <= low if low_open else value < low))
               or (high is not None
                   and (value >= high if high_open else value > high)))
    if outside:
        raise ValueError(f'{name} must be a finite number '
                         f'{_interval(low, high, low_open, high_open)}, '
                         f'got {value:g}')
    return value


def check_choice(name, value, choices):
    """Return `value` if it is one of `choices`."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f'{name} must be one of '
                         f'{", ".join(map(repr, choices))}, got {value!r}')
    return value


def check_same_length(name_a, a, name_b, b):
    """Raise unless the sequences `a` and `b` hold equally many items."""
    if len(a) != len(b):
        raise ValueError(f'{name_a} and {name_b} must hold equally many items, '
                         f'got {len(a)} and {len(b)}')


def check_batch_split(batch_size, num_parts, how):
    """Raise unless each of `num_parts` parts gets at least one example.

    The batch holds `batch_size` examples; `how` names the split
    ('shared by 4 workers').
    """
    if batch_size < num_parts:
        raise ValueError(
            f'a batch of {batch_size} examples cannot be {how}: make every '
            f'batch (the last one too) hold at least {num_parts}')


def check_sentences(name, sentences):
    """Return `sentences` as a list of str.

    One str is refused: it is not a list.
    """
    if isinstance(sentences, str) or not isinstance(sentences, (list, tuple)):
        raise TypeError(f'{name} must be a list of str, '
                        f'got {type(sentences).__name__}'
                        + (' (wrap one sentence in a list)'
                           if isinstance(sentences, str) else ''))
    for s in sentences:
        if not isinstance(s, str):
            raise TypeError(f'{name} must be a list of str, it holds a '
                            f'{type(s).__name__}: {s!r}')
    return list(sentences)


def _host_values(name, values):
    """Copy an MXNet or NumPy array to the host; refuse anything else."""
    if hasattr(values, 'asnumpy'):
        return values.asnumpy()
    if isinstance(values, onp.ndarray):
        return values
    raise TypeError(f'{name} must be an array, got {type(values).__name__}')


def check_whole_numbers(name, values, low, high):
    """Raise unless every value of an array is a whole number in [low, high].

    NaN is not a whole number.
    """
    values = _host_values(name, values)
    if not values.size:
        return
    if values.dtype.kind not in 'iu':
        if not onp.isfinite(values).all():
            raise ValueError(
                f'{name} must hold whole numbers in [{low}, {high}], '
                f'it holds {values[~onp.isfinite(values)][0]}')
        fractional = values != onp.floor(values)
        if fractional.any():
            raise ValueError(f'{name} must hold whole numbers, it holds '
                             f'{values[fractional][0]:g}')
    vmin, vmax = values.min(), values.max()
    if vmin < low or vmax > high:
        raise ValueError(f'{name} must lie in [{low}, {high}], got values from '
                         f'{vmin:g} to {vmax:g}')


def check_token_ids(name, X, vocab_size):
    """Raise unless `X` is a 2-D batch of token indices in [0, vocab_size)."""
    if not hasattr(X, 'ndim') or X.ndim != 2:
        raise ValueError(
            f'{name} must be token indices of shape (batch_size, num_steps), '
            f'got {getattr(X, "shape", type(X).__name__)}')
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(
            f'{name} must hold at least one example of at least one step, '
            f'got shape {X.shape}')
    if vocab_size is not None:
        check_whole_numbers(f'{name} (indices into {vocab_size} tokens)', X, 0,
                            vocab_size - 1)
