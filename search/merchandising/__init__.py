"""Merchandising: synonyms (another way to say a query's words, given to the keyword leg) and
rules (pin, hide, boost or bury products for a query, or send it to a page), both written by
the shop's staff in the admin or the API and acting on the next search."""
