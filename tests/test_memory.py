"""Freed memory kept for reuse: when it is set, when not, and what it changes.

Each run that loads MXNet under another setting is a fresh process. What it
changes is counted in page faults, not timed: a process that gets fresh pages
for every large array faults on each of them.
"""

import sys
import textwrap

import pytest
from conftest import run_python

from seq2seq_attention import memory
from seq2seq_attention.memory import (
    MODE_VARIABLE,
    READER_VARIABLES,
    keep_freed_memory,
)

# products of a 36 MB array (a translator's scores, 1,408 x 6,433 floats),
# then a short training; prints the page faults of the next NUM_PRODUCTS
# (the ten before let the heap grow), a digest of the product and the losses
PROBE = textwrap.dedent(
    """
    import hashlib, json, resource
    import seq2seq_attention
    import mxnet as mx
    from mxnet import np
    from seq2seq_attention import set_seed
    from seq2seq_attention import build_data_iter
    from seq2seq_attention.synthetic import copy_task
    from seq2seq_attention.training import train_s2s
    from seq2seq_attention import Seq2SeqConfig, build_seq2seq

    set_seed(0)
    A = np.random.normal(size=(1408, 6433))
    # each product waited for, so that as many arrays are alive in both
    # loops whatever else the machine does (queued, a busy machine could
    # hold more of them at once in the second loop than in the first)
    for _ in range(10):  # the heap grows to what the loop needs
        B = A * 2
        B.wait_to_read()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(40):  # NUM_PRODUCTS
        B = A * 2
        B.wait_to_read()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    digest = hashlib.sha1(B.asnumpy().tobytes()).hexdigest()
    source, target = copy_task(64, 3, 6, seed=0)
    data_iter, src_vocab, tgt_vocab = build_data_iter(source, target, 32, 8)
    net = build_seq2seq(Seq2SeqConfig(len(src_vocab), len(tgt_vocab), 16, 16))
    history = train_s2s(net, data_iter, 0.01, 2, tgt_vocab, mx.cpu())
    print(json.dumps(dict(faults=faults, digest=digest,
                          losses=list(history))))
    """
)


NUM_PRODUCTS = 40  # measured in PROBE


def run_probe(env):
    """Run PROBE in a fresh interpreter with `env`; return its figures."""
    figures, _ = run_python(PROBE, env, drop=(*READER_VARIABLES, MODE_VARIABLE))
    return figures


@pytest.mark.skipif(
    not sys.platform.startswith('linux'), reason="glibc's malloc: Linux only"
)
def test_kept_memory_spares_the_page_faults_and_changes_no_number():
    kept = run_probe({})
    system = run_probe({MODE_VARIABLE: 'system'})
    # 40 products on fresh pages fault about 8,800 times each; with memory
    # kept, a busy machine still sees a few arrays' worth of fresh pages
    # (up to 6 measured), not one per product
    assert system['faults'] > NUM_PRODUCTS * 36e6 / 4096 / 2
    assert kept['faults'] < system['faults'] / 4
    # where arrays live changes no number
    assert kept['digest'] == system['digest']
    assert kept['losses'] == system['losses']


def test_settings_the_reader_made_are_left_alone():
    for variable in READER_VARIABLES:
        assert not keep_freed_memory({variable: '1'})
    assert not keep_freed_memory({MODE_VARIABLE: 'system'})


def test_other_systems_are_left_alone(monkeypatch):
    monkeypatch.setattr(memory.sys, 'platform', 'darwin')
    assert not keep_freed_memory({})


def test_an_unknown_mode_is_refused_by_name():
    with pytest.raises(ValueError, match=MODE_VARIABLE):
        keep_freed_memory({MODE_VARIABLE: 'pooled'})
