"""Entry points: the FastAPI app and the ``naskah`` command line, both thin.

The only place that reads the environment (``api/config.py``).
"""

import warnings

from cryptography.utils import CryptographyDeprecationWarning

# cryptography 51 deprecates DSA, and pyHanko 0.38 imports its DSAPrivateKey class at import time
# (pyhanko/sign/signers/pdf_cms.py, only for an isinstance check): every ``naskah`` command printed
# the warning although nothing here uses DSA.  Silence exactly that warning from pyHanko, here,
# before any entry point imports pyHanko; remove this when pyHanko no longer imports the class.
warnings.filterwarnings(
    "ignore", message="DSA is deprecated", category=CryptographyDeprecationWarning, module=r"pyhanko\."
)
