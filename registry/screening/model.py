"""The ranking model: TF-IDF features and a linear classifier retrained on the decisions.

Why these choices (see ``bench/bench_screening.py`` for the simulations they rest on):
- Features: TF-IDF of title, abstract, keywords and MeSH terms, words and word pairs,
  sublinear term frequency, English stop words dropped. Fitted on the text of every record
  of the review, which uses no label (the features never see a decision).
- Classifier: a linear SVM with balanced sample weights, chosen by simulation on both
  shared labelled sets (3 seeds each, the same defaults for both, no tuning to one set)
  against naive Bayes and logistic regression: mean WSS@95 / RRF@10 virus 65.9 / 71.7,
  depression 49.5 / 54.4 (logistic 64.9 / 68.1 and 51.1 / 54.2 at 9x the CPU time; naive
  Bayes 11.0 / 38.9 and 49.8 / 54.1). Balanced weights handle 1–5 % prevalence: the few
  includes weigh as much as the many excludes.
- Determinism: liblinear with a fixed ``random_state`` (the seed); ties in the score break
  on the record's position, so the same inputs and seed give the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import MultinomialNB
from sklearn.svm import LinearSVC

CLASSIFIER_LABELS = {
    "svm": "linear SVM",
    "logistic": "logistic regression",
    "naive_bayes": "naive Bayes",
}
CLASSIFIERS = tuple(CLASSIFIER_LABELS)
DEFAULT_CLASSIFIER = "svm"
BALANCE = 1.0


def record_text(record: dict[str, object]) -> str:
    """The text a record is ranked on: title, abstract, keywords and MeSH terms."""
    parts: list[str] = []
    for key in ("title", "abstract", "keywords", "mesh_terms"):
        value = record.get(key)
        if value is None:
            continue
        if isinstance(value, list | tuple):
            parts.extend(str(v) for v in value if v)
        else:
            parts.append(str(value))
    return " ".join(parts)


@dataclass
class Features:
    """TF-IDF matrix of a set of records and the vocabulary behind its columns."""

    matrix: sparse.csr_matrix
    terms: np.ndarray

    @classmethod
    def fit(cls, texts: Sequence[str]) -> Features:
        """Build the features of ``texts`` (one per record)."""
        vec = TfidfVectorizer(
            sublinear_tf=True,
            ngram_range=(1, 2),
            min_df=2,
            max_df=0.95,
            stop_words="english",
            dtype=np.float64,
        )
        try:
            matrix = vec.fit_transform(texts)
        except ValueError:
            # Too few records (or no shared word) for min_df=2: take every word.
            vec.set_params(min_df=1, max_df=1.0)
            try:
                matrix = vec.fit_transform(texts)
            except ValueError:  # no word at all (empty titles and abstracts)
                return cls(sparse.csr_matrix((len(texts), 1)), np.array(["(none)"]))
        return cls(matrix.tocsr(), vec.get_feature_names_out())


def include_weights(y: np.ndarray, balance: float) -> np.ndarray:
    """Sample weights giving the includes together ``balance`` times the weight of all
    excludes together (normalised to mean 1), so 1–5 % prevalence does not drown them."""
    n1, n0 = int(y.sum()), int((1 - y).sum())
    w = np.where(y == 1, 1.0, n1 / (balance * n0))
    return w * (len(y) / w.sum())


def _classifier(name: str, seed: int):
    if name == "logistic":
        return LogisticRegression(
            C=10.0, solver="liblinear", random_state=seed
        )
    if name == "naive_bayes":
        # ASReview's default alpha (Ferdinands 2020); priors equalised for low prevalence.
        return MultinomialNB(alpha=3.822, fit_prior=False)
    if name == "svm":
        return LinearSVC(C=0.5, random_state=seed)
    raise ValueError(f"unknown classifier {name!r} (one of {', '.join(CLASSIFIERS)})")


@dataclass
class Ranker:
    """A classifier trained on the labelled rows of ``features``; scores every row."""

    features: Features
    classifier: str = DEFAULT_CLASSIFIER
    seed: int = 0
    balance: float = BALANCE
    _model: object | None = None

    def fit(self, rows: Sequence[int], labels: Sequence[int]) -> Ranker:
        """Train on ``labels`` (1 include, 0 exclude) of ``rows``; needs both classes."""
        y = np.asarray(labels, dtype=int)
        if len(set(y.tolist())) < 2:
            raise ValueError("the model needs at least one include and one exclude")
        model = _classifier(self.classifier, self.seed)
        model.fit(self.features.matrix[np.asarray(rows, dtype=int)], y,
                  sample_weight=include_weights(y, self.balance))
        self._model = model
        return self

    def scores(self) -> np.ndarray:
        """Relevance score of every row (higher: more likely an include)."""
        if self._model is None:
            raise ValueError("fit the model first")
        model = self._model
        if hasattr(model, "decision_function"):
            return np.asarray(model.decision_function(self.features.matrix), dtype=float)
        return np.asarray(model.predict_log_proba(self.features.matrix)[:, 1], dtype=float)

    def term_weights(self) -> np.ndarray:
        """Weight of each term towards 'include' (coefficients, or NB log-odds)."""
        model = self._model
        if model is None:
            raise ValueError("fit the model first")
        if hasattr(model, "coef_"):
            return np.asarray(model.coef_).ravel()
        logp = model.feature_log_prob_
        return np.asarray(logp[1] - logp[0]).ravel()

    def top_terms(self, row: int, k: int = 5) -> list[str]:
        """The terms of ``row`` that push its score up most (why it ranks high)."""
        weights = self.term_weights()
        vec = self.features.matrix.getrow(row)
        contrib = vec.data * weights[vec.indices]
        best = np.argsort(-contrib, kind="stable")[:k]
        return [str(self.features.terms[vec.indices[i]]) for i in best if contrib[i] > 0]


def order_unlabelled(scores: np.ndarray, unlabelled: Sequence[int]) -> list[int]:
    """``unlabelled`` rows best score first; ties keep row order (deterministic)."""
    rows = np.asarray(unlabelled, dtype=int)
    if rows.size == 0:
        return []
    # lexsort sorts by the last key first: score descending, then row ascending
    idx = np.lexsort((rows, -scores[rows]))
    return rows[idx].tolist()
