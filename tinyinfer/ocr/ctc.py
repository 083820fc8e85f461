"""CTC decoding: from per-frame class probabilities to text, per-character confidence and alignment.

    probs: (T, C) float, softmax over C classes per time step; class 0 is the CTC blank
    -> Decoded(text, score, chars=[(char, confidence, frame), ...])

greedy         argmax per frame, merge repeats, drop blanks; score = mean of the kept maxima
               (PaddleOCR's and RapidOCR's rule). Numba kernel when installed, NumPy twin.
beam_search    keeps the `width` most probable frame paths (no merging of equal texts).
prefix_beam    CTC prefix beam search: paths that collapse to the same prefix are summed.
               Constraints prune prefixes as they grow:
                 allowed   a string of characters the text may contain
                 lexicon   the whole text must be one of these strings (trie over prefixes)
                 regex     the final text must match (re.fullmatch) — applied to the n best
Character lists follow PP-OCR: the model's `character` metadata (one per line), then blank is
put first and a space last. Taught in notebooks/06.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

try:  # optional: Numba jit for the greedy loop
    import numba as _nb
except ImportError:  # pragma: no cover - NumPy twin runs instead
    _nb = None


@dataclass
class Decoded:
    text: str
    score: float
    chars: List[Tuple[str, float, int]] = field(default_factory=list)   # (char, prob, frame)


def load_characters(metadata: Optional[Dict[str, str]] = None, path: Optional[str] = None) -> List[str]:
    """['blank', c1, ..., cn, ' '] from the model's `character` metadata entry or a keys file."""
    if path:
        with open(path, "rb") as f:
            chars = [ln.decode("utf-8").strip("\n").strip("\r\n") for ln in f.readlines()]
    elif metadata and "character" in metadata:
        chars = metadata["character"].splitlines()
    else:
        raise ValueError("no character list: the model has no 'character' metadata entry; "
                         "give a keys file")
    return ["blank"] + chars + [" "]


# ---------------------------------------------------------------- greedy

