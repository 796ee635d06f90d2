"""Where bytes and rows live: the versioned object store and the database.

No knowledge of naskah rules here: ``pipeline/`` decides, ``storage/`` keeps.
"""
