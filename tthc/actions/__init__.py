"""Act today (domain.md §11): the lists, points at stake, three things to do and the month-end projection."""
