"""The text model behind 智能分拨: Chinese free text → category, with a confidence.

Features are TF-IDF weights of jieba word tokens and of character 1–3-grams within runs of word
characters (characters carry typos, rare words and stems a word segmenter splits badly); the
classifier is a linear support vector machine (scikit-learn ``LinearSVC``, one-vs-rest) whose
scores become probabilities through a softmax with a temperature fitted on held-out cases. It is all
plain Python over texts and integer labels: no database, no Django models (see ``training`` for
where the texts come from and ``services`` for how the platform calls it).

The weights are pruned (tiny weights dropped) and kept as a sparse matrix, so a model of a few
hundred categories stays a few megabytes and one prediction costs a few hundred microseconds.
Stored models pickle the vectorizers with references to ``word_tokens`` and ``char_grams``: a
change to either must ship with a forced retrain (``train_classifier --force``).
"""

from __future__ import annotations

import functools
import logging
import math
import pickle
import re
import tempfile
import threading
import unicodedata
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

# Weights smaller than this are dropped after training (they change no ranking that matters).
PRUNE_BELOW = 0.01
# Softmax scale used before any held-out case exists to fit one (cold start).
DEFAULT_SCALE = 6.0
WORD_NGRAMS = (1, 1)

_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
_NOT_A_WORD = re.compile(r"^[\W_]+$")
_NON_WORD = re.compile(r"[\W_]+")

_tokenizer = None
_tokenizer_lock = threading.Lock()


def _cache_dir() -> Path:
    """Where jieba keeps its one-off dictionary cache: ``var/cache`` when Django is configured,
    else the system temporary directory (never the installed package or the home directory)."""
    try:
        from django.conf import settings

        path = Path(settings.VAR_DIR) / "cache"
    except Exception:  # not configured (plain scripts): the temporary directory
        path = Path(tempfile.gettempdir())
    path.mkdir(parents=True, exist_ok=True)
    return path


def tokenizer():
    """This process's jieba tokenizer with the bundled dictionary, initialized once (about half a
    second the first time in a process; the dictionary cache is written under ``var/cache``)."""
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                import jieba

                logging.getLogger("jieba").setLevel(logging.WARNING)
                jieba.setLogLevel(logging.WARNING)
                made = jieba.Tokenizer()
                made.tmp_dir = str(_cache_dir())
                made.initialize()
                _tokenizer = made
    return _tokenizer