def greedy_numpy(probs: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T, C) -> kept class ids, their probabilities, their frames."""
    idx = probs.argmax(axis=1)
    p = probs[np.arange(len(idx)), idx]
    keep = np.ones(len(idx), bool)
    keep[1:] = idx[1:] != idx[:-1]
    keep &= idx != 0
    frames = np.flatnonzero(keep)
    return idx[frames], p[frames], frames


if _nb is not None:
    @_nb.njit(cache=False, nogil=True)
    def _greedy_kernel(probs, ids, ps, frames):  # pragma: no cover - compiled
        T, C = probs.shape
        n, prev = 0, -1
        for t in range(T):
            best, bp = 0, probs[t, 0]
            for c in range(1, C):
                if probs[t, c] > bp:
                    best, bp = c, probs[t, c]
            if best != prev and best != 0:
                ids[n], ps[n], frames[n] = best, bp, t
                n += 1
            prev = best
        return n


def greedy_ids(probs: np.ndarray):
    if _nb is None:
        return greedy_numpy(probs)
    T = probs.shape[0]
    ids, frames = np.empty(T, np.int64), np.empty(T, np.int64)
    ps = np.empty(T, probs.dtype)
    n = _greedy_kernel(np.ascontiguousarray(probs), ids, ps, frames)
    return ids[:n], ps[:n], frames[:n]


def greedy(probs: np.ndarray, characters: Sequence[str]) -> Decoded:
    ids, ps, frames = greedy_ids(probs)
    chars = [(characters[i], float(p), int(t)) for i, p, t in zip(ids, ps, frames)]
    score = float(np.mean(ps.astype(np.float32))) if len(ps) else 0.0
    return Decoded("".join(c for c, _, _ in chars), score, chars)


# ---------------------------------------------------------------- beams

def _candidates(row: np.ndarray, floor: float, allowed_ids: Optional[np.ndarray]) -> np.ndarray:
    """Class ids worth extending with at one frame: blank, and the classes above `floor`."""
    c = np.flatnonzero(row >= floor)
    if allowed_ids is not None:
        c = c[np.isin(c, allowed_ids)]
    if 0 not in c:
        c = np.concatenate([[0], c])
    return c


def beam_search(probs: np.ndarray, characters: Sequence[str], width: int = 8,
                floor: float = 1e-4) -> Decoded:
    """Best path by frame beam search: keep the `width` most probable label paths (log space)."""
    logp = np.log(np.maximum(probs.astype(np.float64), 1e-30))
    beams = [(0.0, ())]                                    # (log prob, per-frame labels)
    for t in range(probs.shape[0]):
        cand = _candidates(probs[t], floor, None)
        nxt = [(lp + logp[t, c], path + (int(c),)) for lp, path in beams for c in cand]
        nxt.sort(key=lambda b: -b[0])
        beams = nxt[:width]
    path = np.array(beams[0][1], np.int64)
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(path)), path] = 1
    ids, _, frames = greedy_numpy(onehot)
    chars = [(characters[i], float(probs[t, i]), int(t)) for i, t in zip(ids, frames)]
    score = float(np.mean([p for _, p, _ in chars])) if chars else 0.0
    return Decoded("".join(c for c, _, _ in chars), score, chars)


def _logsumexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


def _trie(words: Iterable[str]) -> Tuple[set, set]:
    prefixes, full = set(), set()
    for w in words:
        full.add(w)
        for i in range(len(w) + 1):
            prefixes.add(w[:i])
    return prefixes, full


def prefix_beam(probs: np.ndarray, characters: Sequence[str], width: int = 8, floor: float = 1e-4,
                allowed: Optional[str] = None, lexicon: Optional[Iterable[str]] = None,
                regex: Optional[str] = None) -> Decoded:
    """CTC prefix beam search. Each beam is a label prefix with two log probabilities: ending in
    blank (pb) and ending in its last label (pnb). Per frame t and candidate class c:
        c == blank         pb'(l)   += p(blank) * (pb + pnb)
        c == last(l)       pnb'(l)  += p(c) * pnb          (repeat merges)
                           pnb'(l+c) += p(c) * pb          (repeat after a blank is a new char)
        otherwise          pnb'(l+c) += p(c) * (pb + pnb)
    """
    T, C = probs.shape
    logp = np.log(np.maximum(probs.astype(np.float64), 1e-30))
    allowed_ids = None
    if allowed is not None:
        allowed_ids = np.array([i for i, ch in enumerate(characters) if i and ch in allowed], np.int64)
    prefixes, full = _trie(lexicon) if lexicon is not None else (None, None)
    if lexicon is not None and allowed_ids is None:
        chars_in = set("".join(full))
        allowed_ids = np.array([i for i, ch in enumerate(characters) if i and ch in chars_in], np.int64)
    NEG = -math.inf
    # beam: labels tuple -> [pb, pnb, frames tuple, probs tuple]
    beams: Dict[tuple, list] = {(): [0.0, NEG, (), ()]}
    text_of = lambda lab: "".join(characters[i] for i in lab)  # noqa: E731
    for t in range(T):
        cand = _candidates(probs[t], floor, allowed_ids)
        nxt: Dict[tuple, list] = {}

        def add(lab, pb, pnb, frames, ps):
            e = nxt.get(lab)
            if e is None:
                nxt[lab] = [pb, pnb, frames, ps]
            else:
                e[0] = _logsumexp(e[0], pb)
                e[1] = _logsumexp(e[1], pnb)

        for lab, (pb, pnb, frames, ps) in beams.items():
            tot = _logsumexp(pb, pnb)
            for c in cand:
                c = int(c)
                lp = logp[t, c]
                if c == 0:
                    add(lab, tot + lp, NEG, frames, ps)
                    continue
                new = lab + (c,)
                if prefixes is not None and text_of(new) not in prefixes:
                    continue
                if lab and lab[-1] == c:
                    add(lab, NEG, pnb + lp, frames, ps)
                    if pb > NEG:
                        add(new, NEG, pb + lp, frames + (t,), ps + (float(probs[t, c]),))
                else:
                    add(new, NEG, tot + lp, frames + (t,), ps + (float(probs[t, c]),))
        ranked = sorted(nxt.items(), key=lambda kv: -_logsumexp(kv[1][0], kv[1][1]))
        beams = dict(ranked[:width])
    ranked = sorted(beams.items(), key=lambda kv: -_logsumexp(kv[1][0], kv[1][1]))
    pick = None
    for lab, e in ranked:
        text = text_of(lab)
        if full is not None and text not in full:
            continue
        if regex is not None and not re.fullmatch(regex, text):
            continue
        pick = (lab, e)
        break
    if pick is None:
        return Decoded("", 0.0, [])
    lab, (_, _, frames, ps) = pick
    chars = [(characters[i], p, f) for i, p, f in zip(lab, ps, frames)]
    score = float(np.mean(ps)) if ps else 0.0
    return Decoded(text_of(lab), score, chars)


def decode(probs: np.ndarray, characters: Sequence[str], method: str = "greedy", **kw) -> Decoded:
    """Dispatch: 'greedy', 'beam' (prefix beam search; takes width/allowed/lexicon/regex),
    'path_beam' (frame beam search)."""
    if method == "greedy" and not kw:
        return greedy(probs, characters)
    if method in ("beam", "prefix_beam", "greedy"):
        return prefix_beam(probs, characters, **kw)
    if method == "path_beam":
        return beam_search(probs, characters, **kw)
    raise ValueError(f"unknown CTC decoder {method!r}; use greedy, beam or path_beam")
