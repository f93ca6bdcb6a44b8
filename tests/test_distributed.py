"""Data parallelism across processes with MXNet's `dist_sync`
kvstore, on 127.0.0.1 only.

The test starts MXNet's parameter server with `distributed.launch_local` (a
scheduler and a server process with DMLC_ROLE set, which run the server when
they import mxnet; they import it through seq2seq_attention, which NumPy 2
needs) and two worker processes (tests/dist_worker.py), each training on its
share of every batch (batches of 3, 3 and 2 examples: shares of 2 and 1, then
1 and 1). Worker 1 initializes its model with another seed, so the workers
start equal only if worker 0's parameters reach worker 1 before its first
gradient. Both workers must end with the same parameters, equal to one process
trained on the whole batches, and report that process's losses and token
counts (those of all workers together). A worker that fails stops the run
instead of leaving the others waiting for its gradients.
"""

import json
import sys
from pathlib import Path

# first: it prepares MXNet, see its docstring
import seq2seq_attention  # noqa: F401
import mxnet as mx
import numpy as onp
import pytest

from conftest import tiny_data
from seq2seq_attention import set_seed
from seq2seq_attention.distributed import launch_local

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import dist_worker  # noqa: E402

TIMEOUT = 300  # seconds for the whole run; it takes about 15 here


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
    status = launch_local(
        [sys.executable, str(HERE / 'dist_worker.py'), str(out)],
        2,
        log_dir=log_dir,
        timeout=TIMEOUT,
    )
    assert status == 0, logs(log_dir)
    # the scheduler, the server and two workers, each with its log
    assert len(list(log_dir.iterdir())) == 4

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


# Rank 1 fails before its first gradient (as a script's error does, with
# sys.exit); rank 0 would wait for that gradient forever
FAILING_WORKER = """
import sys
import seq2seq_attention
import mxnet as mx
from seq2seq_attention.distributed import worker_main

def main():
    kv = mx.kv.create('dist_sync')
    if kv.rank == 1:
        sys.exit(3)
    kv.init(0, mx.nd.zeros((1,)))
    kv.pushpull(0, mx.nd.ones((1,)), out=mx.nd.zeros((1,)))
    mx.nd.waitall()

worker_main(main)
"""


@pytest.mark.slow
def test_a_failing_worker_stops_the_run_with_its_exit_status(tmp_path):
    status = launch_local(
        [sys.executable, '-c', FAILING_WORKER], 2, log_dir=tmp_path,
        timeout=TIMEOUT,
    )  # fmt: skip
    assert status == 3, logs(tmp_path)  # not 124: it did not wait forever


def test_the_number_of_workers_is_checked_before_anything_starts(tmp_path):
    with pytest.raises(ValueError, match='num_workers'):
        launch_local([sys.executable, '-c', 'pass'], 0, log_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []
