"""Keys, JCS signing, scan tokens (COSE_Sign1) and JWKS. The only package that imports cryptography.hazmat."""
