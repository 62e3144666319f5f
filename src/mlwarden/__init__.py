"""mlwarden: security for the whole machine-learning lifecycle.

Every check produces :class:`~mlwarden.core.finding.Finding` values about an artifact identified
by its digest; a :class:`~mlwarden.core.policy.Policy` reads them and decides.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
