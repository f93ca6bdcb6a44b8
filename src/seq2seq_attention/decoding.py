"""Decoding a trained model: greedy prediction and beam search.

A source sentence is preprocessed exactly like the training data (lower case, a
space before `,.!?`), mapped to indices (unknown words become `<unk>`), given
`<eos>`, and truncated or padded to `num_steps` tokens. A sentence longer than
`num_steps - 1` words is therefore cut, as the training sentences were, and the
model sees no `<eos>` for it.
"""
import math

import numpy as onp
from mxnet import np, npx

from .checks import check_float, check_int, check_sentences
from .models import AttentionDecoder
from .text import build_array_nmt, preprocess_nmt
from .utils import as_ctx_list


def source_tokens(sentences):
    """Preprocess sentences as the training data; their token lists."""
    tokens = [preprocess_nmt(s).split() for s in sentences]
    if not all(tokens):
        raise ValueError('cannot translate an empty sentence')
    return tokens


def _encode(net, sentences, src_vocab, num_steps, ctx):
    """Encode sentences; return the decoder's initial state, valid lengths."""
    # (batch_size, num_steps), (batch_size,)
    enc_X, enc_valid_len = build_array_nmt(source_tokens(sentences), src_vocab,
                                           num_steps)
    enc_X, enc_valid_len = enc_X.as_in_ctx(ctx), enc_valid_len.as_in_ctx(ctx)
    enc_outputs = net.encoder(enc_X, enc_valid_len)
    return (net.decoder.init_state(enc_outputs, enc_valid_len),
            enc_valid_len.asnumpy().tolist())


def _check_arguments(net, sentences, src_vocab, tgt_vocab, num_steps,
                     batch_size, save_attention_weights):
    """Check what every decoding function takes; return the checked values."""
    net.check_vocabularies(src_vocab, tgt_vocab)
    if (save_attention_weights
            and not isinstance(net.decoder, AttentionDecoder)):
        raise ValueError(f'save_attention_weights=True, but '
                         f'{type(net.decoder).__name__} has no attention '
                         f'weights')
    return (check_sentences('sentences', sentences),
            check_int('num_steps', num_steps, low=1),
            check_int('batch_size', batch_size, low=1))


def _to_sentence(indices, tgt_vocab):
    """Join target indices into a sentence (with any vocabulary)."""
    return ' '.join(tgt_vocab.idx_to_token[int(i)] for i in indices)


def translate_batch(net, sentences, src_vocab, tgt_vocab, num_steps, ctx,
                    batch_size=256, save_attention_weights=False):
    """Translate sentences greedily, `batch_size` at a time.

    Each step feeds the decoder the likeliest token of the previous one, for
    every sentence at once; a sentence ends at its first `<eos>` (or after
    `num_steps` tokens). Returns the translations and, with
    `save_attention_weights`, the weights of each sentence: a NumPy array
    `(decoded steps, valid source length)`, one row per output token, the
    `<eos>` step included; otherwise the list of weights is None.
    """
    sentences, num_steps, batch_size = _check_arguments(
        net, sentences, src_vocab, tgt_vocab, num_steps, batch_size,
        save_attention_weights)
    # decoding runs on one context
    ctx, eos = as_ctx_list(ctx)[0], tgt_vocab['<eos>']
    translations, all_weights = [], []
    for start in range(0, len(sentences), batch_size):
        dec_state, src_lens = _encode(net, sentences[start:start + batch_size],
                                      src_vocab, num_steps, ctx)
        dec_X = np.full((len(src_lens), 1), tgt_vocab['<bos>'], dtype='int32',
                        ctx=ctx)
        outputs, weights = [], []
        # which sentences have output <eos>
        ended = onp.zeros(len(src_lens), dtype=bool)
        for _ in range(num_steps):
            # Y: (batch_size, 1, vocab_size)
            Y, dec_state = net.decoder(dec_X, dec_state)
            # the likeliest token is the next input
            dec_X = Y.argmax(axis=2).astype('int32')
            outputs.append(dec_X.asnumpy()[:, 0])
            if save_attention_weights:  # (batch_size, num_enc_steps)
                weights.append(
                    net.decoder.attention_weights[:, 0, :].asnumpy())
            ended |= outputs[-1] == eos
            if ended.all():
                break
        outputs = onp.stack(outputs, 1)  # (batch_size, decoded steps)
        if save_attention_weights:
            # (batch_size, decoded steps, num_enc_steps)
            weights = onp.stack(weights, 1)
        for i, tokens in enumerate(outputs.tolist()):
            length = tokens.index(eos) if eos in tokens else len(tokens)
            translations.append(_to_sentence(tokens[:length], tgt_vocab))
            # rows up to the <eos> step, columns up to the source's length
            if save_attention_weights:
                steps = min(length + 1, len(tokens))
                all_weights.append(weights[i, :steps, :src_lens[i]])
    return translations, (all_weights if save_attention_weights else None)


