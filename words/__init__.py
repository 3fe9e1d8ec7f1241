"""One catalogue of words, French first and English: what callers and technicians hear and read, and
the agents' dashboard. `words.catalogue` holds it; the modules below fill it in when imported."""

from words import caller, carriers, events, live, mail, pages, tickets, ui  # noqa: F401 - each registers its words
