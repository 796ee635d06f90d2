"""The lifecycle core: rules of naskah kerja sama, from drafting to archive.

Nothing here knows about HTTP or the command line (``api/``) or how bytes are kept
(``storage/``); see README.md for the one-line map of each module.
"""