def normalize(text: str) -> str:
    """Full-width forms to half-width, lower case, every number to ``0``, spaces collapsed: house
    numbers, plates and dates say nothing about the category."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = _DIGITS.sub("0", text)
    return _SPACES.sub(" ", text).strip()


# jieba cuts a text block by block, a block being a run of these characters (``re_han_default``);
# everything between blocks comes out character by character. Cutting block by block here gives
# the same words and lets recurring clauses (“来电人反映”, “请相关部门核实处理”) be cut once.
_BLOCK = re.compile(r"([\u4E00-\u9FD5a-zA-Z0-9+#&\._%\-]+)")


@functools.lru_cache(maxsize=200_000)
def _cut_block(block: str) -> tuple[str, ...]:
    return tuple(w for w in tokenizer().lcut(block, HMM=False) if w.strip() and not _NOT_A_WORD.match(w))


def word_tokens(text: str) -> list[str]:
    """jieba words of the normalized text, punctuation dropped (the analyzer of the word block)."""
    words: list[str] = []
    for n, piece in enumerate(_BLOCK.split(normalize(text))):
        if n % 2:  # a block (split keeps the matches at odd positions)
            words.extend(_cut_block(piece))
        else:
            words.extend(ch for ch in piece if ch.strip() and not _NOT_A_WORD.match(ch))
    return words


def char_grams(text: str) -> list[str]:
    """Character 1–3-grams within each run of word characters of the normalized text (no gram
    spans punctuation or a space): the analyzer of the character block."""
    grams: list[str] = []
    for run in _NON_WORD.split(normalize(text)):
        size = len(run)
        if not size:
            continue
        grams.extend(run)
        grams.extend([run[i:i + 2] for i in range(size - 1)])
        grams.extend([run[i:i + 3] for i in range(size - 2)])
    return grams


def _vectorizer(analyzer):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, min_df=1, dtype=np.float32)


@dataclass
class TextModel:
    """A trained classifier: two vectorizers, the pruned weights (features × classes, sparse),
    the intercepts, the class labels (category ids) and the softmax scale."""

    words: object
    chars: object
    labels: np.ndarray  # category id per column
    weights: sparse.csr_matrix  # (features, classes)
    intercept: np.ndarray  # (classes,)
    scale: float = DEFAULT_SCALE
    codes: list | None = None  # (kind, code) per label, to carry a model to another database

    # --- features ------------------------------------------------------------------------------

    def features(self, texts: list[str]) -> sparse.csr_matrix:
        return sparse.hstack([self.words.transform(texts), self.chars.transform(texts)], format="csr")

    def _fast(self) -> dict:
        # Plain-Python and numpy views of the vocabularies and weights for the one-text path,
        # made on first use and never pickled.
        fast = self.__dict__.get("_fast_views")
        if fast is None:
            weights = self.weights
            fast = self.__dict__["_fast_views"] = {
                "words": (self.words.vocabulary_, self.words.idf_.tolist()),
                "chars": (self.chars.vocabulary_, self.chars.idf_.tolist()),
                "offset": len(self.words.vocabulary_),
                "indptr": weights.indptr.astype(np.int64), "indices": weights.indices, "data": weights.data,
                "classes": weights.shape[1],
            }
        return fast

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_fast_views", None)
        return state

    @staticmethod
    def _block(vocabulary, idf, tokens, offset, index: list, values: list) -> None:
        # The same numbers as TfidfVectorizer.transform (sublinear tf × idf, l2 per block), for one
        # text without the per-call overhead of building a sparse matrix.
        found, block = [], []
        get = vocabulary.get
        for token, n in Counter(tokens).items():
            j = get(token)
            if j is not None:
                found.append(j + offset)
                block.append((1.0 + math.log(n)) * idf[j] if n > 1 else idf[j])
        if not found:
            return
        norm = math.sqrt(sum(v * v for v in block))
        index.extend(found)
        values.extend(v / norm for v in block)

    def one_vector(self, text: str) -> tuple[list[int], list[float]]:
        fast = self._fast()
        index: list[int] = []
        values: list[float] = []
        self._block(*fast["words"], word_tokens(text), 0, index, values)
        self._block(*fast["chars"], char_grams(text), fast["offset"], index, values)
        return index, values

    # --- scores and probabilities ------------------------------------------------------------

    def scores(self, texts: list[str]) -> np.ndarray:
        """Decision scores, one row per text, one column per label."""
        if not texts:
            return np.zeros((0, len(self.labels)))
        return np.asarray((self.features(texts) @ self.weights).todense()) + self.intercept

    def one_scores(self, text: str) -> np.ndarray:
        index, values = self.one_vector(text)
        if not index:
            return self.intercept.astype(np.float64)
        fast = self._fast()
        rows = np.asarray(index, dtype=np.int64)
        starts = fast["indptr"][rows]
        lengths = fast["indptr"][rows + 1] - starts
        total = int(lengths.sum())
        if not total:
            return self.intercept.astype(np.float64)
        # Positions of every stored weight of the text's features, then one weighted bincount.
        at = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(total)
        scores = np.bincount(fast["indices"][at], weights=fast["data"][at] * np.repeat(values, lengths),
                             minlength=fast["classes"])
        return scores + self.intercept

    def probabilities(self, scores: np.ndarray) -> np.ndarray:
        z = scores * self.scale
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    def top_k(self, texts: list[str], k: int = 3) -> list[list[tuple[int, float]]]:
        """Best ``k`` (label, probability) per text, best first (vectorised)."""
        if not texts:
            return []
        k = max(1, min(k, len(self.labels)))
        probs = self.probabilities(self.scores(texts))
        part = np.argpartition(-probs, k - 1, axis=1)[:, :k]
        rows = np.arange(len(texts))[:, None]
        order = np.argsort(-probs[rows, part], axis=1)
        best = part[rows, order]
        best_p = probs[rows, best]
        labels = self.labels
        return [[(int(labels[j]), float(p)) for j, p in zip(b, bp, strict=True)] for b, bp in zip(best, best_p, strict=True)]

    def top_k_one(self, text: str, k: int = 3) -> list[tuple[int, float]]:
        """``top_k`` for one text, on the fast path (the intake hook)."""
        probs = self.probabilities(self.one_scores(text))
        k = max(1, min(k, len(self.labels)))
        best = np.argpartition(-probs, k - 1)[:k]
        best = best[np.argsort(-probs[best])]
        return [(int(self.labels[j]), float(probs[j])) for j in best]

    # --- storage -------------------------------------------------------------------------------

    def dumps(self) -> bytes:
        return zlib.compress(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL), 6)

    @staticmethod
    def loads(payload: bytes) -> TextModel:
        # The payload is written only by ``dumps`` into our own database (never from a request).
        return pickle.loads(zlib.decompress(bytes(payload)))

    @property
    def size(self) -> int:
        return int(self.weights.nnz)


def fit(texts: list[str], labels: list[int], *, sample_weight: list[float] | None = None, c: float = 0.5,
        prune_below: float = PRUNE_BELOW) -> TextModel:
    """Train a model on ``texts`` labelled with category ids (at least two distinct labels)."""
    from sklearn.svm import LinearSVC

    if len(set(labels)) < 2:
        raise ValueError("Training needs at least two categories.")
    words, chars = _vectorizer(word_tokens), _vectorizer(char_grams)
    # Fitted on the texts once; both blocks share the documents' order.
    x = sparse.hstack([words.fit_transform(texts), chars.fit_transform(texts)], format="csr")
    svm = LinearSVC(C=c, tol=1e-3, max_iter=2000)
    svm.fit(x, np.asarray(labels), sample_weight=None if sample_weight is None else np.asarray(sample_weight))
    coef = svm.coef_
    intercept = svm.intercept_
    if coef.shape[0] == 1:  # two classes: one score s for the second label, -s for the first
        coef = np.vstack([-coef, coef])
        intercept = np.array([-intercept[0], intercept[0]])
    coef = np.where(np.abs(coef) >= prune_below, coef, 0.0).astype(np.float32)
    weights = sparse.csr_matrix(coef.T)
    return TextModel(words=words, chars=chars, labels=svm.classes_.astype(np.int64), weights=weights,
                     intercept=intercept.astype(np.float64), scale=DEFAULT_SCALE)


def fit_scale(model: TextModel, texts: list[str], labels: list[int]) -> float:
    """The softmax scale that makes held-out probabilities honest (least negative log-likelihood
    over a grid); the default when there is nothing to fit on."""
    if not texts:
        return model.scale
    scores = model.scores(texts)
    column = {int(label): j for j, label in enumerate(model.labels)}
    known = [(i, column[int(y)]) for i, y in enumerate(labels) if int(y) in column]
    if not known:
        return model.scale
    rows, cols = np.array([i for i, _ in known]), np.array([j for _, j in known])
    best, best_loss = model.scale, math.inf
    for scale in (1, 1.5, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40):
        z = scores[rows] * scale
        z = z - z.max(axis=1, keepdims=True)
        log_p = z[np.arange(len(rows)), cols] - np.log(np.exp(z).sum(axis=1))
        loss = -float(log_p.mean())
        if loss < best_loss:
            best, best_loss = float(scale), loss
    return best


@dataclass
class Evaluation:
    """Held-out figures: overall and per group (大类) top-1/top-3, and the most confused pairs."""

    examples: int
    top1: float
    top3: float
    per_group: dict  # group → {"examples", "top1", "top3"}
    confusions: list  # [{"true", "predicted", "count"}] most frequent first

    def as_dict(self) -> dict:
        return {"examples": self.examples, "top1": self.top1, "top3": self.top3,
                "per_group": self.per_group, "confusions": self.confusions}


def evaluate(model: TextModel, texts: list[str], labels: list[int], group_of: dict[int, str] | None = None,
             confusions: int = 10) -> Evaluation:
    """Top-1 and top-3 of ``model`` on held-out ``texts``; ``group_of`` maps a label to its group."""
    group_of = group_of or {}
    predicted = model.top_k(texts, 3) if texts else []
    hits1 = hits3 = 0
    groups: dict[str, list[int]] = {}
    pairs: Counter = Counter()
    for truth, top in zip(labels, predicted, strict=True):
        best = [label for label, _p in top]
        one, three = int(best[0] == truth), int(truth in best)
        hits1, hits3 = hits1 + one, hits3 + three
        stats = groups.setdefault(group_of.get(truth, ""), [0, 0, 0])
        stats[0], stats[1], stats[2] = stats[0] + 1, stats[1] + one, stats[2] + three
        if not one:
            pairs[(truth, best[0])] += 1
    n = len(labels)
    return Evaluation(
        examples=n, top1=round(hits1 / n, 4) if n else 0.0, top3=round(hits3 / n, 4) if n else 0.0,
        per_group={g: {"examples": s[0], "top1": round(s[1] / s[0], 4), "top3": round(s[2] / s[0], 4)}
                   for g, s in sorted(groups.items())},
        confusions=[{"true": t, "predicted": p, "count": c} for (t, p), c in pairs.most_common(confusions)],
    )
