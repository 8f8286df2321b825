"""Wardley maps: the map text people write (:mod:`.text`), its drawing (:mod:`.svg`) and the
map of the whole service network drawn from the contracts (:mod:`.network`).

Nothing here needs Django; the app's models and actions import these, never the reverse.
"""