def predict_s2s(net, sentence, src_vocab, tgt_vocab, num_steps, ctx,
                save_attention_weights=False):
    """Translate one sentence greedily; return it and its attention weights.

    This is `translate_batch` for a single sentence: decoding stops at `<eos>`
    or after `num_steps` tokens; the weights (with `save_attention_weights`,
    else None) are a NumPy array `(decoded steps, valid source length)`, one row
    per output token, `<eos>` included.
    """
    translations, weights = translate_batch(
        net, [sentence], src_vocab, tgt_vocab, num_steps, ctx,
        save_attention_weights=save_attention_weights)
    return translations[0], (weights[0] if save_attention_weights else None)


def beam_search(net, sentence, src_vocab, tgt_vocab, num_steps, ctx,
                beam_size=4, alpha=0.0, save_attention_weights=False):
    """Translate a sentence by beam search; return the best, its weights.

    This is `beam_search_batch` for a single sentence (see there for the
    ranking); the weights (with `save_attention_weights`, else None) are a
    NumPy array `(decoded steps, valid source length)`, one row per output
    token of the best hypothesis, `<eos>` included.
    """
    translations, weights = beam_search_batch(
        net, [sentence], src_vocab, tgt_vocab, num_steps, ctx,
        beam_size=beam_size, alpha=alpha,
        save_attention_weights=save_attention_weights)
    return translations[0], (weights[0] if save_attention_weights else None)


def beam_search_batch(net, sentences, src_vocab, tgt_vocab, num_steps, ctx,
                      beam_size=4, alpha=0.0, batch_size=64,
                      save_attention_weights=False, early_stop=True):
    """Translate sentences by beam search, `batch_size` at a time.

    For each sentence, each step keeps the `beam_size` likeliest unfinished
    hypotheses. A hypothesis ends at `<eos>` (or after `num_steps` tokens), and
    the finished ones are ranked by `log P(y) / L ** alpha` with `L` their
    length counting `<eos>` (d2l's length penalty; `alpha=0` ranks by
    probability alone, favouring short outputs). With `beam_size=1` and
    `alpha=0` this is greedy decoding. Every sentence's hypotheses run through
    the decoder together, so the result is the same as decoding the sentences
    one by one. Returns the translations and their weights (as
    `translate_batch`).

    With `early_stop` (the default) a sentence's search ends as soon as none of
    its live hypotheses can finish with a better score than its best finished
    one: a log-probability only falls as tokens are added, so a live
    hypothesis's score is bounded by its log-probability over the largest
    length penalty it can still reach. The bound is exact, so the translations
    are those of the full search (`early_stop=False`), found sooner.
    """
    beam_size = check_int('beam_size', beam_size, low=1)
    alpha = check_float('alpha', alpha)
    sentences, num_steps, batch_size = _check_arguments(
        net, sentences, src_vocab, tgt_vocab, num_steps, batch_size,
        save_attention_weights)
    ctx = as_ctx_list(ctx)[0]  # decoding runs on one context
    translations, all_weights = [], []
    for start in range(0, len(sentences), batch_size):
        chunk = _beam_search_chunk(net, sentences[start:start + batch_size],
                                   src_vocab, tgt_vocab, num_steps, ctx,
                                   beam_size, alpha, save_attention_weights,
                                   early_stop)
        for translation, weights in chunk:
            translations.append(translation)
            all_weights.append(weights)
    return translations, (all_weights if save_attention_weights else None)


