"""Entry points: the FastAPI app and the ``naskah`` command line, both thin.

The only place that reads the environment (``api/config.py``).
"""
