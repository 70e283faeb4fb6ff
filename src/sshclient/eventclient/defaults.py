"""Default values of the spec's five `ssh_*_algorithms` properties.

They are the commercial class's defaults, kept verbatim so that `get_x()`
returns what the spec documents; they are not our offer.  Some names here
are ones we do not implement (arcfour, 3des-ctr, umac, gss-*, x509v3-*): the
adapter keeps only what the algorithm registry can run, and offers the weak
ones after the strong ones (see `SSHClient._offer`).
"""
from __future__ import annotations

KEX_ALGORITHMS = (
    "curve25519-sha256,curve25519-sha256@libssh.org,diffie-hellman-group-exchange-sha256,"
    "diffie-hellman-group14-sha256,diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,"
    "ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha1,"
    "diffie-hellman-group14-sha1,diffie-hellman-group1-sha1,"
    "gss-group14-sha256-toWM5Slw5Ew8Mqkay+al2g==,gss-group16-sha512-toWM5Slw5Ew8Mqkay+al2g==,"
    "gss-nistp256-sha256-toWM5Slw5Ew8Mqkay+al2g==,gss-curve25519-sha256-toWM5Slw5Ew8Mqkay+al2g==,"
    "gss-group14-sha1-toWM5Slw5Ew8Mqkay+al2g==,gss-gex-sha1-toWM5Slw5Ew8Mqkay+al2g=="
)
ENCRYPTION_ALGORITHMS = (
    "aes256-ctr,aes192-ctr,aes128-ctr,3des-ctr,arcfour256,arcfour128,arcfour,"
    "aes256-gcm@openssh.com,aes128-gcm@openssh.com,chacha20-poly1305@openssh.com"
)
MAC_ALGORITHMS = (
    "hmac-sha2-256,hmac-sha2-512,hmac-sha1,hmac-md5,hmac-ripemd160,hmac-sha1-96,hmac-md5-96,"
    "hmac-sha2-256-96,hmac-sha2-512-96,hmac-ripemd160-96,hmac-sha2-256-etm@openssh.com,"
    "hmac-sha2-512-etm@openssh.com,hmac-sha2-256-96-etm@openssh.com,"
    "hmac-sha2-512-96-etm@openssh.com,umac-64@openssh.com,umac-64-etm@openssh.com,"
    "umac-128@openssh.com,umac-128-etm@openssh.com"
)
PUBLIC_KEY_ALGORITHMS = (
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-256,"
    "rsa-sha2-512,ssh-rsa,ssh-ed448,ssh-dss,x509v3-sign-rsa,x509v3-sign-dss"
)
COMPRESSION_ALGORITHMS = "none,zlib"
