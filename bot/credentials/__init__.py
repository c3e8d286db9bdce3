"""Signed credentials and the keys and lists that make them trustworthy.

- ``cwt``: the credential itself, CWT claims in a COSE_Sign1 (Ed25519): issue, decode, verify.
- ``keyring``: our own signing keys, their rotation, and the trust list we publish.
- ``trust``: trust lists (ours and other regions'): their format, parsing and the trust store.
- ``trust_sources``: where trust and revocation lists come from, and how fresh they must be.

Nothing is re-exported: import from the submodule.
"""
