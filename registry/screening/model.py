"""The ranking model: TF-IDF features and a linear classifier retrained on the decisions.

Why these choices (simulations in ``bench/bench_screening.py``; every variant tried, with
its figures on both shared labelled sets, is listed in the bench's docstring):
- Features: TF-IDF of title, abstract, keywords and MeSH terms, words and word pairs,
  sublinear term frequency, terms in more than 95 % of records dropped, every other term
  kept (also those of one record only). No stop-word list: scikit-learn's English list
  holds words that carry meaning in scientific text ("de novo", "full genome", "found",
  "first", "system", "co-infection"); inverse document frequency and the 95 % cut already
  silence the function words. Dropping that list and keeping single-record terms raised
  WSS@95 on the virus set from 65.8 to 69.2. The title counts twice: it states the topic
  in a few words that the abstract dilutes. Fitted on the text of every record of the
  review, which uses no label (the features never see a decision).
- Classifier: a linear SVM (squared hinge), strongly regularised (C = 0.11), the includes
  together weighing 9.8 times the excludes together: the setting ASReview 3 ships as its
  default after tuning it on the 26 SYNERGY data sets (model ``elas_u4``), i.e. chosen on
  many reviews of many fields, not on ours. Naive Bayes and logistic regression were worse
  on both shared sets (bench docstring).
- Determinism: liblinear with a fixed ``random_state`` (the seed); ties in the score break
  on the record's position, so the same inputs and seed give the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
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
# Includes together weigh BALANCE times the excludes together (ASReview 3 ``elas_u4``).
BALANCE = 9.8
SVM_C = 0.11
# The title is repeated this many times in the text a record is ranked on.
TITLE_REPEAT = 2


def record_text(record: dict[str, object]) -> str:
    """The text a record is ranked on: title (``TITLE_REPEAT`` times), abstract, keywords
    and MeSH terms."""
    parts: list[str] = []
    for key in ("title",) * TITLE_REPEAT + ("abstract", "keywords", "mesh_terms"):
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
            min_df=1,
            max_df=0.95,
            dtype=np.float64,
        )
        try:
            matrix = vec.fit_transform(texts)
        except ValueError:
            # Too few records for max_df (every word in > 95 % of them): take every word.
            vec.set_params(max_df=1.0)
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
        return LinearSVC(C=SVM_C, random_state=seed)
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
        """The terms of ``row`` that push its score up most (why it ranks high); terms made
        of function words only ("of the") are features but explain nothing, so not shown."""
        weights = self.term_weights()
        vec = self.features.matrix.getrow(row)
        contrib = vec.data * weights[vec.indices]
        terms = [str(self.features.terms[j]) for j in vec.indices]
        best = [i for i in np.argsort(-contrib, kind="stable")
                if contrib[i] > 0 and not _function_words_only(terms[i])]  # fmt: skip
        return [terms[i] for i in best[:k]]


def _function_words_only(term: str) -> bool:
    return all(word in ENGLISH_STOP_WORDS for word in term.split())


def order_unlabelled(scores: np.ndarray, unlabelled: Sequence[int]) -> list[int]:
    """``unlabelled`` rows best score first; ties keep row order (deterministic)."""
    rows = np.asarray(unlabelled, dtype=int)
    if rows.size == 0:
        return []
    # lexsort sorts by the last key first: score descending, then row ascending
    idx = np.lexsort((rows, -scores[rows]))
    return rows[idx].tolist()
