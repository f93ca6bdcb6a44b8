"""NumPy and Python compatibility for MXNet 1.9.1, applied before its import.

MXNet 1.9.1 (2022) is the last 1.x release. It was written for NumPy < 1.24 and
Python < 3.12:

- it reads names from NumPy that later NumPy releases removed (`numpy.bool` in
  1.24, back in 2.0; `numpy.alltrue`, `numpy.NINF` and a dozen others in 2.0).
  It reads them when it is imported, so a missing one makes `import mxnet` fail;
- it imports `distutils`, which Python 3.12 removed from its standard library
  (setuptools provides a copy);
- it passes operator parameters to its C++ core as text, written by `str()`.
  NumPy 2 writes a NumPy integer inside a list as `np.int64(4)`, not `4`, so a
  shape or a list of split points holding one (MXNet's own `split_and_load`
  makes such lists) fails to parse.

`restore_numpy_names` puts back each name that MXNet 1.9.1 reads and the
installed NumPy lacks, with the value NumPy 1.23 gave it, and nothing else: on
NumPy 1.23 it changes nothing. `ensure_distutils` makes `import distutils` work
on Python 3.12 and later. Importing `seq2seq_attention` runs both before it
imports MXNet, and then `plain_operator_parameters`, which on NumPy 2 turns
NumPy scalars in parameters into Python numbers before MXNet writes them.
"""
import builtins
import importlib.util
import math
import types

import numpy

_FINANCIAL = ('In accordance with NEP 32, the function {} was removed from '
              'NumPy version 1.20.  A replacement for this function is '
              'available in the numpy_financial library: '
              'https://pypi.org/project/numpy-financial')


def _removed_financial(name):
    """NumPy 1.23's stand-in for a removed financial function.

    It raises when called.
    """
    def removed(*args, **kwargs):
        raise RuntimeError(_FINANCIAL.format(name))
    removed.__name__ = removed.__qualname__ = name
    removed.__doc__ = ('Removed from NumPy 1.20 (NEP 32); '
                       'calling it raises RuntimeError.')
    return removed


def alltrue(a, axis=None, out=None, keepdims=numpy._NoValue):
    """NumPy 1.23's `alltrue`: the same as `numpy.all`."""
    return numpy.all(a, axis=axis, out=out, keepdims=keepdims)


def sometrue(a, axis=None, out=None, keepdims=numpy._NoValue):
    """NumPy 1.23's `sometrue`: the same as `numpy.any`."""
    return numpy.any(a, axis=axis, out=out, keepdims=keepdims)


def product(*args, **kwargs):
    """NumPy 1.23's `product`: the same as `numpy.prod`."""
    return numpy.prod(*args, **kwargs)


def round_(a, decimals=0, out=None):
    """NumPy 1.23's `round_`: the same as `numpy.round`."""
    return numpy.round(a, decimals=decimals, out=out)


def msort(a):
    """NumPy 1.23's `msort`: a copy of `a` sorted along its first axis."""
    b = numpy.array(a, subok=True, copy=True)
    b.sort(0)
    return b


# Every name that MXNet 1.9.1 reads from NumPy and some NumPy >= 1.23 lacks,
# with NumPy 1.23's value.
# (Found by reading MXNet's Python source: `onp.X` attributes, and the names
# it looks up by string in `numpy_dispatch_protocol.py`; tests/test_compat.py
# checks the list is complete.)
MXNET_NUMPY_NAMES = {
    # removed in NumPy 1.24 (`bool` came back in 2.0, as numpy.bool_)
    'bool': builtins.bool,                # mxnet.numpy dtype checks
    'int': builtins.int,                  # mxnet.test_utils
    # removed in NumPy 2.0
    'Inf': math.inf,                      # gluon.contrib.estimator
    'NAN': math.nan, 'NaN': math.nan,     # mxnet.numpy constants
    'NINF': -math.inf, 'PINF': math.inf,
    'NZERO': -0.0, 'PZERO': 0.0,
    'alltrue': alltrue, 'sometrue': sometrue, 'product': product,
    'round_': round_, 'msort': msort,     # mxnet.numpy.fallback,
                                          # array-function dispatch
    'compat': types.SimpleNamespace(basestring=str),  # numpy.compat.basestring
                                                      # in np.pad
    # removed in NumPy 1.20; until 1.24 stand-ins that raise, which
    # mxnet.numpy.fallback reads
    **{name: _removed_financial(name)
       for name in ('mirr', 'npv', 'pmt', 'ppmt', 'pv', 'rate')},
}


def _has(module, name):
    """Whether `module.name` exists.

    NumPy 1.23 warns on some names; that counts as present.
    """
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            getattr(module, name)
        except AttributeError:
            return False
    return True


def restore_numpy_names(np_module=numpy):
    """Give `np_module` each name of `MXNET_NUMPY_NAMES` it lacks.

    Return the names restored.
    """
    restored = [name for name in MXNET_NUMPY_NAMES if not _has(np_module, name)]
    for name in restored:
        setattr(np_module, name, MXNET_NUMPY_NAMES[name])
    return restored


def ensure_distutils():
    """Make `import distutils` work.

    Python 3.12 removed it; setuptools provides a copy.
    """
    if importlib.util.find_spec('distutils') is not None:
        return
    try:
        # its import puts its own distutils in place
        import setuptools  # noqa: F401
    except ImportError:
        raise ImportError('MXNet 1.9.1 imports distutils, which Python 3.12 '
                          'removed from its standard library: '
                          'install setuptools (pip install setuptools)'
                          ) from None
    if importlib.util.find_spec('distutils') is None:
        raise ImportError('MXNet 1.9.1 imports distutils, and the installed '
                          'setuptools does not provide it '
                          '(is SETUPTOOLS_USE_DISTUTILS=stdlib set?)')


def _plain(value):
    """`value` with every NumPy scalar in it a Python one.

    NumPy scalars are found at any depth of lists and tuples.
    """
    if isinstance(value, numpy.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return value


def _with_plain_parameters(invoke, vals_index):
    """Wrap MXNet's `invoke(...)` so that its parameter values are plain.

    The parameter values are `args[vals_index]`.
    """
    def invoke_plain(*args):
        args = list(args)
        args[vals_index] = [_plain(v) for v in args[vals_index]]
        return invoke(*args)
    invoke_plain.__wrapped__ = invoke
    return invoke_plain


def plain_operator_parameters():
    """On NumPy 2, make MXNet write parameters' scalars as NumPy 1 did.

    Every operator function MXNet generates calls `_imperative_invoke` (arrays)
    or `_symbol_creator` (graphs) from the module that generated it; both are
    wrapped there. Returns whether anything was wrapped (never on NumPy 1.x,
    whose `str()` is already plain).
    """
    if int(numpy.__version__.split('.')[0]) < 2:
        return False
    from mxnet.ndarray import register as nd_register
    from mxnet.symbol import register as sym_register
    for module, name, vals_index in ((nd_register, '_imperative_invoke', 3),
                                     (sym_register, '_symbol_creator', 4)):
        invoke = getattr(module, name)
        if not hasattr(invoke, '__wrapped__'):
            setattr(module, name, _with_plain_parameters(invoke, vals_index))
    return True
