"""The English–French corpus: found, or downloaded, and verified.

Where the text comes from, in this order:

1. the ``path`` argument (a ``fra-eng.zip`` archive or an extracted
   ``fra.txt``);
2. the environment variable ``FRA_ENG_ZIP`` (same kinds of file);
3. the cache folder (``data/`` at the repository root for a source checkout,
   else ``~/.cache/seq2seq_attention``): an extracted ``fra-eng/fra.txt`` or
   ``fra-eng.zip``;
4. a download of d2l's ``DATA_HUB['fra-eng']`` archive into the cache folder,
   by `pooch`, which checks the archive's SHA-1 and renames the file into
   place only once it is complete.

Every copy is accepted only if the SHA-1 of its text (``fra-eng/fra.txt``) is
the one the book was computed on, so every reader works on the same sentences.
The text is extracted into the cache under a temporary name and renamed once
complete: a failure leaves nothing half-written behind.
"""
import hashlib
import os
import zipfile
import zlib
from pathlib import Path

from d2l import mxnet as d2l

from .utils import write_atomically

FRA_ENG_URL, FRA_ENG_ZIP_SHA1 = d2l.DATA_HUB['fra-eng']
FRA_TXT_SHA1 = 'c43f99dce27311d3afd4d3e0716848194cfcc103'
FRA_TXT_MEMBER = 'fra-eng/fra.txt'
ENV_VAR = 'FRA_ENG_ZIP'


class CorpusError(RuntimeError):
    """A corpus file is corrupt, truncated or not the expected one."""


class CorpusNotFoundError(FileNotFoundError):
    """No copy of the corpus could be found or downloaded."""


def sha1_of(data_or_path):
    """Return the hex SHA-1 of a bytes object or of a file's contents."""
    sha1 = hashlib.sha1()
    if isinstance(data_or_path, bytes):
        sha1.update(data_or_path)
        return sha1.hexdigest()
    with open(data_or_path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            sha1.update(chunk)
    return sha1.hexdigest()


def default_cache_dir():
    """Return `data/` in a source checkout, else a user cache folder."""
    repo_root = Path(__file__).resolve().parents[2]
    if (repo_root / 'pyproject.toml').exists():
        return repo_root / 'data'
    return Path.home() / '.cache' / 'seq2seq_attention'


def _expected():
    """What a good copy is, in words (for error messages)."""
    return (f'expected {FRA_ENG_ZIP_SHA1} (upstream) or an archive whose '
            f'{FRA_TXT_MEMBER} has SHA-1 {FRA_TXT_SHA1}')


def read_verified_text(path):
    """Return the bytes of `fra.txt` (in an archive or not), SHA-1 checked."""
    path = Path(path)
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                data = zf.read(FRA_TXT_MEMBER)
        except KeyError:
            raise CorpusError(
                f'{path}: the archive holds no {FRA_TXT_MEMBER}') from None
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as e:
            raise CorpusError(f'{path}: corrupt or truncated archive ({e}); '
                              f'its SHA-1 is {sha1_of(path)}, '
                              f'{_expected()}') from None
        what = f'{path} ({FRA_TXT_MEMBER} inside it)'
    elif path.suffix == '.zip':
        raise CorpusError(f'{path}: not a zip archive (corrupt or truncated); '
                          f'its SHA-1 is {sha1_of(path)}, {_expected()}')
    else:
        data, what = path.read_bytes(), str(path)
    digest = sha1_of(data)
    if digest != FRA_TXT_SHA1:
        raise CorpusError(f'{what}: SHA-1 is {digest}, expected {FRA_TXT_SHA1}')
    return data


def download_archive(cache_dir):
    """Download d2l's archive into `cache_dir`; return its path.

    pooch checks it against the upstream SHA-1 and keeps nothing that fails.
    """
    import pooch
    import requests
    target = Path(cache_dir) / 'fra-eng.zip'
    try:
        return Path(pooch.retrieve(FRA_ENG_URL, f'sha1:{FRA_ENG_ZIP_SHA1}',
                                   fname=target.name, path=target.parent,
                                   progressbar=False))
    except ValueError as e:  # pooch: the hash differs; the file is gone
        raise CorpusError(f'{FRA_ENG_URL}: {e}') from None
    except (requests.RequestException, OSError) as e:
        raise CorpusNotFoundError(f'download failed ({e}). '
                                  f'{_where_to_put_it(target)}') from None


def _where_to_put_it(zip_path):
    """Tell the reader where a copy of the corpus must go when offline."""
    return (f'No copy of the English-French corpus was found. Download '
            f'{FRA_ENG_URL} (SHA-1 {FRA_ENG_ZIP_SHA1}) and put it at '
            f'{zip_path}, or set {ENV_VAR} to the path of a fra-eng.zip whose '
            f'{FRA_TXT_MEMBER} has SHA-1 {FRA_TXT_SHA1}.')


def locate_corpus(path=None, cache_dir=None, download=True):
    """Return the path of a verified `fra.txt`, extracted or downloaded."""
    cache_dir = Path(cache_dir or default_cache_dir())
    extracted = cache_dir / FRA_TXT_MEMBER
    if path is None and os.environ.get(ENV_VAR):
        path = os.environ[ENV_VAR]
        if not Path(path).is_file():
            raise CorpusNotFoundError(f'{ENV_VAR}={path} names no file')
    elif path is not None and not Path(path).is_file():
        raise CorpusNotFoundError(f'corpus file {path} does not exist')
    if path is None:
        if extracted.is_file() and sha1_of(extracted) == FRA_TXT_SHA1:
            return extracted
        path = cache_dir / 'fra-eng.zip'
        if not path.is_file():
            if not download:
                raise CorpusNotFoundError(_where_to_put_it(path))
            path = download_archive(cache_dir)
    text = read_verified_text(path)
    if not zipfile.is_zipfile(path):
        return Path(path)  # an extracted, verified fra.txt: used where it is
    if not (extracted.is_file() and sha1_of(extracted) == FRA_TXT_SHA1):
        write_atomically(extracted, lambda tmp: Path(tmp).write_bytes(text))
    return extracted


def read_data_nmt(path=None):
    """Return the raw corpus text, one `English<TAB>French` pair a line."""
    with open(locate_corpus(path), encoding='utf-8') as f:
        return f.read()
