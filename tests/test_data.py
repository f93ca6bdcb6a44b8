"""The corpus pipeline: locating and verifying the archive, preprocessing, vocabularies, batches."""
import io
import urllib.error
import zipfile
from pathlib import Path

import numpy as onp
import pytest
from d2l import mxnet as d2l

from seq2seq_attention import data
from seq2seq_attention.data import (CorpusError, CorpusNotFoundError, Vocab, build_array_nmt,
                                    build_vocab, extract_zip, load_data_nmt, locate_corpus,
                                    preprocess_nmt, split_pairs, tokenize_nmt)

SHARED_ZIP = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'fra-eng.zip'


@pytest.fixture
def real_zip(corpus_path, tmp_path):
    """A fra-eng.zip holding the verified corpus text, whatever copy the fixture found."""
    path = tmp_path / 'src' / 'fra-eng.zip'
    path.parent.mkdir()
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as zf:
        zf.write(corpus_path, 'fra-eng/fra.txt')
    return path


def make_zip(path, members):
    """Write a zip archive with the given {name: bytes} members."""
    with zipfile.ZipFile(path, 'w') as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return path


def files_under(folder):
    """All files below `folder` (to check that nothing was left behind)."""
    return sorted(p.relative_to(folder) for p in Path(folder).rglob('*') if p.is_file())


# --- locating and verifying the corpus -------------------------------------------------------

def test_explicit_archive_is_verified_and_extracted(real_zip, tmp_path, monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    cache = tmp_path / 'cache'
    path = locate_corpus(real_zip, cache_dir=cache, download=False)
    assert path == cache / 'fra-eng' / 'fra.txt'
    assert data.sha1_of(path) == data.FRA_TXT_SHA1


def test_env_var_is_used_and_a_missing_target_is_named(real_zip, tmp_path, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(real_zip))
    assert data.sha1_of(locate_corpus(cache_dir=tmp_path / 'c')) == data.FRA_TXT_SHA1
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path / 'nowhere.zip'))
    with pytest.raises(CorpusNotFoundError, match='FRA_ENG_ZIP=.*nowhere.zip'):
        locate_corpus(cache_dir=tmp_path / 'c2')


