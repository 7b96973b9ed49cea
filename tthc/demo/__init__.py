"""The demo: the whole pipeline on the bundled simulator (`make demo`, `tthc demo`).

`pipeline.py` runs the nights and the month's publish through the real DAGs; `actions.py` is its
last act, what one unit has to do today.
"""
