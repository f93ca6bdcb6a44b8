"""The NumPy/Python compatibility layer: the names MXNet reads,
distutils, operator parameters.

Each check that needs an unpatched NumPy runs in a fresh interpreter (this
process imported seq2seq_attention already), so every stack that runs this
file checks its own NumPy.
"""

import ast
import json
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as onp
import pytest
from mxnet import autograd, np, npx
from mxnet.gluon import nn

from seq2seq_attention import compat
from seq2seq_attention.compat import MXNET_NUMPY_NAMES, _plain


def run_python(code):
    """Run `code` in a fresh interpreter of this environment;
    return its stdout as JSON."""
    result = subprocess.run(
        [sys.executable, '-c', textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def numpy_names_mxnet_reads():
    """Every attribute MXNet's Python source reads from
    NumPy, including by string."""
    import mxnet

    root = Path(mxnet.__file__).parent
    names = set()
    for path in root.rglob('*.py'):
        with (
            warnings.catch_warnings()
        ):  # MXNet's source has invalid escapes in strings
            warnings.simplefilter('ignore')
            tree = ast.parse(path.read_text(encoding='utf-8', errors='replace'))
        aliases = {
            a.asname or 'numpy'
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for a in node.names
            if a.name == 'numpy'
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.module == 'numpy'
                and not node.level
            ):
                names.update(a.name for a in node.names)
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                names.add(node.attr)
            elif (
                isinstance(node, ast.Assign)
                and path.name == 'numpy_dispatch_protocol.py'
                and getattr(node.targets[0], 'id', '').startswith(
                    '_NUMPY_ARRAY_'
                )
            ):
                # the operators it looks up with getattr(numpy, name)
                names.update(e.value.split('.')[0] for e in node.value.elts)
    return sorted(names)


def test_the_table_holds_every_name_mxnet_reads_that_this_numpy_lacks():
    """Scanning MXNet's source finds no name this NumPy lacks that the
    table would not restore."""
    names = numpy_names_mxnet_reads()
    assert len(names) > 200, (
        f'the scan found only {len(names)} names: is MXNet installed?'
    )
    missing = run_python(f'''
        import json, warnings
        import numpy
        warnings.simplefilter('ignore')
        print(json.dumps([n for n in {names!r} if not hasattr(numpy, n)]))
    ''')
    assert set(missing) <= set(MXNET_NUMPY_NAMES), (
        'MXNet reads names this NumPy lacks and '
        'compat.MXNET_NUMPY_NAMES does not restore: '
        f'{sorted(set(missing) - set(MXNET_NUMPY_NAMES))}'
    )


def test_restores_exactly_the_missing_names_and_nothing_on_numpy_1_23():
    """restore_numpy_names adds only absent names, all of them,
    once; none on NumPy 1.23."""
    out = run_python('''
        import json, warnings
        import numpy
        from seq2seq_attention.compat import MXNET_NUMPY_NAMES, _has
        import seq2seq_attention  # noqa: F401
        absent = [n for n in MXNET_NUMPY_NAMES if not _has(numpy, n)]
        print(json.dumps(dict(version=numpy.__version__, \
absent_after_import=absent)))
    ''')
    assert out['absent_after_import'] == [], (
        'importing seq2seq_attention left names missing'
    )
    # load compat.py on its own (not through the package, which
    # would restore at import)
    out = run_python(f'''
        import importlib.util, json
        import numpy
        spec = importlib.util.spec_from_file_location('compat_alone', \
{compat.__file__!r})
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        absent = [n for n in module.MXNET_NUMPY_NAMES \
if not module._has(numpy, n)]
        restored = module.restore_numpy_names()
        again = module.restore_numpy_names()
        still = [n for n in module.MXNET_NUMPY_NAMES \
if not module._has(numpy, n)]
        print(json.dumps(dict(version=numpy.__version__, absent=absent, \
restored=restored,
                              again=again, still=still)))
    ''')
    assert (
        out['restored'] == out['absent']
        and out['again'] == []
        and out['still'] == []
    )
    if out['version'].startswith('1.23.'):
        assert out['restored'] == [], (
            f'NumPy 1.23 needs nothing, got {out["restored"]}'
        )
    if out['version'].startswith('2.'):
        assert 'PZERO' in out['restored'] and 'bool' not in out['restored']


def test_restored_functions_compute_what_numpy_1_23_did():
    """The restored functions agree with the NumPy functions they stood for."""
    a = onp.array([[3, 0, 2], [1, 5, 0]])
    f = MXNET_NUMPY_NAMES
    assert f['alltrue'](a) == onp.all(a) and f['sometrue'](a) == onp.any(a)
    onp.testing.assert_array_equal(f['alltrue'](a, axis=0), onp.all(a, axis=0))
    assert f['product'](a[0] + 1) == onp.prod(a[0] + 1)
    onp.testing.assert_array_equal(
        f['round_'](onp.array([1.26, -2.5]), 1), [1.3, -2.5]
    )
    onp.testing.assert_array_equal(f['msort'](a), onp.sort(a, axis=0))
    assert (
        f['NINF'] == -onp.inf
        and onp.isnan(f['NaN'])
        and str(f['NZERO']) == '-0.0'
    )
    with pytest.raises(RuntimeError, match='numpy_financial'):
        f['npv'](0.1, [1, 2])


def test_mxnet_imports_distutils_through_the_package():
    """After importing seq2seq_attention, distutils (needed by MXNet)
    imports on any Python."""
    assert (
        run_python('''
        import json
        import seq2seq_attention
        from distutils.version import LooseVersion
        print(json.dumps(str(LooseVersion('1.2'))))
    ''')
        == '1.2'
    )


def test_plain_turns_numpy_scalars_into_python_numbers_at_any_depth():
    """_plain: NumPy scalars in nested lists and tuples become Python
    numbers; the rest stays."""
    value = _plain(
        [0, onp.int64(4), (onp.float32(0.5), [onp.int32(-1)]), 'x', None]
    )
    assert value == [0, 4, (0.5, [-1]), 'x', None]
    assert str(value) == "[0, 4, (0.5, [-1]), 'x', None]"
    assert type(value[1]) is int and type(value[2]) is tuple


class ReshapeWithNumpyInts(nn.HybridBlock):
    """A block whose graph holds an operator parameter
    made of NumPy integers."""

    def hybrid_forward(self, F, X):
        """Flatten `X` to (rows, cols) given as NumPy integers."""
        return F.np.reshape(X, (onp.int64(-1), onp.int64(6)))  # (batch_size, 6)


@pytest.mark.parametrize('hybridize', [False, True])
def test_operator_parameters_may_hold_numpy_integers(hybridize):
    """Shapes and split points holding NumPy integers work
    (NumPy 2 writes np.int64(4))."""
    X = np.arange(12).reshape(2, 3, 2)
    assert np.zeros((onp.int64(2), 3)).shape == (2, 3)
    first, _ = np.split(np.arange(6), [onp.int64(2)])
    assert first.tolist() == [0.0, 1.0]
    block = ReshapeWithNumpyInts()
    if hybridize:
        block.hybridize()
    with autograd.record():
        Y = block(X)
    assert Y.shape == (2, 6)
    assert npx.is_np_array()
