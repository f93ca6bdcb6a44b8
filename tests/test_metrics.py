"""Translation and alignment measures: sacrebleu's scores, alignment."""

import numpy as onp
import pytest
import sacrebleu

from seq2seq_attention.metrics import (
    alignment_correlation,
    corpus_bleu,
    corpus_chrf,
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


@pytest.mark.parametrize('score', [corpus_bleu, corpus_chrf])
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
