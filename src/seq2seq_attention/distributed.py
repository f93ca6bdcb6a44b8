"""Both cores for one model: a parameter server and its workers on this machine.

The library pins each process to one thread (`cpu.py`), so one training uses
one core. MXNet's `dist_sync` kvstore sums the gradients of several worker
processes through a parameter server (a scheduler and a server process, which
run inside `import mxnet` when `DMLC_ROLE` says so). `launch_local(command, n)`
starts them and `n` copies of `command` on 127.0.0.1, each with the `DMLC_*`
variables MXNet reads. A worker joins with `mx.kv.create('dist_sync')`, trains
on its share of every batch (`ShardedBatches`) and passes the kvstore to
`train_s2s`. A worker that fails stops the others (they would wait for its
gradients forever); the scheduler and the server are stopped in any case.
A worker must end at once when it fails: MXNet's exit waits for all workers to
exit too, and the others wait for its gradients. `worker_main(main)` does so.
"""
import os
import signal
import socket
import subprocess
import sys
import time
import traceback

from .checks import check_int

# Seconds the workers get to end by themselves: after a worker ended (the
# others wait for its gradients, so they are killed soon), and after Ctrl-C
# until one does (a worker may be finishing what it holds Ctrl-C back for, a
# validation say; a worker blocked waiting for gradients cannot see Ctrl-C)
GRACE_FAILED, GRACE_INTERRUPTED = 5, 300


def is_worker():
    """Whether this process is a worker started by a parameter server."""
    return os.environ.get('DMLC_ROLE') == 'worker'


def worker_main(main):
    """Call `main()`; a worker that fails in it ends at once (`os._exit`).

    An exception is printed first; `sys.exit(status)` keeps its status. A
    worker that succeeds, and any process that is not a worker, exits as usual.
    """
    if not is_worker():
        return main()
    try:
        main()
    except SystemExit as stop:
        if stop.code not in (None, 0):
            if not isinstance(stop.code, int):
                print(stop.code, file=sys.stderr)
            _exit_now(stop.code if isinstance(stop.code, int) else 1)
    except BaseException:
        traceback.print_exc()
        _exit_now(1)


def _exit_now(status):
    """End this process with `status`, its output written first."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def local_env(num_workers):
    """The `DMLC_*` variables of a parameter server on 127.0.0.1 only."""
    return dict(os.environ, DMLC_PS_ROOT_URI='127.0.0.1',
                DMLC_PS_ROOT_PORT=str(free_port()),
                DMLC_NUM_SERVER='1', DMLC_NUM_WORKER=str(num_workers),
                DMLC_NODE_HOST='127.0.0.1', DMLC_INTERFACE='lo')


def _start(role, command, env, log_dir, index):
    """One process of the parameter server, its output in `log_dir` if any."""
    out = None
    if log_dir is not None:
        out = open(os.path.join(log_dir, f'{role}-{index}.log'), 'w')
    try:
        # the scheduler and server in a session of their own: a Ctrl-C at the
        # terminal reaches the workers only, and this launcher ends the rest
        return subprocess.Popen(command, env=dict(env, DMLC_ROLE=role),
                                stdout=out, stderr=subprocess.STDOUT
                                if out else None,
                                start_new_session=role != 'worker')
    finally:
        if out is not None:
            out.close()


def _stop(processes, grace):
    """End `processes`: wait up to `grace` seconds, then kill them."""
    deadline = time.monotonic() + grace
    for p in processes:
        try:
            p.wait(timeout=max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _wait_for_any(processes, timeout):
    """Wait until one of `processes` has ended, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while (all(p.poll() is None for p in processes)
           and time.monotonic() < deadline):
        time.sleep(0.2)


def launch_local(command, num_workers, log_dir=None, timeout=None):
    """Run `command` as `num_workers` workers of a parameter server here.

    Returns 0 if every worker succeeded, else the first failure's exit status
    (130 after Ctrl-C: the workers get up to 5 minutes until one of them ends,
    a second Ctrl-C kills them). With `log_dir`, each process writes its
    output to a file there; otherwise to this process's terminal. `timeout`
    (seconds) stops a run that takes longer, with exit status 124.
    """
    num_workers = check_int('num_workers', num_workers, low=1)
    env = local_env(num_workers)
    server = [sys.executable, '-c', 'import seq2seq_attention']
    interrupted, workers = [], []

    def on_ctrl_c(*_):
        # the first Ctrl-C reaches the workers too (they share the terminal's
        # process group) and lets them end; a second one ends them at once
        if interrupted:
            for w in workers:
                w.kill()
        interrupted.append(True)

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    started = []
    try:
        started += [_start('scheduler', server, env, log_dir, 0),
                    _start('server', server, env, log_dir, 0)]
        for i in range(num_workers):
            workers.append(_start('worker', command, env, log_dir, i))
        started += workers
        deadline = None if timeout is None else time.monotonic() + timeout
        status = 0
        while any(w.poll() is None for w in workers):
            failed = [p.returncode for p in started
                      if p.poll() not in (None, 0)]
            if interrupted or failed:
                status = 130 if interrupted else failed[0]
                break
            if deadline is not None and time.monotonic() > deadline:
                status = 124
                break
            time.sleep(0.2)
        if interrupted:  # until a worker ends (say, worker 0 after what it
            # holds Ctrl-C back for); the others then wait for it in vain
            _wait_for_any(workers, GRACE_INTERRUPTED)
        _stop(workers, GRACE_FAILED)
        if not status:
            status = next((w.returncode for w in workers if w.returncode), 0)
        return status
    finally:
        # the scheduler and the server end once the workers have; not after
        # a failure, or if this launcher itself stopped early
        _stop(started, GRACE_FAILED)
        signal.signal(signal.SIGINT, previous)
