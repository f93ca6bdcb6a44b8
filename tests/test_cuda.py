"""Loading the CUDA 11 libraries of MXNet's GPU build, tested on
CPU with stand-in libraries.

No GPU and no CUDA 11 exist here. The stand-ins are tiny shared libraries
compiled on the spot, each with the real soname and the real dependencies
(`NEEDED` entries, from the table in seq2seq_attention.cuda) of the library it
stands for, laid out as the pip wheels lay them out
(site-packages/nvidia/<folder>/lib/). Loading them checks the search order, the
load order (a library loaded before one it needs fails, since their folders are
on no library path) and the errors. Every load happens in a fresh process.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from seq2seq_attention import cuda
from seq2seq_attention.cuda import CUDA_LIBRARIES

ROOT = Path(__file__).resolve().parents[1]
CC = shutil.which('cc') or shutil.which('gcc')
needs_cc = pytest.mark.skipif(
    CC is None, reason='no C compiler (cc or gcc) to build stand-ins'
)
BUILTINS = 'libnvrtc-builtins.so.11.8'


def build_library(path, soname, needs=(), search=()):
    """Compile an empty shared library at `path` with `soname` that needs the
    libraries `needs` (found at link time in the folders `search`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    source = path.parent / f'{soname}.c'
    source.write_text(
        f'int standin_{re.sub(r"[^a-z0-9]", "_", soname)}'
        '(void) { return 1; }\n'
    )
    command = [
        CC,
        '-shared',
        '-fPIC',
        '-o',
        str(path),
        str(source),
        f'-Wl,-soname,{soname}',
        '-Wl,--no-as-needed',
    ]
    command += [f'-L{folder}' for folder in search] + [f'-l:{n}' for n in needs]
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    source.unlink()


@pytest.fixture(scope='module')
def site(tmp_path_factory):
    """A stand-in site-packages holding every library at its wheel's place."""
    root = tmp_path_factory.mktemp('site')
    folders = {
        soname: root / 'nvidia' / folder / 'lib'
        for soname, _, folder, _ in CUDA_LIBRARIES
    }
    for soname, _, folder, needs in CUDA_LIBRARIES:
        build_library(
            folders[soname] / soname, soname, needs, {folders[n] for n in needs}
        )
    build_library(folders['libnvrtc.so.11.2'] / BUILTINS, BUILTINS)
    return root


def load_in_subprocess(paths, env=None, before=''):
    """Run load_cuda_libraries(paths, force=True) in a fresh process;
    return its JSON report."""
    code = textwrap.dedent(f'''
        import json
        from seq2seq_attention import cuda
        {before}
        try:
            loaded = cuda.load_cuda_libraries(\
paths={[str(p) for p in paths]!r}, force=True)
        except cuda.CudaLibraryError as e:
            print(json.dumps(dict(error=str(e))))
        else:
            maps = open('/proc/self/maps').read()
            print(json.dumps(dict(loaded=loaded, \
mapped=[p for _, p in loaded if p and p in maps],
                                  maps=[l.split()[-1] for l in maps.splitlines()
                                        if 'standin' in l or '.so.' in l])))
    ''')
    result = subprocess.run(
        [sys.executable, '-c', code],
        capture_output=True,
        text=True,
        env=dict(os.environ, **(env or {})),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_load_order_puts_every_library_after_those_it_needs():
    """The table is a topological order of its own `needs`, and
    names each soname once."""
    seen = []
    for soname, _, _, needs in CUDA_LIBRARIES:
        assert set(needs) <= set(seen), (
            f'{soname} comes before {set(needs) - set(seen)}'
        )
        seen.append(soname)
    assert len(seen) == len(set(seen))


def test_requirements_extra_and_table_name_the_same_packages():
    """requirements-gpu.txt, pyproject's `gpu` extra and
    the loader's table agree."""
    import tomllib

    lines = (ROOT / 'requirements-gpu.txt').read_text().splitlines()
    pinned = {line.strip() for line in lines if line.startswith('nvidia-')}
    extra = set(
        tomllib.loads((ROOT / 'pyproject.toml').read_text())['project'][
            'optional-dependencies'
        ]['gpu']
    )
    assert pinned == extra
    assert {p.split('==')[0] for p in pinned} == {
        package for _, package, _, _ in CUDA_LIBRARIES
    }
    assert any(line.startswith('mxnet-cu112==') for line in lines)


def test_nothing_is_loaded_without_the_gpu_wheel():
    """With MXNet's CPU wheel, load_cuda_libraries does nothing."""
    if cuda.gpu_wheel_installed():
        pytest.skip(f'{cuda.gpu_wheel_installed()} is installed here')
    assert cuda.load_cuda_libraries() == []


@needs_cc
def test_all_load_from_the_pip_folders_in_order(site):
    """Every library loads from its wheel's folder, in the table's order
    (nvrtc's builtins beside nvrtc), and is mapped into the process."""
    report = load_in_subprocess([site])
    assert 'error' not in report, report
    expected = []
    for soname, _, folder, _ in CUDA_LIBRARIES:
        expected.append(
            [soname, str(site / 'nvidia' / folder / 'lib' / soname)]
        )
        if soname == 'libnvrtc.so.11.2':
            expected.append(
                [BUILTINS, str(site / 'nvidia' / folder / 'lib' / BUILTINS)]
            )
    assert report['loaded'] == expected
    assert len(report['mapped']) == len(expected)


@needs_cc
def test_the_order_matters(site):
    """Loaded in reverse, a library comes before one it needs and cannot load
    (so the test above would catch a wrong order)."""
    report = load_in_subprocess([site], before='cuda.CUDA_LIBRARIES.reverse()')
    assert 'error' in report and 'libcudnn_adv_train.so.8' in report['error']


@needs_cc
def test_a_missing_library_is_an_error_naming_it_and_its_package(
    site, tmp_path
):
    """No libnccl.so.2 anywhere: the error names the
    soname and the pip package."""
    partial = tmp_path / 'site'
    shutil.copytree(site, partial)
    shutil.rmtree(partial / 'nvidia' / 'nccl')
    report = load_in_subprocess([partial])
    assert 'libnccl.so.2' in report.get('error', ''), report
    assert (
        'nvidia-nccl-cu11' in report['error']
        and 'requirements-gpu.txt' in report['error']
    )


@needs_cc
def test_the_system_loader_is_asked_when_no_wheel_has_the_library(
    site, tmp_path
):
    """libnccl.so.2 only on LD_LIBRARY_PATH: it is loaded from
    there (reported path None)."""
    partial = tmp_path / 'site'
    shutil.copytree(site, partial)
    shutil.rmtree(partial / 'nvidia' / 'nccl')
    system = tmp_path / 'system-lib'
    build_library(system / 'libnccl.so.2', 'libnccl.so.2')
    report = load_in_subprocess([partial], env={'LD_LIBRARY_PATH': str(system)})
    assert 'error' not in report, report
    assert ['libnccl.so.2', None] in report['loaded']
    assert str(system / 'libnccl.so.2') in report['maps']


@needs_cc
def test_the_pip_wheel_comes_before_the_system(site, tmp_path):
    """libnccl.so.2 in both places: the wheel's copy is the one loaded."""
    system = tmp_path / 'system-lib'
    build_library(system / 'libnccl.so.2', 'libnccl.so.2')
    report = load_in_subprocess([site], env={'LD_LIBRARY_PATH': str(system)})
    wheel_copy = str(site / 'nvidia' / 'nccl' / 'lib' / 'libnccl.so.2')
    assert ['libnccl.so.2', wheel_copy] in report['loaded']
    assert str(system / 'libnccl.so.2') not in report['maps']


def test_with_the_gpu_wheel_and_no_libraries_the_import_says_what_to_install(
    tmp_path,
):
    """A stand-in mxnet-cu112 distribution and no CUDA 11 anywhere: importing
    the package fails with the first missing soname and how to install it,
    before MXNet is touched."""
    dist = tmp_path / 'mxnet_cu112-1.9.1.dist-info'
    dist.mkdir()
    (dist / 'METADATA').write_text(
        'Metadata-Version: 2.1\nName: mxnet-cu112\nVersion: 1.9.1\n'
    )
    code = textwrap.dedent(f'''
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        try:
            import seq2seq_attention
        except ImportError as e:
            print(type(e).__name__, e, 'mxnet' in sys.modules)
    ''')
    result = subprocess.run(
        [sys.executable, '-c', code],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stdout.startswith('CudaLibraryError'), (
        result.stdout + result.stderr[-2000:]
    )
    assert (
        'libcudart.so.11.0' in result.stdout
        and 'nvidia-cuda-runtime-cu11' in result.stdout
    )
    assert result.stdout.strip().endswith('False')  # MXNet was never imported
