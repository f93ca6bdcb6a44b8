"""Greedy decoding and beam search, on the model that memorised the pairs."""

import mxnet as mx
import numpy as onp
import pytest
from d2l import mxnet as d2l
from mxnet import np, npx

from conftest import CPU, NUM_STEPS, PAIRS
from seq2seq_attention import Seq2SeqConfig, Vocab, build_seq2seq, set_seed
from seq2seq_attention.decoding import (
    beam_search,
    beam_search_batch,
    predict_s2s,
    translate_batch,
)


def translate(model, sentence, **kwargs):
    net, src_vocab, tgt_vocab, _ = model
    return predict_s2s(
        net, sentence, src_vocab, tgt_vocab, NUM_STEPS, CPU, **kwargs
    )


def beam(model, sentence, **kwargs):
    """Beam search on the memorising model (`beam_search`'s other arguments)."""
    net, src_vocab, tgt_vocab, _ = model
    return beam_search(
        net, sentence, src_vocab, tgt_vocab, NUM_STEPS, CPU, **kwargs
    )


def test_attention_weights_have_one_row_per_output_token(overfit_model):
    translation, weights = translate(
        overfit_model, 'i am home .', save_attention_weights=True
    )
    assert weights.shape == (
        len(translation.split()) + 1,
        len('i am home . <eos>'.split()),
    )
    onp.testing.assert_allclose(weights.sum(axis=1), 1, rtol=1e-5)
    assert translate(overfit_model, 'i am home .')[1] is None


def test_input_is_preprocessed_like_the_training_data(overfit_model):
    assert (
        translate(overfit_model, 'I am home.')[0]
        == translate(overfit_model, 'i am home .')[0]
    )


def test_empty_and_non_string_sentences_are_refused(overfit_model):
    for empty in ['', '   ']:
        with pytest.raises(ValueError, match='empty'):
            translate(overfit_model, empty)
    with pytest.raises(TypeError, match='str'):
        translate(overfit_model, ['i', 'lost'])


def test_a_sentence_of_unknown_words_still_translates(overfit_model):
    translation, weights = translate(
        overfit_model, 'zebras juggle quietly', save_attention_weights=True
    )
    assert (
        isinstance(translation, str) and weights.shape[1] == 4
    )  # 3 x <unk>, <eos>


def test_a_sentence_longer_than_num_steps_is_truncated(overfit_model):
    long = 'i am home . he is calm . i lost . go .'
    translation, weights = translate(
        overfit_model, long, save_attention_weights=True
    )
    assert (
        weights.shape[1] == NUM_STEPS
    )  # only the first num_steps tokens were read
    cut = ' '.join(long.split()[:NUM_STEPS])
    assert translation == translate(overfit_model, cut + ' extra words')[0]


def test_a_one_token_translation_works_with_d2ls_own_vocab(overfit_model):
    """Decoding maps indices through `idx_to_token`, so any vocabulary with
    one works, d2l's class too (its `to_tokens` takes no one-element list)."""
    net, src_vocab, tgt_vocab, _ = overfit_model
    plain_vocab = d2l.Vocab()
    plain_vocab.idx_to_token = tgt_vocab.idx_to_token
    plain_vocab.token_to_idx = tgt_vocab.token_to_idx
    translation, _ = predict_s2s(
        net, 'hi', src_vocab, plain_vocab, NUM_STEPS, CPU
    )
    assert translation == 'salut'


def test_beam_of_width_one_is_greedy_and_wider_beams_recover_the_pairs(
    overfit_model,
):
    net, src_vocab, tgt_vocab, _ = overfit_model
    for src, tgt in PAIRS:
        greedy, greedy_weights = translate(
            overfit_model, src, save_attention_weights=True
        )
        beam1, beam1_weights = beam(
            overfit_model, src, beam_size=1, save_attention_weights=True
        )
        assert beam1 == greedy
        onp.testing.assert_allclose(beam1_weights, greedy_weights, rtol=1e-6)
        for alpha in (0.0, 0.75):
            assert beam(overfit_model, src, beam_size=3, alpha=alpha)[0] == tgt
    with pytest.raises(ValueError, match='beam_size'):
        beam_search(
            net, 'go .', src_vocab, tgt_vocab, NUM_STEPS, CPU, beam_size=0
        )


def test_beam_search_batch_equals_one_sentence_at_a_time(overfit_model):
    net, src_vocab, tgt_vocab, _ = overfit_model
    sources = [src for src, _ in PAIRS] + [
        'i lost .',
        'he is calm and i am here .',
    ]
    for beam_size, alpha in ((1, 0.0), (3, 0.75)):
        # batch_size=3 splits the sentences into chunks, the last one shorter
        batch, weights = beam_search_batch(
            net,
            sources,
            src_vocab,
            tgt_vocab,
            NUM_STEPS,
            CPU,
            beam_size=beam_size,
            alpha=alpha,
            batch_size=3,
            save_attention_weights=True,
        )
        assert len(batch) == len(weights) == len(sources)
        for src, translation, w in zip(sources, batch, weights):
            one, one_weights = beam_search(
                net,
                src,
                src_vocab,
                tgt_vocab,
                NUM_STEPS,
                CPU,
                beam_size=beam_size,
                alpha=alpha,
                save_attention_weights=True,
            )
            assert translation == one
            onp.testing.assert_allclose(w, one_weights, rtol=1e-5, atol=1e-6)
    assert beam_search_batch(net, [], src_vocab, tgt_vocab, NUM_STEPS, CPU) == (
        [],
        None,
    )
    with pytest.raises(ValueError, match='batch_size'):
        beam_search_batch(
            net, sources, src_vocab, tgt_vocab, NUM_STEPS, CPU, batch_size=0
        )


