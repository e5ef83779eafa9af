"""What merchandising hands the search pipeline for one search (search.services): the
synonyms that shape the keyword leg's query and the rules that act last, read once so the
results cache's key and the ranking agree on them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from search.merchandising.rules import NO_RULES, MatchedRules, rules_for
from search.merchandising.synonyms import NO_SYNONYMS, Expansion, expand_query
from search.query import SearchRequest


@dataclass(frozen=True)
class Merchandising:
    synonyms: Expansion = NO_SYNONYMS
    rules: MatchedRules = NO_RULES

    def keyed(self, key: str) -> str:
        """The results cache's key for a ranking these synonyms and rules shaped: the same
        key when none apply (the cache stays shared), else one that changes with them."""
        if not self.synonyms.applied and not self.rules:
            return key
        digest = hashlib.sha256(repr((self.synonyms.key, self.rules.key)).encode()).hexdigest()
        return f"{key}:m{digest[:32]}"


NO_MERCHANDISING = Merchandising()


def merchandising_for(request: SearchRequest) -> Merchandising:
    """The synonyms and rules that apply to this search now (each compiled per process)."""
    synonyms = expand_query(request.query) if request.query else NO_SYNONYMS
    rules = rules_for(request)
    if synonyms is NO_SYNONYMS and rules is NO_RULES:
        return NO_MERCHANDISING
    return Merchandising(synonyms=synonyms, rules=rules)
