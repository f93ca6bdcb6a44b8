"""The speed benchmark still runs as the README says: its library runs, its
table, and what its PyTorch peer needs beyond the book's stack.

The benchmark asserts nothing and prints figures (speed lives in `bench/`);
these tests check that it works, never how fast anything is.
"""

import ast
import importlib.util
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, 'bench')
# Modules `d2l.torch` imports that
# bench/d2l_torch_reference.py replaces by a stand-in
STUBBED = {'torchvision'}


def _requirement_names(path):
    """The package names a requirements file lists (lower case)."""
    with open(path) as f:
        lines = [line.strip() for line in f]
    return {
        re.split(r'[=<>!~;\s\[]', line)[0].lower()
        for line in lines
        if line and not line.startswith('#')
    }


def _top_level_imports(path):
    """The top-level packages a module imports at its top level."""
    with open(path) as f:
        tree = ast.parse(f.read())
    modules = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            modules |= {alias.name.split('.')[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module.split('.')[0])
    return modules


def test_bench_requirements_provide_what_d2l_torch_imports():
    """Each package `d2l.torch` imports is in the book's stack, in
    bench/requirements.txt, or stubbed (a fresh .venv lacked SciPy)."""
    d2l_torch = os.path.join(
        os.path.dirname(importlib.util.find_spec('d2l').origin), 'torch.py'
    )
    imported = _top_level_imports(d2l_torch)
    listed = _requirement_names(os.path.join(BENCH, 'requirements.txt'))
    assert {'torch', 'scipy', 'torchvision'} <= imported  # parsed as meant
    missing = sorted(
        m
        for m in imported - STUBBED
        if m not in listed and importlib.util.find_spec(m) is None
    )
    assert not missing, (
        f'd2l.torch imports {missing}: not installed, not listed'
    )


def test_flops_per_token_counts_each_product_of_the_models():
    """A model small enough to count by hand: E=3, H=2, 2 layers, 5 words,
    one pair of 4 source and 3 target tokens."""
    sys.path.insert(0, BENCH)
    import numpy as onp
    from train_speed import flops_per_token

    size = dict(embed_size=3, num_hiddens=2)
    X_valid_len, Y_valid_len = onp.array([4]), onp.array([3])
    # one step of an LSTM layer: 4 gates of 2 units from input and h
    enc = 2 * 4 * 2 * (3 + 2) + 2 * 4 * 2 * (2 + 2)  # per source token
    dec = 2 * 4 * 2 * (3 + 2 + 2) + 2 * 4 * 2 * (2 + 2) + 2 * 2 * 5
    plain = (4 * enc + 3 * dec) / 3 * 3  # forward, per target token, x3
    keys = query = 2 * 2 * 2
    pairs = 4 * 3 * 2 * 2 * 2  # v . tanh and the context, per pair
    attention = (4 * (enc + keys) + 3 * (dec + query) + pairs) / 3 * 3
    assert flops_per_token(size, 5, X_valid_len, Y_valid_len, 'plain') == (
        plain
    )
    assert flops_per_token(size, 5, X_valid_len, Y_valid_len) == attention


def test_bench_trains_the_library_and_prints_its_table(corpus_path):
    """One epoch of three configurations (one on two worker processes), no
    peer, in a subprocess."""
    command = [
        sys.executable,
        os.path.join(BENCH, 'train_speed.py'),
        '--epochs',
        '1',
        '--rounds',
        '1',
        '--configs',
        'default,chapter5,two-workers',
        '--peers',
        'none',
    ]
    run = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert run.returncode == 0, run.stderr[-3000:]
    # name, tokens/sec, per core, s/epoch, wall s, loss/token, peak MiB,
    # MFLOP/token, GFLOP/s, efficiency (then the rounds)
    rows = re.findall(
        r'^train_s2s \((\S+)\)' + r'\s+([\d.]+)' * 9 + '%',
        run.stdout,
        re.M,
    )
    assert [r[0] for r in rows] == ['default', 'chapter5', 'two-workers'], (
        run.stdout
    )
    # the matrix product the efficiency is measured against
    matmul = re.search(r'against ([\d.]+) GFLOP/s, one thread', run.stdout)
    assert matmul, run.stdout
    for name, tokens, per_core, epoch_s, wall, loss, peak_mib, *flops in rows:
        assert float(tokens) > 0 and float(peak_mib) > 0
        # pinned to one thread a process: per core is all of it, or half of
        # it on two workers; one epoch is the run
        workers = 2 if name == 'two-workers' else 1
        assert abs(float(per_core) * workers - float(tokens)) <= workers
        # (each printed rounded: 0.449 s prints as 0.4 and as 0.45)
        assert abs(float(epoch_s) - float(wall)) <= 0.06
        assert 0 < float(loss) < 10  # one epoch from about log(vocabulary)
        mflops, gflops, efficiency = map(float, flops)
        # the chapter's model: about 0.1 MFLOP per token
        assert 0.01 < mflops < 1 and gflops > 0
        # per core
        assert abs(gflops - mflops * float(per_core) / 1e3) < 0.1 + gflops / 50
        # a percentage printed whole (the chapter's model reaches about 1%)
        expected = 100 * gflops / float(matmul.group(1))
        assert 0 <= efficiency < 100 and abs(efficiency - expected) <= 1
    # without a peer there is no ratio to print, and none is printed
    assert 'speed:' not in run.stdout
    assert re.search(r'^train_s2s \(default\)\s+loss \d', run.stdout, re.M)
    # the two workers' halves of every batch train what one process does
    losses = {r[0]: float(r[5]) for r in rows}
    assert abs(losses['two-workers'] - losses['default']) < 1e-3


def token_batches():
    """bench/token_batches.py's class (it loads the library)."""
    sys.path.insert(0, BENCH)
    from token_batches import TokenBatches

    return TokenBatches


def test_token_batches_hold_about_max_tokens_of_equal_length_sentences():
    import numpy as onp
    from seq2seq_attention import Batches, BatchIterator, set_seed
    from test_batching import bucket_data

    arrays = bucket_data(num=200)
    data_iter = token_batches()(arrays, 24)
    lengths = onp.stack([arrays[1].asnumpy(), arrays[3].asnumpy()], 1)
    set_seed(2)
    epochs = [list(data_iter) for _ in range(2)]
    for batches in epochs:
        assert isinstance(data_iter, Batches)
        assert len(batches) == len(data_iter)
        # the sizes are those listed (the batches' order is shuffled)
        assert sorted(len(b[0]) for b in batches) == sorted(
            data_iter.batch_sizes()
        )
        seen = []
        for X, X_valid_len, Y, Y_valid_len in batches:
            longest = max(int(X_valid_len.max()), int(Y_valid_len.max()))
            # within the budget, and cut to the longest sentences
            assert len(X) * longest <= 24
            assert X.shape[1] == int(X_valid_len.max())
            assert Y.shape[1] == int(Y_valid_len.max())
            seen += list(zip(X_valid_len.tolist(), Y_valid_len.tolist()))
        # every example once
        assert sorted(seen) == sorted(map(tuple, lengths.tolist()))
    # a fresh random order of the examples of equal lengths each epoch
    assert [b[0].asnumpy().tolist() for b in epochs[0]] != [
        b[0].asnumpy().tolist() for b in epochs[1]
    ]
    # greedy: no batch could have taken the next sentence in sorted order
    assert len(data_iter) < len(BatchIterator(arrays, 3))


def test_token_batches_weigh_alike_where_sentence_batches_do_not():
    """Sorted batches of equal sentence counts hold few tokens when short."""
    from seq2seq_attention import BatchIterator, set_seed
    from test_batching import bucket_data

    arrays = bucket_data(num=400, seed=4)

    def tokens(batches):
        # each batch's sentences times its longest sentence, sorted
        return sorted(
            len(X) * max(int(X_valid_len.max()), int(Y_valid_len.max()))
            for X, X_valid_len, Y, Y_valid_len in batches
        )

    set_seed(0)
    by_sentences = tokens(BatchIterator(arrays, 8, bucket=10**9))
    by_tokens = tokens(token_batches()(arrays, 40))
    # the shortest batches of sentences hold a quarter of the longest's
    # tokens or less; batches of tokens all hold from 30 to 40
    assert by_sentences[0] * 4 <= by_sentences[-1]
    assert 30 <= by_tokens[0] and by_tokens[-1] <= 40


def test_token_batches_refuse_a_budget_below_the_longest_sentence():
    import pytest
    from test_batching import bucket_data

    arrays = bucket_data()
    with pytest.raises(
        ValueError, match='max_tokens=5 cannot hold a sentence of 8 tokens'
    ):
        token_batches()(arrays, 5)
    with pytest.raises(ValueError, match='max_tokens'):
        token_batches()(arrays, 0)
    with pytest.raises(ValueError, match=r'needs arrays \(X, X_valid_len'):
        token_batches()(arrays[:2], 20)