@pytest.mark.parametrize('decoder', ['attention', 'plain'])
@pytest.mark.parametrize('alpha', [0.0, 0.75])
def test_a_beam_wide_enough_to_keep_every_prefix_finds_the_best_output(
    decoder, alpha
):
    # 7 tokens and 3 steps: a beam of 7 ** 2 keeps every prefix, so beam
    # search must return the best of all outputs, found here by scoring every
    # one of them
    set_seed(0)
    vocab = Vocab(
        [['a', 'b', 'c']], reserved_tokens=['<pad>', '<bos>', '<eos>']
    )
    V, num_steps, eos = len(vocab), 3, vocab['<eos>']
    net = build_seq2seq(Seq2SeqConfig(V, V, 4, 8, 2, decoder=decoder))
    net.initialize(
        mx.init.Normal(1.0)
    )  # large weights: far from uniform probabilities
    row, src_len = [vocab['a'], vocab['c'], eos], [3]
    state = net.decoder.init_state(
        net.encoder(
            np.array([row], dtype='int32'), np.array(src_len, dtype='int32')
        ),
        np.array(src_len, dtype='int32'),
    )
    prefixes, outputs = [((), 0.0)], []  # (tokens, log-probability)
    for step in range(num_steps):
        dec_X = np.array(
            [[p[-1] if p else vocab['<bos>']] for p, _ in prefixes],
            dtype='int32',
        )
        Y, state = net.decoder(dec_X, state)
        log_probs = npx.log_softmax(Y[:, 0, :]).asnumpy().astype('float64')
        extended, parents = [], []
        for i, (tokens, lp) in enumerate(prefixes):
            for token in range(V):
                if token == eos or step == num_steps - 1:
                    outputs.append(
                        (tokens + (token,), lp + log_probs[i, token])
                    )
                else:
                    extended.append(
                        (tokens + (token,), lp + log_probs[i, token])
                    )
                    parents.append(i)
        prefixes = extended
        if prefixes:
            state = net.decoder.reorder_state(
                state, np.array(parents, dtype='int32')
            )
    assert (
        len(outputs) == 1 + (V - 1) + (V - 1) ** 2 * V
    )  # ends at step 1, 2, or 3
    best = max(outputs, key=lambda o: o[1] / len(o[0]) ** alpha)[0]
    expected = ' '.join(
        vocab.idx_to_token[t] for t in (best[:-1] if best[-1] == eos else best)
    )
    translation, _ = beam_search(
        net, 'a c', vocab, vocab, num_steps, CPU, beam_size=V**2, alpha=alpha
    )
    assert translation == expected


def test_translating_a_batch_gives_what_one_sentence_at_a_time_gives(
    overfit_model,
):
    net, src_vocab, tgt_vocab, _ = overfit_model
    sentences = [src for src, _ in PAIRS] + [
        'zebras juggle quietly',
        'I am home.',
    ]
    translations, weights = translate_batch(
        net,
        sentences,
        src_vocab,
        tgt_vocab,
        NUM_STEPS,
        CPU,
        batch_size=4,
        save_attention_weights=True,
    )
    assert translations[: len(PAIRS)] == [tgt for _, tgt in PAIRS]
    for sentence, translation, w in zip(sentences, translations, weights):
        one, one_weights = translate(
            overfit_model, sentence, save_attention_weights=True
        )
        assert translation == one
        onp.testing.assert_allclose(w, one_weights, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match='empty'):
        translate_batch(net, ['go .', ''], src_vocab, tgt_vocab, NUM_STEPS, CPU)
    with pytest.raises(ValueError, match='batch_size'):
        translate_batch(
            net, ['go .'], src_vocab, tgt_vocab, NUM_STEPS, CPU, batch_size=0
        )


@pytest.mark.parametrize('alpha', [0.0, 0.75, 1.5, -0.5])
def test_beam_searchs_early_stop_changes_no_translation_and_decodes_fewer_steps(
    alpha,
):
    # An untrained model with large weights: peaked, varied distributions,
    # <eos> often likely
    set_seed(1)
    words = 'a b c d e f'.split()
    vocab = Vocab([words], reserved_tokens=['<pad>', '<bos>', '<eos>'])
    net = build_seq2seq(Seq2SeqConfig(len(vocab), len(vocab), 4, 8, 1))
    net.initialize(mx.init.Normal(1.0))
    rng = onp.random.RandomState(0)
    sentences = [
        ' '.join(rng.choice(words, size=rng.randint(1, 6))) for _ in range(12)
    ]
    decoder_forward, calls = net.decoder.forward, []

    def counting_forward(X, state):
        calls.append(X.shape[0])
        return decoder_forward(X, state)

    net.decoder.forward = counting_forward
    results, steps = {}, {}
    for early_stop in (False, True):
        calls.clear()
        for beam_size, batch_size in ((2, 1), (4, 1), (3, 5)):
            # batch_size=1: each search ends when its own sentence is done
            results[early_stop, beam_size] = beam_search_batch(
                net,
                sentences,
                vocab,
                vocab,
                10,
                CPU,
                beam_size=beam_size,
                alpha=alpha,
                batch_size=batch_size,
                save_attention_weights=True,
                early_stop=early_stop,
            )
        steps[early_stop] = len(calls)
    for beam_size in (2, 4, 3):
        (early, early_weights), (full, full_weights) = (
            results[True, beam_size],
            results[False, beam_size],
        )
        assert early == full
        for w, w_full in zip(early_weights, full_weights):
            onp.testing.assert_array_equal(w, w_full)
    # (with alpha 1.5 the bound, log_prob / num_steps ** 1.5, is too loose
    # to stop early)
    assert (
        steps[True] < steps[False]
        if alpha <= 0.75
        else steps[True] == steps[False]
    )
