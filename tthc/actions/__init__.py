"""Act today (§11, docs/acting-today.md): the lists, points at stake, three things to do and the month-end projection."""
