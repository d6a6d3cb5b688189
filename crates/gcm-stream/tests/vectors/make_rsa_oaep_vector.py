#!/usr/bin/env python3
"""Writes rsa_oaep_sha256_mgf1_sha1.txt: a known-answer vector for the Java JCE default
provider's "RSA/ECB/OAEPWithSHA-256AndMGF1Padding" (OAEP label hash SHA-256, MGF1 with SHA-1,
empty label), made with Python's `cryptography` package, which is independent of aws-lc.

Run once; the output is committed so that `cargo test` needs no Python:
    python3 make_rsa_oaep_vector.py > rsa_oaep_sha256_mgf1_sha1.txt

The key is a throwaway test key generated for this vector and protects nothing.
"""
import os

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pkcs8 = key.private_bytes(
    serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
spki = key.public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
)
data_key = os.urandom(32)
java_default = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA1()), algorithm=hashes.SHA256(), label=None)
ciphertext = key.public_key().encrypt(data_key, java_default)
# Sanity: the vector decrypts with the same parameters before it is written.
assert key.decrypt(ciphertext, java_default) == data_key

print("# RSA-OAEP, label hash SHA-256, MGF1-SHA-1, empty label; made by make_rsa_oaep_vector.py")
print(f"pkcs8: {pkcs8.hex()}")
print(f"spki: {spki.hex()}")
print(f"plaintext: {data_key.hex()}")
print(f"ciphertext: {ciphertext.hex()}")
