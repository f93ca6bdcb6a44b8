"""Data parallelism across processes with MXNet's `dist_sync`
kvstore, on 127.0.0.1 only.

The test starts MXNet's parameter server the standard way (a scheduler and a
server process with DMLC_ROLE set, which run the server when they import mxnet;
they import it through seq2seq_attention, which NumPy 2 needs) and two worker
processes (tests/dist_worker.py), each training on its share of every batch
(batches of 3, 3 and 2 examples: shares of 2 and 1, then 1 and 1). Worker 1
initializes its model with another seed, so the workers start equal only if
worker 0's parameters reach worker 1 before its first gradient. Both workers
must end with the same parameters, equal to one process trained on the whole
batches, and report that process's losses and token counts (those of all workers
together). Every process the test starts is stopped by it, also when it fails.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

# first: it prepares MXNet, see its docstring
import seq2seq_attention  # noqa: F401
import mxnet as mx
import numpy as onp
import pytest

from conftest import tiny_data
from seq2seq_attention import set_seed

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import dist_worker  # noqa: E402

TIMEOUT = 300  # seconds for the whole run; it takes about 15 here


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start(role, env, log_dir, args):
    """Start one process of the parameter server with
    DMLC_ROLE=role, logging to a file."""
    log = open(log_dir / f'{role}-{len(list(log_dir.iterdir()))}.log', 'w')
    return subprocess.Popen(
        [sys.executable] + args,
        env=dict(env, DMLC_ROLE=role),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=HERE,
    )


def wait_for_workers(workers, servers, log_dir):
    """Wait until the workers exit; fail at once if one fails or a
    server process dies early."""
    deadline = time.monotonic() + TIMEOUT
    while any(w.poll() is None for w in workers):
        failed = [p for p in workers + servers if p.poll() not in (None, 0)]
        assert not failed, (
            f'a process exited with status {failed[0].returncode}\n'
            f'{logs(log_dir)}'
        )
        assert time.monotonic() < deadline, (
            f'workers still running after {TIMEOUT} s\n{logs(log_dir)}'
        )
        time.sleep(0.5)
    assert all(w.returncode == 0 for w in workers), logs(log_dir)


def logs(log_dir):
    """Everything the processes printed, for a failure message."""
    return '\n'.join(
        f'--- {p.name}\n{p.read_text()[-3000:]}'
        for p in sorted(log_dir.iterdir())
    )


@pytest.mark.slow
def test_two_workers_end_equal_to_one_process_on_the_union_of_their_batches(
    tmp_path,
):
    out, log_dir = tmp_path / 'out', tmp_path / 'logs'
    out.mkdir()
    log_dir.mkdir()
    env = dict(
        os.environ,
        DMLC_PS_ROOT_URI='127.0.0.1',
        DMLC_PS_ROOT_PORT=str(free_port()),
        DMLC_NUM_SERVER='1',
        DMLC_NUM_WORKER='2',
        DMLC_NODE_HOST='127.0.0.1',
        DMLC_INTERFACE='lo',
    )  # loopback only
    procs = []
    try:
        procs.append(
            start('scheduler', env, log_dir, ['-c', 'import seq2seq_attention'])
        )
        procs.append(
            start('server', env, log_dir, ['-c', 'import seq2seq_attention'])
        )
        workers = [
            start(
                'worker', env, log_dir, [str(HERE / 'dist_worker.py'), str(out)]
            )
            for _ in range(2)
        ]
        procs += workers
        wait_for_workers(workers, procs[:2], log_dir)
        for server in procs[:2]:  # they leave once the workers are done
            assert server.wait(timeout=60) == 0, logs(log_dir)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    ranks = [
        json.loads((out / f'worker{r}.json').read_text()) for r in range(2)
    ]
    assert (
        sorted(r['rank'] for r in ranks) == [0, 1]
        and ranks[0]['num_workers'] == 2
    )
    params = [mx.nd.load(str(out / f'worker{r}.params')) for r in range(2)]
    assert params[0].keys() == params[1].keys()
    for name in params[0]:
        onp.testing.assert_array_equal(
            params[0][name].asnumpy(), params[1][name].asnumpy(), err_msg=name
        )

    # one process, the whole batches (the union of the workers' halves)
    set_seed(0)
    data_iter, src_vocab, tgt_vocab = tiny_data(
        batch_size=dist_worker.BATCH_SIZE
    )
    net, history = dist_worker.train(data_iter, src_vocab, tgt_vocab)
    net.save_parameters(str(out / 'one.params'))
    reference = {
        n: a.asnumpy() for n, a in mx.nd.load(str(out / 'one.params')).items()
    }
    assert reference.keys() == params[0].keys()
    for name, value in reference.items():
        onp.testing.assert_allclose(
            params[0][name].asnumpy(), value, rtol=1e-4, atol=1e-5, err_msg=name
        )
    # every worker reports the figures of all workers
    # together: the single process's
    for r in ranks:
        assert r['tokens'] == history.tokens, r['rank']
        onp.testing.assert_allclose(
            r['history'], history, rtol=1e-5, err_msg=r['rank']
        )
    # and training moved the parameters: the loss fell
    assert history[-1] < history[0]
