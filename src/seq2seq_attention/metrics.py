"""How good translations and alignments are: BLEU, chrF, alignment.

Corpus BLEU and chrF come from sacrebleu, the reference implementation; d2l's
sentence BLEU is kept for the chapters that compare with d2l.
`alignment_correlation` says how far an attention decoder's weights move along
the source as it writes.
"""
import numpy as onp
from d2l import mxnet as d2l

from .checks import check_same_length

# d2l's BLEU of one sentence (0-1): precisions of n-grams up to k, brevity
# penalty; the d2l chapters score their four example sentences with it
bleu = d2l.bleu


def _check_pairs(name, hypotheses, references):
    """Raise unless there are equally many hypotheses and references (> 0)."""
    check_same_length('hypotheses', hypotheses, 'references', references)
    if not hypotheses:
        raise ValueError(f'{name} needs at least one hypothesis and reference')


def corpus_bleu(hypotheses, references):
    """Return sacrebleu's corpus BLEU (0-100) against one reference each."""
    import sacrebleu
    _check_pairs('corpus_bleu', hypotheses, references)
    # force=True: our sentences are tokenized on purpose (a space before
    # punctuation), which sacrebleu would otherwise warn about on stderr; the
    # score is the same
    return sacrebleu.corpus_bleu(list(hypotheses), [list(references)],
                                 force=True).score


def corpus_chrf(hypotheses, references):
    """Return sacrebleu's corpus chrF (0-100) against one reference each."""
    import sacrebleu
    _check_pairs('corpus_chrf', hypotheses, references)
    return sacrebleu.corpus_chrf(list(hypotheses), [list(references)]).score


def corpus_scores(hypotheses, references, n_bootstrap=1000):
    """Corpus BLEU and chrF, each with a 95% bootstrap interval.

    sacrebleu resamples the test sentences `n_bootstrap` times (its seed is
    fixed, so the interval repeats) and reports the half-width of the
    interval holding the middle 95% of the resampled scores. Returns
    `{'BLEU': (score, half_width, signature), 'chrF': (...)}`.
    """
    from sacrebleu.metrics import BLEU, CHRF
    _check_pairs('corpus_scores', hypotheses, references)
    scores = {}
    # force=True as in corpus_bleu: the text is tokenized on purpose
    for name, metric in [('BLEU', BLEU(force=True)), ('chrF', CHRF())]:
        score = metric.corpus_score(list(hypotheses), [list(references)],
                                    n_bootstrap=n_bootstrap)
        # sacrebleu 2.x keeps the half-width only in `_ci` (its printed
        # form shows it as "± ..."); tests/test_metrics.py checks its meaning
        # (a NumPy scalar under NumPy 2: made a float, for JSON too)
        scores[name] = (float(score.score), float(score._ci),
                        str(metric.get_signature()))
    return scores


def alignment_correlation(weights):
    """How far an alignment moves with the output, from -1 to 1.

    `weights` is `(output steps, source positions)`. The result is the
    correlation between the output step and the source position that step
    weighs most: 1 on a diagonal (copying), -1 on an anti-diagonal
    (reversing), 0 when that position does not move with the step (it stays
    put, or there is a single step).
    """
    weights = onp.asarray(weights)
    if weights.ndim != 2 or 0 in weights.shape:
        raise ValueError(f'weights must be a non-empty (output steps, source '
                         f'positions) matrix, got shape {weights.shape}')
    steps = onp.arange(weights.shape[0])
    positions = weights.argmax(axis=1)
    if positions.std() == 0 or steps.std() == 0:
        return 0.0
    return float(onp.corrcoef(steps, positions)[0, 1])
