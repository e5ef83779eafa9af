"""Search-as-you-type: completions of what shoppers searched before, of brands, categories
and product names, typo-tolerant (search.suggest.selectors). Beside retrieval: it reads the
keyword index's vocabulary and documents, and a small table of suggestions
(search.models.Suggestion) that beat and the indexing path keep fresh
(search.indexing.suggestions)."""