def test_cache_copy_is_found_without_any_path(real_zip, tmp_path, monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    cache = tmp_path / 'cache'
    cache.mkdir()
    (cache / 'fra-eng.zip').write_bytes(real_zip.read_bytes())
    assert locate_corpus(cache_dir=cache, download=False) == cache / 'fra-eng' / 'fra.txt'


def test_missing_explicit_path_is_named(tmp_path):
    with pytest.raises(CorpusNotFoundError, match='missing.zip'):
        locate_corpus(tmp_path / 'missing.zip', cache_dir=tmp_path)


def test_wrong_hash_names_file_and_both_hashes_and_writes_nothing(tmp_path):
    bad = make_zip(tmp_path / 'fra-eng.zip', {'fra-eng/fra.txt': b'Go.\tVa !\n'})
    cache = tmp_path / 'cache'
    with pytest.raises(CorpusError) as e:
        locate_corpus(bad, cache_dir=cache)
    message = str(e.value)
    assert str(bad) in message
    assert data.sha1_of(b'Go.\tVa !\n') in message and data.FRA_TXT_SHA1 in message
    assert not cache.exists()


def test_truncated_archive_is_rejected_with_hashes(real_zip, tmp_path):
    truncated = tmp_path / 'fra-eng.zip'
    truncated.write_bytes(real_zip.read_bytes()[:len(real_zip.read_bytes()) // 2])
    cache = tmp_path / 'cache'
    with pytest.raises(CorpusError) as e:
        locate_corpus(truncated, cache_dir=cache)
    assert str(truncated) in str(e.value)
    assert data.sha1_of(truncated) in str(e.value) and data.FRA_ENG_ZIP_SHA1 in str(e.value)
    assert not cache.exists()


def test_corrupt_member_is_rejected(real_zip, tmp_path):
    raw = bytearray(real_zip.read_bytes())
    middle = len(raw) // 2
    raw[middle:middle + 64] = bytes(64)  # damage the compressed text, keep the directory
    corrupt = tmp_path / 'fra-eng.zip'
    corrupt.write_bytes(bytes(raw))
    with pytest.raises(CorpusError, match='fra-eng.zip'):
        locate_corpus(corrupt, cache_dir=tmp_path / 'cache')


def test_archive_without_the_text_is_rejected(tmp_path):
    other = make_zip(tmp_path / 'other.zip', {'something.txt': b'x'})
    with pytest.raises(CorpusError, match='holds no fra-eng/fra.txt'):
        locate_corpus(other, cache_dir=tmp_path / 'cache')


def test_extraction_refuses_members_outside_the_folder(tmp_path):
    evil = make_zip(tmp_path / 'evil.zip', {'fra-eng/ok.txt': b'ok', '../escaped.txt': b'x'})
    target = tmp_path / 'target'
    target.mkdir()
    with pytest.raises(CorpusError, match='outside'):
        extract_zip(evil, target)
    assert files_under(target) == [] and not (tmp_path / 'escaped.txt').exists()


def test_offline_without_a_copy_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)

    def no_network(*args, **kwargs):
        raise urllib.error.URLError('no network')
    monkeypatch.setattr(data.urllib.request, 'urlopen', no_network)
    cache = tmp_path / 'cache'
    with pytest.raises(CorpusNotFoundError) as e:
        locate_corpus(cache_dir=cache)
    assert str(cache / 'fra-eng.zip') in str(e.value) and data.ENV_VAR in str(e.value)
    assert files_under(cache) == []


class FakeResponse(io.BytesIO):
    """A urlopen() result serving fixed bytes."""
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_download_is_verified_and_renamed_into_place(real_zip, tmp_path, monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    payload = real_zip.read_bytes()
    monkeypatch.setattr(data.urllib.request, 'urlopen', lambda *a, **k: FakeResponse(payload))
    monkeypatch.setattr(data, 'FRA_ENG_ZIP_SHA1', data.sha1_of(payload))
    cache = tmp_path / 'cache'
    assert locate_corpus(cache_dir=cache) == cache / 'fra-eng' / 'fra.txt'
    assert set(files_under(cache)) == {Path('fra-eng.zip'), Path('fra-eng/fra.txt')}


def test_download_with_wrong_hash_leaves_no_file(real_zip, tmp_path, monkeypatch):
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setattr(data.urllib.request, 'urlopen',
                        lambda *a, **k: FakeResponse(real_zip.read_bytes()[:1000]))
    cache = tmp_path / 'cache'
    with pytest.raises(CorpusError, match='downloaded SHA-1'):
        locate_corpus(cache_dir=cache)
    assert files_under(cache) == []


@pytest.mark.skipif(not SHARED_ZIP.exists(), reason='no shared re-packed copy beside the repo')
def test_the_shared_repacked_copy_is_accepted(tmp_path):
    assert data.sha1_of(locate_corpus(SHARED_ZIP, cache_dir=tmp_path)) == data.FRA_TXT_SHA1


# --- preprocessing, tokens, vocabularies ------------------------------------------------------

def test_preprocess_matches_d2l(corpus_path):
    text = corpus_path.read_text(encoding='utf-8')[:200_000]
    assert preprocess_nmt(text) == d2l.preprocess_nmt(text)


def test_preprocess_examples():
    assert preprocess_nmt('Go.\tVa\u202f!') == 'go .\tva !'
    assert preprocess_nmt('Hi,Tom!') == 'hi ,tom !'
    assert preprocess_nmt('.Start') == '.start'  # no space is put before the first character


def test_tokenize_takes_exactly_num_examples_pairs():
    text = 'a .\tb .\n\nc\td e\nf\tg\n'
    assert tokenize_nmt(text, 2) == ([['a', '.'], ['c']], [['b', '.'], ['d', 'e']])
    assert len(tokenize_nmt(text)[0]) == 3


def test_tokenize_splits_lines_at_newlines_only_and_shares_each_token():
    # a '\r' or a Unicode line separator stays inside its line (then splits tokens)
    text = 'hi\rtom .\tsalut\u2028tom\r\ntom .\tsalut\n'
    source, target = tokenize_nmt(text)
    assert source == [['hi', 'tom', '.'], ['tom', '.']]
    assert target == [['salut', 'tom'], ['salut']]
    # one string object per distinct token (of both languages)
    assert source[0][1] is source[1][0] is target[0][1]
    assert target[0][0] is target[1][0]


def test_vocab_reserves_tokens_and_keeps_frequent_ones(corpus_path):
    source, _ = tokenize_nmt(preprocess_nmt(corpus_path.read_text(encoding='utf-8')), 600)
    vocab = build_vocab(source)
    counts = d2l.collections.Counter(t for line in source for t in line)
    for token in ['<pad>', '<bos>', '<eos>', '<unk>']:
        assert token in vocab.token_to_idx
    kept = set(vocab.idx_to_token) - {'<pad>', '<bos>', '<eos>', '<unk>'}
    assert kept == {t for t, c in counts.items() if c >= 2}


def test_to_tokens_handles_one_element_lists_where_d2l_fails():
    vocab = Vocab([['a', 'b', 'a', 'b']], reserved_tokens=['<pad>'])
    index = vocab['a']
    with pytest.raises(TypeError):  # the d2l bug this class works around
        d2l.Vocab([['a', 'b']]).to_tokens([index])
    assert vocab.to_tokens([index]) == ['a']
    assert vocab.to_tokens(index) == 'a'
    assert vocab.to_tokens(onp.array([index, vocab['b']])) == ['a', 'b']


def test_vocab_rebuilt_from_its_tokens_maps_the_same():
    vocab = build_vocab([['x', 'y', 'x', 'y', 'z']])
    again = Vocab.from_idx_to_token(vocab.idx_to_token)
    assert again.token_to_idx == vocab.token_to_idx and again['z'] == again.unk
    with pytest.raises(ValueError):
        Vocab.from_idx_to_token(['a', 'a', '<unk>'])


def test_build_array_appends_eos_pads_and_truncates():
    vocab = build_vocab([['a', 'b', 'c'] * 2])
    array, valid_len = build_array_nmt([['a'], ['a', 'b', 'c', 'a']], vocab, 3)
    pad, eos = vocab['<pad>'], vocab['<eos>']
    assert array.asnumpy().tolist() == [[vocab['a'], eos, pad], [vocab['a'], vocab['b'], vocab['c']]]
    assert valid_len.asnumpy().tolist() == [2, 3]


def test_load_data_nmt_batches(corpus_path):
    data_iter, src_vocab, tgt_vocab = load_data_nmt(batch_size=64, num_steps=10)
    batches = list(data_iter)
    assert len(batches) == len(data_iter) == 10  # 600 pairs in batches of 64
    assert sum(b[0].shape[0] for b in batches) == 600
    X, X_valid_len, Y, Y_valid_len = batches[0]
    assert X.shape == Y.shape == (64, 10) and X_valid_len.shape == (64,)
    # the valid length counts exactly the non-padding tokens
    onp.testing.assert_array_equal((X != src_vocab['<pad>']).asnumpy().sum(axis=1),
                                   X_valid_len.asnumpy())
    onp.testing.assert_array_equal((Y != tgt_vocab['<pad>']).asnumpy().sum(axis=1),
                                   Y_valid_len.asnumpy())


def test_batches_reshuffle_each_epoch_and_repeat_under_a_seed(corpus_path):
    from seq2seq_attention import set_seed
    data_iter, _, _ = load_data_nmt(batch_size=600, num_steps=10)
    set_seed(1)
    first, second = [b[0].asnumpy() for b in data_iter], [b[0].asnumpy() for b in data_iter]
    set_seed(1)
    again = [b[0].asnumpy() for b in data_iter]
    assert not onp.array_equal(first[0], second[0])
    assert onp.array_equal(first[0], again[0])
    assert sorted(map(tuple, first[0])) == sorted(map(tuple, second[0]))  # same examples


def test_split_pairs_never_share_a_source_sentence(corpus_path):
    source, target = tokenize_nmt(preprocess_nmt(corpus_path.read_text(encoding='utf-8')), 5000)
    train, test = split_pairs(source, target, 3000, 500, seed=0)
    assert len(train) == 3000 and len(test) == 500
    train_sources = {' '.join(s) for s, _ in train}
    assert not any(' '.join(s) in train_sources for s, _ in test)
    assert split_pairs(source, target, 3000, 500, seed=0) == (train, test)
    with pytest.raises(ValueError, match='held-out'):
        split_pairs(source, target, 3000, 4000)


def bucket_data(num=50, seed=3):
    """Random token arrays (num, 8) with valid lengths from 1 to 8."""
    rng = onp.random.RandomState(seed)
    src_len, tgt_len = rng.randint(1, 9, size=num), rng.randint(1, 9, size=num)
    X = onp.where(onp.arange(8) < src_len[:, None], rng.randint(3, 9, size=(num, 8)), 0)
    Y = onp.where(onp.arange(8) < tgt_len[:, None], rng.randint(3, 9, size=(num, 8)), 0)
    from mxnet import np as mnp
    return [mnp.array(a, dtype='int32') for a in (X, src_len, Y, tgt_len)]


@pytest.mark.parametrize('bucket', [1, 3])
def test_bucketed_batches_cut_only_padding_and_cover_every_example(bucket):
    from seq2seq_attention import BatchIterator
    arrays = bucket_data()
    X_full, Y_full = arrays[0].asnumpy(), arrays[2].asnumpy()
    seen = []
    for X, X_valid_len, Y, Y_valid_len in BatchIterator(arrays, 8, bucket=bucket):
        assert X.shape[1] == int(X_valid_len.max()) and Y.shape[1] == int(Y_valid_len.max())
        for x, y in zip(X.asnumpy(), Y.asnumpy()):
            # each row is a full row with padding columns cut off
            rows = [i for i in range(len(X_full)) if (X_full[i, :len(x)] == x).all()
                    and not X_full[i, len(x):].any() and (Y_full[i, :len(y)] == y).all()
                    and not Y_full[i, len(y):].any()]
            assert rows
        seen += X_valid_len.asnumpy().tolist()
    assert sorted(seen) == sorted(arrays[1].asnumpy().tolist())


def test_bucket_one_keeps_the_batches_of_the_unbucketed_iterator():
    from seq2seq_attention import BatchIterator, set_seed
    arrays = bucket_data()
    set_seed(5)
    plain = [sorted(b[1].asnumpy().tolist()) for b in BatchIterator(arrays, 8)]
    set_seed(5)
    cut = [sorted(b[1].asnumpy().tolist()) for b in BatchIterator(arrays, 8, bucket=1)]
    assert plain == cut
    # wider windows group similar lengths: less padding overall
    set_seed(5)
    widths = [b[0].shape[1] for b in BatchIterator(arrays, 8, bucket=7)]
    assert sum(widths) < sum(b[0].shape[1] for b in BatchIterator(arrays, 8, bucket=1))


def test_cut_batches_are_the_same_batches_without_their_padding_columns():
    """`batches(cut=True)` (what train_s2s trains on): same examples, same draws."""
    from seq2seq_attention import BatchIterator, ShardedBatches, set_seed
    arrays = bucket_data()
    cut_batches = {}
    for bucket in (False, 2):
        set_seed(5)
        full = list(BatchIterator(arrays, 8, bucket=bucket).batches(cut=False))
        set_seed(5)
        cut = list(BatchIterator(arrays, 8, bucket=bucket).batches(cut=True))
        set_seed(5)
        assert [b[1].asnumpy().tolist() for b in BatchIterator(arrays, 8, bucket=bucket)] \
            == [b[1].asnumpy().tolist() for b in cut]
        assert len(full) == len(cut) == 7
        widths = []
        for f, c in zip(full, cut):
            for lens in (1, 3):  # the same examples in the same order
                onp.testing.assert_array_equal(c[lens].asnumpy(), f[lens].asnumpy())
            for tokens, lens in ((0, 1), (2, 3)):
                width, longest = c[tokens].shape[1], int(f[lens].max())
                if bucket:  # cut to the longest sentence (length_step 1)
                    assert width == longest
                else:  # the first of 8, 6, 4, 2 (the data's longest: 8) that holds it
                    assert width in (2, 4, 6, 8) and 0 <= width - longest < 2
                onp.testing.assert_array_equal(c[tokens].asnumpy(),
                                               f[tokens].asnumpy()[:, :width])
                assert not f[tokens].asnumpy()[:, width:].any()  # only padding went
                widths.append(width)
        assert min(widths) < 8  # something was cut
        cut_batches[bucket] = cut
    # each worker gets its share of the cut batch
    set_seed(5)
    shares = list(ShardedBatches(BatchIterator(arrays, 8), 1, 2).batches(cut=True))
    assert [s[0].shape for s in shares] == [
        (len(c[0]) // 2, c[0].shape[1]) for c in cut_batches[False]]
    with pytest.raises(ValueError, match=r'cut=True needs arrays \(X, X_valid_len'):
        list(BatchIterator(arrays[:2], 8).batches(cut=True))


@pytest.mark.parametrize('bucket, length_step', [(False, 1), (2, 1), (2, 3)])
def test_batch_shapes_lists_every_shape_the_batches_take(bucket, length_step):
    """`batch_shapes(cut)`: what train_s2s reads to choose static_alloc."""
    from seq2seq_attention import BatchIterator, ShardedBatches
    arrays = bucket_data()
    data_iter = BatchIterator(arrays, 8, bucket=bucket, length_step=length_step)
    for cut, batches in ((True, data_iter.batches), (False, data_iter.batches),
                         (None, lambda cut: iter(data_iter))):
        listed = data_iter.batch_shapes(cut)
        assert len(set(listed)) == len(listed)
        seen = {(b[0].shape[1], b[2].shape[1]) for _ in range(20) for b in batches(cut)}
        assert seen <= set(listed), (cut, seen - set(listed))
        if cut is False or (cut is None and not bucket):  # nothing cut
            assert listed == [(8, 8)]
        else:
            assert len(seen) > 1  # (the data's lengths vary)
    # bucketed in steps of 1, any length of 1 to 8 per side; else four per side at most
    assert len(data_iter.batch_shapes(True)) == (
        64 if bucket and length_step == 1 else 9 if bucket else 16)
    assert ShardedBatches(data_iter, 0, 2).batch_shapes(True) == data_iter.batch_shapes(True)
    assert ShardedBatches([], 0, 1).batch_shapes(True) is None
    with pytest.raises(ValueError, match=r'batch_shapes needs arrays \(X, X_valid_len'):
        BatchIterator(arrays[:2], 8).batch_shapes()


def test_length_step_bounds_the_batch_shapes():
    from seq2seq_attention import BatchIterator
    arrays = bucket_data()
    shapes = {(b[0].shape[1], b[2].shape[1]) for _ in range(3)
              for b in BatchIterator(arrays, 8, bucket=2, length_step=3)}
    assert shapes <= {(a, b) for a in (3, 6, 8) for b in (3, 6, 8)}
    for X, X_valid_len, Y, Y_valid_len in BatchIterator(arrays, 8, bucket=2, length_step=3):
        assert X.shape[1] >= int(X_valid_len.max()) and Y.shape[1] >= int(Y_valid_len.max())