def _beam_search_chunk(net, sentences, src_vocab, tgt_vocab, num_steps, ctx, k,
                       alpha, save_attention_weights, early_stop):
    """Beam search for a few sentences at once: (translation, weights).

    Sentence `b` owns the `k` rows `b * k ... b * k + k - 1` of the decoder's
    batch, one per hypothesis slot; a slot without a hypothesis (None: at the
    first step only one exists) has score -inf, so none of its continuations is
    ever chosen.
    """
    state, src_lens = _encode(net, sentences, src_vocab, num_steps, ctx)
    num_sentences, eos = len(src_lens), tgt_vocab['<eos>']
    slots = np.array([b for b in range(num_sentences) for _ in range(k)],
                     dtype='int32', ctx=ctx)
    # k copies of every sentence's state
    state = net.decoder.reorder_state(state, slots)
    # A hypothesis is (tokens, log-probability, attention rows)
    beams = [[([], 0.0, [])] + [None] * (k - 1) for _ in range(num_sentences)]
    finished = [[] for _ in range(num_sentences)]
    dec_X = np.full((num_sentences * k, 1), tgt_vocab['<bos>'], dtype='int32',
                    ctx=ctx)
    for step in range(num_steps):
        # Y: (num_sentences * k, 1, vocab_size)
        Y, state = net.decoder(dec_X, state)
        vocab_size = Y.shape[2]
        # (num_sentences * k, vocab_size) -> (num_sentences, k, vocab_size)
        log_probs = npx.log_softmax(Y[:, 0, :]).asnumpy().reshape(
            num_sentences, k, vocab_size)
        if save_attention_weights:
            # (num_sentences * k, num_enc_steps)
            # -> (num_sentences, k, num_enc_steps)
            weights = net.decoder.attention_weights[:, 0, :].asnumpy().reshape(
                num_sentences, k, -1)
        scores = onp.array([[-onp.inf if h is None else h[1] for h in hyps]
                            for hyps in beams])
        # (num_sentences, k, 1) + (num_sentences, k, vocab_size)
        scores = scores[:, :, None] + log_probs
        # each sentence's 2k best continuations (at most k of them end with
        # <eos>): (num_sentences, k * vocab_size) -> (num_sentences, 2k)
        candidates = onp.argsort(-scores.reshape(num_sentences, -1), axis=1,
                                 kind='stable')[:, :2 * k]
        picked = []  # the decoder row each new slot continues from
        for b in range(num_sentences):
            new_beams, first_pick = [], len(picked)
            for flat in candidates[b]:
                slot, token = divmod(int(flat), vocab_size)
                if beams[b][slot] is None:
                    continue
                tokens, _, attn = beams[b][slot]
                if save_attention_weights:
                    attn = attn + [weights[b, slot, :src_lens[b]]]
                hypothesis = (tokens + [token], float(scores[b, slot, token]),
                              attn)
                if token == eos or step == num_steps - 1:
                    finished[b].append(hypothesis)
                elif len(new_beams) < k:
                    new_beams.append(hypothesis)
                    picked.append(b * k + slot)
                if len(new_beams) == k:
                    break
            if early_stop and finished[b] and new_beams and not _can_improve(
                    new_beams, finished[b], num_steps, alpha):
                new_beams = []  # this sentence is done
                del picked[first_pick:]
            # empty slots: any row will do
            picked += [b * k] * (k - len(new_beams))
            beams[b] = new_beams + [None] * (k - len(new_beams))
        if all(h is None for hyps in beams for h in hyps):
            break
        state = net.decoder.reorder_state(
            state, np.array(picked, dtype='int32', ctx=ctx))
        # (num_sentences * k, 1)
        dec_X = np.array([[eos if h is None else h[0][-1]] for hyps in beams
                          for h in hyps], dtype='int32', ctx=ctx)
    results = []
    for b in range(num_sentences):
        best = max(finished[b],
                   key=lambda h: length_penalty_score(h[1], len(h[0]), alpha))
        tokens = best[0][:-1] if best[0][-1] == eos else best[0]
        weights = onp.stack(best[2]) if save_attention_weights else None
        results.append((_to_sentence(tokens, tgt_vocab), weights))
    return results


def _can_improve(live, finished, num_steps, alpha):
    """Whether a live hypothesis may still beat the best finished one.

    (Ties go to the one that finished first, as `max` picks it.)
    """
    best = max(length_penalty_score(h[1], len(h[0]), alpha) for h in finished)
    # A live hypothesis ends with a log-probability <= its own (<= 0) and a
    # length from len + 1 up to num_steps: its score is at most the larger of
    # those two lengths' scores
    return any(max(length_penalty_score(log_prob, len(tokens) + 1, alpha),
                   length_penalty_score(log_prob, num_steps, alpha)) > best
               for tokens, log_prob, _ in live)


def length_penalty_score(log_prob, length, alpha):
    """A finished hypothesis's score: `log_prob / length ** alpha` (as d2l)."""
    return log_prob / math.pow(length, alpha)
