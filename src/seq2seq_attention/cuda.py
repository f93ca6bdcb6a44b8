"""CUDA 11 libraries from pip wheels for MXNet's GPU build, loaded before MXNet.

`mxnet-cu112==1.9.1` links the CUDA 11.2-era libraries by name
(`libcudart.so.11.0`, `libcublas.so.11`, `libcudnn.so.8`, ...), which today's
systems and Colab no longer install: they carry CUDA 12 and cuDNN 9. NVIDIA
publishes the CUDA 11 libraries as pip wheels (`nvidia-*-cu11`, listed in
requirements-gpu.txt), which put each one in
`site-packages/nvidia/<folder>/lib/`: a folder no library path names, so neither
libmxnet.so nor the libraries themselves find them there. When the GPU wheel is
installed, `load_cuda_libraries` therefore loads every one of them before MXNet,
globally and each after the libraries it needs; the dynamic loader then finds
them already loaded when libmxnet.so asks for them by name.

Where each library is looked for, in order:

1. `nvidia/<folder>/lib/<soname>` under each entry of `sys.path` (the pip
   wheels);
2. the system's loader by soname (`LD_LIBRARY_PATH`, `ldconfig`): a CUDA 11
   installed by hand.

A library found in neither is an error that names its soname and the pip package
that provides it. The driver's `libcuda.so.1` comes from the system, as always.
Which GPUs the wheel runs on is the wheel's matter: its kernels are built for
sm_50/60/70/80/86 only, with no PTX (README).
"""
import ctypes
import ctypes.util
import importlib.metadata
import os
import sys

# MXNet's CUDA builds that link these libraries
GPU_DISTRIBUTIONS = ('mxnet-cu112',)

# (soname, pip package, folder under site-packages/nvidia, the sonames it
# needs): each entry after those it needs (read with `readelf -d` from the
# wheels of requirements-gpu.txt)
CUDA_LIBRARIES = [
    ('libcudart.so.11.0', 'nvidia-cuda-runtime-cu11', 'cuda_runtime', ()),
    ('libcublasLt.so.11', 'nvidia-cublas-cu11', 'cublas', ()),
    ('libcublas.so.11', 'nvidia-cublas-cu11', 'cublas', ('libcublasLt.so.11',)),
    ('libcufft.so.10', 'nvidia-cufft-cu11', 'cufft', ()),
    ('libcurand.so.10', 'nvidia-curand-cu11', 'curand', ()),
    ('libcusolver.so.11', 'nvidia-cusolver-cu11', 'cusolver',
     ('libcublas.so.11', 'libcublasLt.so.11')),
    ('libnvrtc.so.11.2', 'nvidia-cuda-nvrtc-cu11', 'cuda_nvrtc', ()),
    ('libnvToolsExt.so.1', 'nvidia-nvtx-cu11', 'nvtx', ()),
    ('libnccl.so.2', 'nvidia-nccl-cu11', 'nccl', ()),
    # cuDNN 8: libcudnn.so.8 opens its six parts at run time, by soname
    ('libcudnn_ops_infer.so.8', 'nvidia-cudnn-cu11', 'cudnn', ()),
    ('libcudnn_ops_train.so.8', 'nvidia-cudnn-cu11', 'cudnn',
     ('libcudnn_ops_infer.so.8',)),
    ('libcudnn_cnn_infer.so.8', 'nvidia-cudnn-cu11', 'cudnn',
     ('libcudnn_ops_infer.so.8',)),
    ('libcudnn_cnn_train.so.8', 'nvidia-cudnn-cu11', 'cudnn',
     ('libcudnn_ops_infer.so.8', 'libcudnn_ops_train.so.8',
      'libcudnn_cnn_infer.so.8')),
    ('libcudnn_adv_infer.so.8', 'nvidia-cudnn-cu11', 'cudnn',
     ('libcudnn_ops_infer.so.8',)),
    ('libcudnn_adv_train.so.8', 'nvidia-cudnn-cu11', 'cudnn',
     ('libcudnn_ops_infer.so.8', 'libcudnn_ops_train.so.8',
      'libcudnn_adv_infer.so.8')),
    ('libcudnn.so.8', 'nvidia-cudnn-cu11', 'cudnn', ()),
]
# nvrtc opens its builtins library (named after the CUDA minor version) at run
# time: loaded too when it lies beside libnvrtc, not required
NVRTC_BUILTINS_PREFIX = 'libnvrtc-builtins.so.11.'


class CudaLibraryError(ImportError):
    """A CUDA library MXNet's GPU build needs is missing or cannot be loaded."""


def gpu_wheel_installed():
    """Name of the installed MXNet GPU distribution (`mxnet-cu112`), or None."""
    for name in GPU_DISTRIBUTIONS:
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        return name
    return None


def pip_library(soname, folder, paths=None):
    """The path of `soname` from its pip wheel, or None.

    Its folder is `<path>/nvidia/<folder>/lib/`.
    """
    for entry in sys.path if paths is None else paths:
        candidate = os.path.join(entry or '.', 'nvidia', folder, 'lib', soname)
        if os.path.isfile(candidate):
            return candidate
    return None


def _load(name):
    """dlopen `name` (a path or a soname) with its symbols global.

    Raise OSError if it fails.
    """
    return ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)


def _clear_dlerror():
    """Clear a pending dlerror (cuDNN 8 takes it for its own and aborts).

    (cuBLASLt tries to open `libnvrtc.so`, which no wheel ships; the failure
    stays pending.)
    """
    libc = ctypes.CDLL(ctypes.util.find_library('dl') or None)
    libc.dlerror.restype = ctypes.c_char_p
    libc.dlerror()


def load_cuda_libraries(paths=None, force=False):
    """Load the CUDA 11 libraries of MXNet's GPU build, if it is installed.

    Returns `(soname, path)` pairs in load order, `path` being None for a
    library the system's loader found by soname; an empty list when no GPU wheel
    is installed (unless `force`). `paths` replaces `sys.path` as the folders
    whose `nvidia/` is searched.
    `paths` replaces `sys.path` as the folders whose `nvidia/` is searched.
    """
    if not force and gpu_wheel_installed() is None:
        return []
    loaded = []
    for soname, package, folder, _ in CUDA_LIBRARIES:
        path = pip_library(soname, folder, paths)
        try:
            _load(path or soname)
        except OSError as e:
            where = (f'from {path}' if path else
                     f'neither from the pip package {package} '
                     f'(nvidia/{folder}/lib/ in site-packages) '
                     f'nor from the system')
            raise CudaLibraryError(
                f"MXNet's GPU build needs {soname}, which could not be loaded "
                f'{where}: {e}. Install the CUDA 11 libraries with: '
                f'pip install --no-deps -r requirements-gpu.txt '
                f'(or pip install {package})') from None
        loaded.append((soname, path))
        if soname == 'libnvrtc.so.11.2' and path:
            lib_dir = os.path.dirname(path)
            for name in sorted(os.listdir(lib_dir)):
                if name.startswith(NVRTC_BUILTINS_PREFIX):
                    _load(os.path.join(lib_dir, name))
                    loaded.append((name, os.path.join(lib_dir, name)))
    _clear_dlerror()
    return loaded
