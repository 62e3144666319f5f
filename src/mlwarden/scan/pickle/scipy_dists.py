"""Pickled scipy distributions: a gadget with one benign form.

``rv_generic.__setstate__`` (every ``scipy.stats`` ``*_gen`` distribution) updates the instance
dict from the pickle and then ``exec``s ``self._parse_arg_template``: a pickle that sets that string
runs any code (the gadget sweep lists these classes as critical). But every genuine pickle of a
distribution — ``pickle.dumps(scipy.stats.norm(0, 1))``, a fitted ``RandomizedSearchCV`` over
``loguniform`` — carries scipy's own template, built by ``rv_generic._construct_argparser`` as
``parse_arg_template % {shape_arg_str, locscale_in, locscale_out}``. A state whose template is
*exactly* that text for some list of identifier shapes defines three argument-parsing functions
and nothing else; such a rebuild is vetted (and the ``__doc__`` string scipy keeps in the instance
dict is not smuggling). Anything else — another template, a computed one, a second BUILD — keeps
the class critical.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable

from mlwarden.scan.pickle.values import SDict

PARSE_ARG_TEMPLATE = """
def _parse_args(self, %(shape_arg_str)s %(locscale_in)s):
    return (%(shape_arg_str)s), %(locscale_out)s

def _parse_args_rvs(self, %(shape_arg_str)s %(locscale_in)s, size=None):
    return self._argcheck_rvs(%(shape_arg_str)s %(locscale_out)s, size=size)

def _parse_args_stats(self, %(shape_arg_str)s %(locscale_in)s, moments='mv'):
    return (%(shape_arg_str)s), %(locscale_out)s, moments
"""
"""``scipy.stats._distn_infrastructure.parse_arg_template`` (identical in scipy 1.0–1.17)."""

LOCSCALE = (("loc=0, scale=1", "loc, scale"), ("loc=0", "loc, 1"))
"""``(locscale_in, locscale_out)`` of continuous and discrete distributions."""

_HEAD = re.compile(r"\Adef _parse_args\(self, ((?:[A-Za-z_][A-Za-z0-9_]*, )*) ")
GADGET_PATH = "rv_generic.__setstate__"


def template_gadget(reason: str) -> bool:
    """Whether a gadget verdict's reason is the distribution ``exec`` of this module."""
    return GADGET_PATH in reason and "builtins.exec" in reason


def canonical_template(text: str) -> bool:
    """``text`` is scipy's own template for some identifier shapes (exactly, byte for byte)."""
    head = _HEAD.match(text.lstrip("\n"))
    if head is None:
        return False
    shapes = [s for s in head.group(1).split(", ") if s]
    if any(keyword.iskeyword(s) or s in ("self", "loc", "scale", "size", "moments")
           for s in shapes):
        return False
    shape_arg_str = ", ".join(shapes) + ", " if shapes else ""
    return any(text == PARSE_ARG_TEMPLATE % {"shape_arg_str": shape_arg_str,
                                             "locscale_in": inp, "locscale_out": out}
               for inp, out in LOCSCALE)


def vetted_state(state: object, text: Callable[[object], str | None]) -> bool:
    """A BUILD state of a distribution that rebuilds it harmlessly: a plain attribute dict whose
    ``_parse_arg_template`` is scipy's own, whose only special attribute is a constant ``__doc__``
    string, and which is complete (no pairs dropped by the analyser's caps)."""
    if not isinstance(state, SDict) or state.dropped:
        return False
    templates = [v for k, v in state.pairs if text(k) == "_parse_arg_template"]
    if len(templates) != 1:
        return False
    template = text(templates[0])
    if template is None or not canonical_template(template):
        return False
    for k, v in state.pairs:
        key = text(k)
        if key is None:
            return False
        if key.startswith("__") and key.endswith("__") and \
                (key != "__doc__" or (v is not None and text(v) is None)):
            return False
    return True
