"""Archive and what follows it: immutable originals, recap, monitoring, the dashboard, public
verification, monitoring and evaluation (monev).
"""
