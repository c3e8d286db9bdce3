"""Pure health-code domain: policy as data, colour evaluation, validators.

Nothing in this package performs I/O or imports telegram, sqlalchemy or aiohttp.
"""
