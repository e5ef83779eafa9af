"""Keeping the derived index up to date with the catalog: `indexes` (which index answers,
building and switching them), `lexical` (the keyword documents), `embedding` (products into
vectors), `queue` (asking the workers for it) and `sweeper` (the safety net)."""
