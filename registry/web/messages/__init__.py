"""The message catalogue of the public pages, one module per feature.

Each module defines ``MESSAGES: dict[str, tuple[str, str]]``: msgid -> (Chinese, English).
Msgids start with the feature's name (``base.``, ``cert.``, ``scan.`` ...) and must be unique
across modules; :mod:`registry.web.i18n` merges them at import and refuses duplicates.
"""
