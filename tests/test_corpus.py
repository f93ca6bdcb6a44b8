"""Finding, downloading and verifying the corpus; nothing half-written."""

import functools
import http.server
import socket
import threading
import zipfile
from pathlib import Path

import pytest

from seq2seq_attention import corpus
from seq2seq_attention.corpus import (
    CorpusError,
    CorpusNotFoundError,
    locate_corpus,
)

SHARED_ZIP = (
    Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'fra-eng.zip'
)


def make_zip(path, members):
    """Write a zip archive with the given {name: bytes} members."""
    with zipfile.ZipFile(path, 'w') as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return path


def files_under(folder):
    """All files below `folder` (to check that nothing was left behind)."""
    return sorted(
        p.relative_to(folder) for p in Path(folder).rglob('*') if p.is_file()
    )


@pytest.fixture
def real_zip(corpus_path, tmp_path):
    """A fra-eng.zip holding the verified corpus text, whatever copy the
    fixture found."""
    path = tmp_path / 'src' / 'fra-eng.zip'
    path.parent.mkdir()
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_DEFLATED) as zf:
        zf.write(corpus_path, 'fra-eng/fra.txt')
    return path


# --- locating and verifying the corpus ----------------------------------------


def test_explicit_archive_is_verified_and_extracted(
    real_zip, tmp_path, monkeypatch
):
    monkeypatch.delenv(corpus.ENV_VAR, raising=False)
    cache = tmp_path / 'cache'
    path = locate_corpus(real_zip, cache_dir=cache, download=False)
    assert path == cache / 'fra-eng' / 'fra.txt'
    assert corpus.sha1_of(path) == corpus.FRA_TXT_SHA1


def test_env_var_is_used_and_a_missing_target_is_named(
    real_zip, tmp_path, monkeypatch
):
    monkeypatch.setenv(corpus.ENV_VAR, str(real_zip))
    assert (
        corpus.sha1_of(locate_corpus(cache_dir=tmp_path / 'c'))
        == corpus.FRA_TXT_SHA1
    )
    monkeypatch.setenv(corpus.ENV_VAR, str(tmp_path / 'nowhere.zip'))
    with pytest.raises(CorpusNotFoundError, match='FRA_ENG_ZIP=.*nowhere.zip'):
        locate_corpus(cache_dir=tmp_path / 'c2')


def test_cache_copy_is_found_without_any_path(real_zip, tmp_path, monkeypatch):
    monkeypatch.delenv(corpus.ENV_VAR, raising=False)
    cache = tmp_path / 'cache'
    cache.mkdir()
    (cache / 'fra-eng.zip').write_bytes(real_zip.read_bytes())
    assert (
        locate_corpus(cache_dir=cache, download=False)
        == cache / 'fra-eng' / 'fra.txt'
    )


def test_missing_explicit_path_is_named(tmp_path):
    with pytest.raises(CorpusNotFoundError, match='missing.zip'):
        locate_corpus(tmp_path / 'missing.zip', cache_dir=tmp_path)


def test_wrong_hash_names_file_and_both_hashes_and_writes_nothing(tmp_path):
    bad = make_zip(
        tmp_path / 'fra-eng.zip', {'fra-eng/fra.txt': b'Go.\tVa !\n'}
    )
    cache = tmp_path / 'cache'
    with pytest.raises(CorpusError) as e:
        locate_corpus(bad, cache_dir=cache)
    message = str(e.value)
    assert str(bad) in message
    assert (
        corpus.sha1_of(b'Go.\tVa !\n') in message
        and corpus.FRA_TXT_SHA1 in message
    )
    assert not cache.exists()


def test_truncated_archive_is_rejected_with_hashes(real_zip, tmp_path):
    truncated = tmp_path / 'fra-eng.zip'
    truncated.write_bytes(
        real_zip.read_bytes()[: len(real_zip.read_bytes()) // 2]
    )
    cache = tmp_path / 'cache'
    with pytest.raises(CorpusError) as e:
        locate_corpus(truncated, cache_dir=cache)
    assert str(truncated) in str(e.value)
    assert corpus.sha1_of(truncated) in str(
        e.value
    ) and corpus.FRA_ENG_ZIP_SHA1 in str(e.value)
    assert not cache.exists()


def test_corrupt_member_is_rejected(real_zip, tmp_path):
    raw = bytearray(real_zip.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 64] = bytes(
        64
    )  # damage the compressed text, keep the directory
    corrupt = tmp_path / 'fra-eng.zip'
    corrupt.write_bytes(bytes(raw))
    with pytest.raises(CorpusError, match='fra-eng.zip'):
        locate_corpus(corrupt, cache_dir=tmp_path / 'cache')


def test_archive_without_the_text_is_rejected(tmp_path):
    other = make_zip(tmp_path / 'other.zip', {'something.txt': b'x'})
    with pytest.raises(CorpusError, match='holds no fra-eng/fra.txt'):
        locate_corpus(other, cache_dir=tmp_path / 'cache')


@pytest.fixture
def server(tmp_path, monkeypatch):
    """A local HTTP server of `tmp_path / 'served'`; the download URL on it."""
    served = tmp_path / 'served'
    served.mkdir()
    handler = functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(served)
    )
    httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    httpd.RequestHandlerClass.log_message = lambda *args: None  # quiet
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    monkeypatch.delenv(corpus.ENV_VAR, raising=False)
    monkeypatch.setattr(
        corpus,
        'FRA_ENG_URL',
        f'http://127.0.0.1:{httpd.server_port}/fra-eng.zip',
    )
    yield served
    httpd.shutdown()


def test_download_is_verified_and_renamed_into_place(
    real_zip, server, tmp_path, monkeypatch
):
    payload = real_zip.read_bytes()
    (server / 'fra-eng.zip').write_bytes(payload)
    monkeypatch.setattr(corpus, 'FRA_ENG_ZIP_SHA1', corpus.sha1_of(payload))
    cache = tmp_path / 'cache'
    assert locate_corpus(cache_dir=cache) == cache / 'fra-eng' / 'fra.txt'
    assert set(files_under(cache)) == {
        Path('fra-eng.zip'),
        Path('fra-eng/fra.txt'),
    }


def test_download_with_wrong_hash_leaves_no_file(real_zip, server, tmp_path):
    (server / 'fra-eng.zip').write_bytes(real_zip.read_bytes()[:1000])
    cache = tmp_path / 'cache'
    with pytest.raises(CorpusError, match='SHA1 hash of downloaded file'):
        locate_corpus(cache_dir=cache)
    assert files_under(cache) == []


def test_offline_without_a_copy_says_where_to_put_it(
    server, tmp_path, monkeypatch
):
    with socket.socket() as s:  # a port that nothing listens on
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(
        corpus, 'FRA_ENG_URL', f'http://127.0.0.1:{port}/fra-eng.zip'
    )
    cache = tmp_path / 'cache'
    with pytest.raises(CorpusNotFoundError) as e:
        locate_corpus(cache_dir=cache)
    assert str(cache / 'fra-eng.zip') in str(e.value)
    assert corpus.ENV_VAR in str(e.value)
    assert files_under(cache) == []
    with pytest.raises(CorpusNotFoundError, match='No copy'):
        locate_corpus(cache_dir=cache, download=False)


@pytest.mark.skipif(
    not SHARED_ZIP.exists(), reason='no shared re-packed copy beside the repo'
)
def test_the_shared_repacked_copy_is_accepted(tmp_path):
    assert (
        corpus.sha1_of(locate_corpus(SHARED_ZIP, cache_dir=tmp_path))
        == corpus.FRA_TXT_SHA1
    )
