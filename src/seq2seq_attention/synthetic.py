"""A translation task whose answer is known: copy or reverse random symbols.

Every output token is one source token, at a position fixed by the task: the
same position (copy) or the mirrored one (reverse). A decoder that sees the
source only through one fixed vector must squeeze the whole sequence into it,
which fails as sequences grow; an attention decoder can instead learn where
to look, and its weights should form a diagonal (copy) or an anti-diagonal
(reverse). The symbols are the letters `a`, `b`, ... so that the pairs go
through the same vocabularies and batches as the corpus.
"""
import random
import string

from .checks import check_int


def copy_task(num_pairs, min_len, max_len, num_symbols=10, reverse=False,
              seed=0):
    """Random symbol sequences and their copies (or reversals), token lists.

    Lengths are drawn uniformly from `min_len` to `max_len` (both included),
    each symbol uniformly from the first `num_symbols` letters; `seed` fixes
    them (a generator of its own: the global seeds are left alone).
    """
    num_pairs = check_int('num_pairs', num_pairs, low=0)
    min_len = check_int('min_len', min_len, low=1)
    max_len = check_int('max_len', max_len, low=min_len)
    num_symbols = check_int('num_symbols', num_symbols, low=1,
                            high=len(string.ascii_lowercase))
    rng = random.Random(check_int('seed', seed, low=0))
    symbols = string.ascii_lowercase[:num_symbols]
    source = [[rng.choice(symbols) for _ in range(rng.randint(min_len,
                                                               max_len))]
              for _ in range(num_pairs)]
    target = [s[::-1] if reverse else list(s) for s in source]
    return source, target
