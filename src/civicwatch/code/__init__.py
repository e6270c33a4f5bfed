"""Coding: report text in, codebook incidents out (``spec/codebook.md``).

``Coder().code(text, published)`` returns :class:`Incident` objects;
``code_document`` turns one input JSON object into one output line;
``evaluate`` scores a gold file as ``../shared/tools/score_incidents.py`` does.
"""

from civicwatch.code.coder import CODER_VERSION, Coder, Incident, code_document
from civicwatch.code.evaluate import evaluate, score

__all__ = ["CODER_VERSION", "Coder", "Incident", "code_document", "evaluate", "score"]
