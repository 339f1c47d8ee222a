"""Staff forms: the typed answers the Prefect UI renders, with their Swedish titles and checks.

Data, below the stores that record them: a store reads a form, a form never reads a store."""
