"""Translation and alignment measures: sacrebleu's scores, alignment."""

import numpy as onp
import pytest
import sacrebleu

from seq2seq_attention.metrics import (
    alignment_correlation,
    corpus_bleu,
    corpus_chrf,
    corpus_scores,
)

HYPOTHESES = ['il est calme .', 'je suis chez moi .', 'va !']
REFERENCES = ['il est riche .', 'je suis à la maison .', 'va !']


def test_scores_are_sacrebleus_on_the_tokenized_sentences():
    """The same numbers as sacrebleu's own call; 100 for a perfect match."""
    assert corpus_bleu(HYPOTHESES, REFERENCES) == pytest.approx(
        sacrebleu.corpus_bleu(HYPOTHESES, [REFERENCES], force=True).score
    )
    assert corpus_chrf(HYPOTHESES, REFERENCES) == pytest.approx(
        sacrebleu.corpus_chrf(HYPOTHESES, [REFERENCES]).score
    )
    assert corpus_bleu(REFERENCES, REFERENCES) == pytest.approx(100)
    assert 0 < corpus_chrf(HYPOTHESES, REFERENCES) < 100


def _test_set(n, seed=0):
    """`n` reference sentences and hypotheses with a word or two wrong."""
    rng = onp.random.RandomState(seed)
    words = 'je tu il elle est suis es calme chez moi toi la maison va'.split()
    refs = [' '.join(rng.choice(words, rng.randint(3, 9))) for _ in range(n)]
    hyps = []
    for ref in refs:
        tokens = ref.split()
        for i in rng.choice(len(tokens), rng.randint(0, 3)):
            tokens[i] = rng.choice(words)
        hyps.append(' '.join(tokens))
    return hyps, refs


def test_corpus_scores_give_each_score_a_bootstrap_interval():
    hyps, refs = _test_set(40)
    scores = corpus_scores(hyps, refs, n_bootstrap=400)
    bleu, bleu_ci, signature = scores['BLEU']
    chrf, chrf_ci, _ = scores['chrF']
    assert bleu == pytest.approx(corpus_bleu(hyps, refs))
    assert chrf == pytest.approx(corpus_chrf(hyps, refs))
    assert 'bs:400' in signature and 'tok:13a' in signature
    # the half-width of the middle 95% of scores on resampled test sets,
    # checked against resampling by hand (other draws: within 30%)
    rng = onp.random.RandomState(1)
    resampled = sorted(
        corpus_bleu([hyps[i] for i in idx], [refs[i] for i in idx])
        for idx in rng.randint(0, len(hyps), (400, len(hyps)))
    )
    by_hand = (resampled[389] - resampled[10]) / 2
    assert bleu_ci == pytest.approx(by_hand, rel=0.3)
    assert chrf_ci > 0
    # four times the sentences, about half the interval; none when perfect
    hyps4, refs4 = _test_set(160)
    assert corpus_scores(hyps4, refs4, 400)['BLEU'][1] < 0.7 * bleu_ci
    assert corpus_scores(refs, refs, 100)['BLEU'][:2] == (
        pytest.approx(100),
        0,
    )


@pytest.mark.parametrize('score', [corpus_bleu, corpus_chrf, corpus_scores])
def test_scores_refuse_unequal_or_empty_lists(score):
    with pytest.raises(ValueError, match='equally many'):
        score(['a'], ['a', 'b'])
    with pytest.raises(ValueError, match='at least one'):
        score([], [])


def test_alignment_correlation_of_diagonal_anti_diagonal_and_fixed_column():
    assert alignment_correlation(onp.eye(6)) == pytest.approx(1.0)
    assert alignment_correlation(onp.eye(6)[::-1]) == pytest.approx(-1.0)
    fixed = onp.zeros((5, 7))
    fixed[:, 0] = 1  # every step looks at the first token
    assert alignment_correlation(fixed) == 0.0
    assert alignment_correlation(onp.ones((1, 4)) / 4) == 0.0  # a single step
    # a rough diagonal over a longer source (3 output steps, 6 source tokens)
    rough = onp.array(
        [
            [0.6, 0.4, 0, 0, 0, 0],
            [0, 0.2, 0.7, 0.1, 0, 0],
            [0, 0, 0, 0.1, 0.2, 0.7],
        ]
    )
    assert 0.9 < alignment_correlation(rough) < 1.0


@pytest.mark.parametrize(
    'weights', [onp.zeros((3,)), onp.zeros((0, 4)), onp.zeros((2, 3, 4))]
)
def test_alignment_correlation_refuses_what_is_not_a_matrix(weights):
    with pytest.raises(ValueError, match='weights must be'):
        alignment_correlation(weights)
