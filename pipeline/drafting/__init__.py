"""Drafting: the DOCX templates, cases and naskah, revisions in the object store, conversion to PDF,
attachments and their checks.
"""
