"""Pinned CPU kernels: the settings, what each library really uses,
and equal training results.

A user's environment may ask for other kernels or thread counts; importing
seq2seq_attention must override it (unless SEQ2SEQ_ATTENTION_CPU=native), so
that training gives the same bits. Each run that loads MXNet under another
environment is a fresh process.
"""

import os
import sys

import conftest
import pytest

from seq2seq_attention import cpu
from seq2seq_attention.cpu import (
    MODE_VARIABLE,
    PORTABLE_SETTINGS,
    pin_cpu_kernels,
)

HOSTILE = {
    'OMP_NUM_THREADS': '4',
    'DNNL_MAX_CPU_ISA': 'ALL',
    'OPENBLAS_CORETYPE': 'Prescott',
}


def run_python(code, env):
    """Run `code` in a fresh interpreter with `env` added to an environment
    without the kernel settings; its last stdout line as JSON, its stdout."""
    return conftest.run_python(
        code, env, drop=(*PORTABLE_SETTINGS, MODE_VARIABLE)
    )


def test_portable_mode_sets_the_three_variables_whatever_they_were(monkeypatch):
    """The default mode overrides a user's values; the
    result says what was set."""
    monkeypatch.setattr(cpu, 'cpu_flags', lambda: {'avx2', 'fma', 'sse2'})
    monkeypatch.setattr(cpu.platform, 'machine', lambda: 'x86_64')
    environ = dict(
        PORTABLE_SETTINGS
    )  # as if MXNet had been loaded with them: no warning
    environ['UNRELATED'] = 'kept'
    assert pin_cpu_kernels(environ) == PORTABLE_SETTINGS
    assert environ == dict(PORTABLE_SETTINGS, UNRELATED='kept')


def test_native_mode_leaves_the_environment_alone():
    """SEQ2SEQ_ATTENTION_CPU=native: nothing is set."""
    environ = {MODE_VARIABLE: 'native', 'OMP_NUM_THREADS': '4'}
    assert pin_cpu_kernels(environ) == {}
    assert environ == {MODE_VARIABLE: 'native', 'OMP_NUM_THREADS': '4'}


def test_an_unknown_mode_is_an_error_that_names_the_variable():
    """A typo in the mode is refused, naming the variable
    and the allowed values."""
    with pytest.raises(
        ValueError, match=f"{MODE_VARIABLE} must be 'portable' or 'native'"
    ):
        pin_cpu_kernels({MODE_VARIABLE: 'fast'})


def test_without_avx2_openblas_is_not_forced_and_a_warning_says_why(
    monkeypatch,
):
    """Haswell kernels on a CPU without AVX2 would crash: they are
    left out, with a warning."""
    monkeypatch.setattr(cpu, 'cpu_flags', lambda: {'sse2', 'sse4_2'})
    environ = {
        'OMP_NUM_THREADS': '1',
        'DNNL_MAX_CPU_ISA': 'AVX2',
    }  # (as MXNet was loaded)
    with pytest.warns(RuntimeWarning, match='no AVX2'):
        settings = pin_cpu_kernels(environ)
    assert (
        'OPENBLAS_CORETYPE' not in settings
        and 'OPENBLAS_CORETYPE' not in environ
    )
    assert environ['OMP_NUM_THREADS'] == '1'


def test_pinning_after_mxnet_was_loaded_warns():
    """MXNet is loaded in this process: pinning other values now
    cannot work, and says so."""
    assert 'mxnet' in sys.modules
    with pytest.warns(
        RuntimeWarning, match='imported before seq2seq_attention'
    ):
        pin_cpu_kernels({'OMP_NUM_THREADS': '4'})


@pytest.mark.slow
def test_each_library_uses_the_pinned_kernels_and_one_thread():
    """In a process started with other settings: OpenBLAS Haswell,
    oneDNN AVX2, one thread."""
    if cpu.cpu_flags() is None or not {'avx2', 'fma'} <= cpu.cpu_flags():
        pytest.skip(
            'this CPU has no AVX2 and FMA: the kernels cannot be pinned here'
        )
    out, stdout = run_python(
        '''
        import ctypes, json, os, threading
        import seq2seq_attention
        import mxnet
        from mxnet import np
        from mxnet.gluon import nn
        folder = os.path.dirname(mxnet.__file__)
        openblas = ctypes.CDLL(os.path.join(folder, 'libopenblas.so.0'))
        openblas.openblas_get_corename.restype = ctypes.c_char_p
        gomp = ctypes.CDLL('libgomp.so.1')
        threads = []  # a new thread has the process's default OpenMP settings
        t = threading.Thread(target=lambda: \
threads.append(gomp.omp_get_max_threads()))
        t.start()
        t.join()
        layer = nn.Dense(3)
        layer.initialize()
        layer(np.ones((2, 4))).wait_to_read()  # oneDNN runs it and prints \
the ISA it uses
        print(json.dumps(dict(core=openblas.openblas_get_corename().decode(),
                              threads=threads[0])))
    ''',
        dict(HOSTILE, DNNL_VERBOSE='1'),
    )
    assert out == {'core': 'Haswell', 'threads': 1}
    isa = [
        line for line in stdout.splitlines() if ',isa:' in line
    ]  # DNNL_VERBOSE's line
    assert len(isa) == 1 and isa[0].endswith('isa:Intel AVX2'), (
        isa or stdout[-2000:]
    )


TRAIN = '''
    import hashlib, json
    import seq2seq_attention
    import mxnet as mx
    from seq2seq_attention import Seq2SeqConfig, build_seq2seq, \
load_data_nmt, set_seed
    from seq2seq_attention.training import train_s2s
    set_seed(0)
    data_iter, src_vocab, tgt_vocab = load_data_nmt(64, 10, 600)
    net = build_seq2seq(Seq2SeqConfig(len(src_vocab), len(tgt_vocab), \
32, 32, 2))
    history = train_s2s(net, data_iter, 0.005, 20, tgt_vocab, mx.cpu())
    sha1 = hashlib.sha1()
    for name, p in sorted(net.collect_params().items()):
        sha1.update(p.data().asnumpy().tobytes())
    print(json.dumps(dict(loss=history[-1], params=sha1.hexdigest())))
'''


@pytest.mark.slow
def test_training_gives_the_same_bits_whatever_the_environment_asks(
    corpus_path,
):
    """20 epochs of the chapter's model: equal parameters with and without a
    hostile environment; in native mode that environment changes them (so
    the pins are what holds)."""
    corpus = {'FRA_ENG_ZIP': os.environ.get('FRA_ENG_ZIP', str(corpus_path))}
    default, _ = run_python(TRAIN, corpus)
    hostile, _ = run_python(TRAIN, dict(corpus, **HOSTILE))
    assert hostile == default
    native, _ = run_python(
        TRAIN, dict(corpus, **HOSTILE, **{MODE_VARIABLE: 'native'})
    )
    assert native['params'] != default['params'], (
        'with 4 threads and unpinned kernels training gave the same bits: '
        'this test could '
        'not tell pinned from unpinned on this machine'
    )
