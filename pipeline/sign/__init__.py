"""Signing: signature plans, signer backends (PKCS#12, PKCS#11, remote), face to face and desk to desk,
surat kuasa, PAdES levels, certificate policy and identity, verification.
"""
