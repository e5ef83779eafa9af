"""Models fine-tuned on the shop's own catalog and clicks, built into a new search index like
any model switch (services.run_adaptation; `manage.py adapt_models`; docs/ADAPTATION.md)."""
