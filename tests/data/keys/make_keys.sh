#!/bin/sh
# Regenerates the throwaway test keys in this folder (see README.md).
# Needs: ssh-keygen (OpenSSH), puttygen (PuTTY >= 0.75), openssl, python3.
# The keys are committed; running this again produces different keys and
# expected outputs, which is fine: the tests only compare files made together.
set -eu
cd "$(dirname "$0")"
PW=test-passphrase
rm -f ./*.pub ./*.fp ./*.openssh ./*.pem ./*.pkcs8 ./*.enc ./*.ppk ./*.b64 ./*.sshsig ./*.txt
printf '%s' "$PW" > passphrase.txt

gen() {  # name, ssh-keygen type args
    name=$1; shift
    ssh-keygen -q "$@" -N '' -C "$name@sshclient-test" -f "$name.tmp"
    mv "$name.tmp" "$name.openssh"
    mv "$name.tmp.pub" "$name.pub"
}
gen ed25519  -t ed25519
gen ecdsa256 -t ecdsa -b 256
gen ecdsa384 -t ecdsa -b 384
gen ecdsa521 -t ecdsa -b 521
gen rsa2048  -t rsa -b 2048

reencrypt() {  # src dst ssh-keygen-args...
    cp "$1" "$2"; src=$1; dst=$2; shift 2
    ssh-keygen -q -p -f "$dst" -P '' "$@" >/dev/null
}

for k in ed25519 ecdsa256 ecdsa384 ecdsa521 rsa2048; do
    # public blob as ssh-keygen derives it from the private key, and fingerprints
    ssh-keygen -y -f "$k.openssh" > "$k.pub"
    { ssh-keygen -l -E sha256 -f "$k.pub"; ssh-keygen -l -E md5 -f "$k.pub"; } > "$k.fp"
    # OpenSSH format, bcrypt KDF + aes256-ctr (ssh-keygen's default cipher)
    reencrypt "$k.openssh" "$k.openssh.enc" -N "$PW" -a 4
    # PuTTY PPK v2 / v3 (argon2id), plain and encrypted
    puttygen "$k.openssh" -q -O private -o "$k.v2.ppk" --ppk-param version=2
    puttygen "$k.openssh" -q -O private -o "$k.v2.enc.ppk" --ppk-param version=2 \
        --new-passphrase passphrase.txt
    puttygen "$k.openssh" -q -O private -o "$k.v3.ppk" --ppk-param version=3
    puttygen "$k.openssh" -q -O private -o "$k.v3.enc.ppk" \
        --ppk-param version=3,kdf=argon2id,memory=1024,passes=2 --new-passphrase passphrase.txt
done

for k in ecdsa256 ecdsa384 ecdsa521 rsa2048; do
    # PEM: PKCS#1 RSA / SEC1 EC; encrypted = legacy "Proc-Type: 4,ENCRYPTED" (AES-128-CBC)
    reencrypt "$k.openssh" "$k.pem" -N '' -m PEM
    reencrypt "$k.openssh" "$k.pem.enc" -N "$PW" -m PEM
    # PKCS#8; encrypted = PBES2 "ENCRYPTED PRIVATE KEY"
    reencrypt "$k.openssh" "$k.pkcs8" -N '' -m PKCS8
    reencrypt "$k.openssh" "$k.pkcs8.enc" -N "$PW" -m PKCS8
    # base64 of the DER, no armour
    grep -v -- '-----' "$k.pem" | tr -d '\n' > "$k.pem.der.b64"
    grep -v -- '-----' "$k.pkcs8" | tr -d '\n' > "$k.pkcs8.der.b64"
done

# Other OpenSSH cipher choices (same ed25519 key)
reencrypt ed25519.openssh ed25519.aes256-gcm.openssh.enc -N "$PW" -a 4 -Z aes256-gcm@openssh.com
reencrypt ed25519.openssh ed25519.chacha20.openssh.enc -N "$PW" -a 4 \
    -Z chacha20-poly1305@openssh.com
reencrypt ed25519.openssh ed25519.aes128-cbc.openssh.enc -N "$PW" -a 4 -Z aes128-cbc
reencrypt rsa2048.openssh rsa2048.aes192-ctr.openssh.enc -N "$PW" -a 4 -Z aes192-ctr

# Other PPK v3 key-derivation choices (same ed25519 key)
for kdf in argon2i argon2d; do
    puttygen ed25519.openssh -q -O private -o "ed25519.v3.$kdf.enc.ppk" \
        --ppk-param "version=3,kdf=$kdf,memory=1024,passes=3" --new-passphrase passphrase.txt
done
puttygen ed25519.openssh -q -O private -o ed25519.v3.parallel.enc.ppk \
    --ppk-param version=3,kdf=argon2id,memory=2048,passes=2,parallelism=3 \
    --new-passphrase passphrase.txt

# RFC 4716 ("SSH2 PUBLIC KEY") form of one public key
puttygen rsa2048.openssh -q -O public -o rsa2048.rfc4716.pub

# Ed25519 in PKCS#8 (ssh-keygen cannot write it; openssl can), plain and encrypted
openssl genpkey -algorithm ed25519 -out ed25519-openssl.pkcs8
openssl pkcs8 -topk8 -in ed25519-openssl.pkcs8 -passout "pass:$PW" -out ed25519-openssl.pkcs8.enc
openssl pkey -in ed25519-openssl.pkcs8 -pubout -outform DER | python3 -c '
import base64, struct, sys
raw = sys.stdin.buffer.read()[-32:]
s = lambda b: struct.pack(">I", len(b)) + b
print("ssh-ed25519", base64.b64encode(s(b"ssh-ed25519") + s(raw)).decode())
' > ed25519-openssl.pub

# Signatures made by OpenSSH itself over the fixed message, for verify tests
printf 'sshclient test message\n' > message.txt
for k in ed25519 ecdsa256 ecdsa384 ecdsa521 rsa2048; do
    cp "$k.openssh" sigkey.tmp && chmod 600 sigkey.tmp
    ssh-keygen -q -Y sign -f sigkey.tmp -n sshclient-test message.txt
    mv message.txt.sig "$k.sshsig"
    rm -f sigkey.tmp
done
# OpenSSH certificates (PROTOCOL.certkeys) for the host keys above, signed by
# two throwaway CAs; the CA private keys are not kept.
ssh-keygen -q -t ed25519 -N '' -C ca-ed25519 -f ca-ed25519.tmp
ssh-keygen -q -t rsa -b 2048 -N '' -C ca-rsa -f ca-rsa.tmp
mv ca-ed25519.tmp.pub ca-ed25519.pub
mv ca-rsa.tmp.pub ca-rsa.pub
cert() {  # ca key output-name ssh-keygen-args...
    ca=$1; key=$2; out=$3; shift 3
    cp "$key.pub" "$out.tmp.pub"
    ssh-keygen -q -s "$ca.tmp" "$@" "$out.tmp.pub"
    mv "$out.tmp-cert.pub" "$out-cert.pub"
    rm -f "$out.tmp.pub"
}
cert ca-ed25519 ed25519 ed25519-host -h -I host-ed25519 -n host.example,localhost \
    -V 20200101:20991231 -z 7
cert ca-ed25519 ecdsa256 ecdsa256-host -h -I host-ecdsa256 -n host.example \
    -V 20200101:20991231 -z 8
cert ca-rsa rsa2048 rsa2048-host -h -I host-rsa -n host.example -V 20200101:20991231 -z 9 \
    -t rsa-sha2-512
cert ca-rsa ecdsa384 ecdsa384-host-sha1ca -h -I sha1-ca -n host.example \
    -V 20200101:20991231 -t ssh-rsa
cert ca-ed25519 ecdsa521 ecdsa521-host-anyname -h -I any-host -V always:forever
cert ca-ed25519 ed25519 ed25519-host-expired -h -I expired -n host.example \
    -V 20000101:20010101
cert ca-ed25519 ed25519 ed25519-user -I user-cert -n alice -V 20200101:20991231 \
    -O force-command=/bin/true
rm -f ca-ed25519.tmp ca-rsa.tmp
for c in ./*-cert.pub; do ssh-keygen -L -f "$c" > "${c%.pub}.txt"; done

chmod 644 ./*
chmod 755 make_keys.sh
