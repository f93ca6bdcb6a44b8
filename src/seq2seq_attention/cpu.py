"""Pinned CPU kernels: the same numbers on any x86-64 AVX2 CPU, any core count.

MXNet's CPU wheel computes with three libraries, and two of them choose their
code by the CPU they run on; all three split work over OpenMP threads:

| library                  | computes here                     |
| ------------------------ | --------------------------------- |
| oneDNN 2.4 (in libmxnet) | LSTM, `Dense`, softmax, tanh      |
| OpenBLAS 0.3.13          | `matmul`, `batch_dot`             |
| MXNet's own kernels      | embedding, masks, sums, Adam      |
| all three (OpenMP)       | how sums are split across threads |

| library                  | chooses by            | pinned by          |
| ------------------------ | --------------------- | ------------------ |
| oneDNN 2.4 (in libmxnet) | widest vector ISA     | `DNNL_MAX_CPU_ISA` |
| OpenBLAS 0.3.13          | CPU model             | `OPENBLAS_CORETYPE`|
| MXNet's own kernels      | nothing (built: SSE3) |                    |
| all three (OpenMP)       | `OMP_NUM_THREADS`     | `OMP_NUM_THREADS`  |

Kernels for another vector width or CPU model add the same numbers in another
order, so the last bits differ, and a few hundred training steps turn that into
a different third digit of the loss. The thread count does too (measured: 3 or 4
threads change the loss within 20 epochs; 1, 2 and 8 happen not to). So, before
MXNet is loaded, `pin_cpu_kernels` fixes all three:

- oneDNN capped at AVX2, which every x86-64 CPU since 2013-2015 has (Intel
  Haswell, AMD Zen);
- OpenBLAS's Haswell kernels (AVX2 and FMA), whatever model the CPU is;
- one OpenMP thread: the book's models are so small that more threads do not
  help (on the book's 2-core machine, 2 threads trained chapter 5's model at
  half the speed of 1).

Each library reads its variable once, when MXNet's shared libraries load;
importing `seq2seq_attention` before MXNet is therefore enough, and the chapters
do. Set `SEQ2SEQ_ATTENTION_CPU=native` to leave the environment alone (each
library then picks what suits the CPU: possibly faster, but the last digits are
this CPU's). GPUs are not affected.
"""
import os
import platform
import sys
import warnings

MODE_VARIABLE = 'SEQ2SEQ_ATTENTION_CPU'
PORTABLE_SETTINGS = {
    # oneDNN: no AVX-512 kernels even where the CPU has them
    'DNNL_MAX_CPU_ISA': 'AVX2',
    # OpenBLAS: its AVX2 + FMA kernels on every CPU
    'OPENBLAS_CORETYPE': 'Haswell',
    # every library: one thread, one order of summation
    'OMP_NUM_THREADS': '1',
}


def cpu_flags():
    """The CPU's feature flags (lower case), or None if they cannot be read."""
    if sys.platform.startswith('linux'):
        try:
            with open('/proc/cpuinfo', encoding='utf-8', errors='replace') as f:
                for line in f:
                    if line.startswith('flags'):
                        return set(line.split(':', 1)[1].lower().split())
        except OSError:
            return None
    elif sys.platform == 'darwin':
        import subprocess
        try:
            out = subprocess.run(['sysctl', '-n', 'machdep.cpu.features',
                                  'machdep.cpu.leaf7_features'],
                                 capture_output=True, text=True,
                                 timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return None
        return set(out.lower().replace('.', '_').split()) or None
    return None


def pin_cpu_kernels(environ=None):
    """Fix the CPU kernels and thread count MXNet will use.

    Return the settings made. Does nothing with `SEQ2SEQ_ATTENTION_CPU=native`,
    and warns where the settings cannot apply: a CPU without AVX2, or MXNet
    already loaded with other settings.
    """
    environ = os.environ if environ is None else environ
    mode = environ.get(MODE_VARIABLE, 'portable')
    if mode == 'native':
        return {}
    if mode != 'portable':
        raise ValueError(f"{MODE_VARIABLE} must be 'portable' or 'native', "
                         f"got {mode!r}")
    settings = dict(PORTABLE_SETTINGS)
    flags = cpu_flags()
    if (platform.machine().lower() not in ('x86_64', 'amd64') or flags is None
            or not ({'avx2', 'fma'} <= flags)):
        # OpenBLAS's Haswell kernels would stop the process
        # with an illegal instruction
        del settings['OPENBLAS_CORETYPE']
        warnings.warn(f'this CPU ({platform.machine()}) has no AVX2 and FMA '
                      '(or they cannot be detected): MXNet computes with '
                      'other kernels here, so results may differ in their '
                      "last digits from the book's", RuntimeWarning,
                      stacklevel=2)
    late = [k for k, v in settings.items() if environ.get(k) != v]
    if 'mxnet' in sys.modules and late:
        warnings.warn(f'MXNet was imported before seq2seq_attention, so '
                      f'{", ".join(late)} could not be pinned: results may '
                      "differ in their last digits from the book's. Import "
                      'seq2seq_attention first.', RuntimeWarning, stacklevel=2)
    environ.update(settings)
    return settings
