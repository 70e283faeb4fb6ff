#!/bin/sh
# Regenerates the throwaway certificate-store test material in this folder
# (see README.md).  Needs: openssl (3.x), ssh-keygen (OpenSSH), puttygen,
# python3 with the cryptography package (only to write the JWK files).
# The files are committed; running this again produces new keys and the
# matching expected outputs, which is fine: the tests only compare files made
# together.
set -eu
cd "$(dirname "$0")"
PW=test-password
rm -f ./*.pem ./*.der ./*.pfx ./*.pub ./*.fp ./*.txt ./*.jwk ./*.jwks ./*.ppk ./*.cnf
printf '%s' "$PW" > password.txt

# A throwaway X.509 CA; its private key is deleted at the end.
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key.tmp -out ca.crt.pem -days 36500 \
    -subj "/C=US/O=sshclient test/CN=sshclient test CA" \
    -addext "basicConstraints=critical,CA:true" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

serial=4096
for k in rsa2048 ecdsa256 ed25519; do
    case $k in
        rsa2048) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$k.key.pem" \
                     2>/dev/null
                 usage="digitalSignature,keyEncipherment" ;;
        ecdsa256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
                      -out "$k.key.pem"
                  usage="digitalSignature,keyAgreement" ;;
        ed25519) openssl genpkey -algorithm ed25519 -out "$k.key.pem"
                 usage="digitalSignature,nonRepudiation" ;;
    esac
    serial=$((serial + 1))
    cat > "$k.cnf" <<EOF
[ext]
basicConstraints=CA:false
keyUsage=critical,$usage
extendedKeyUsage=clientAuth,serverAuth
subjectAltName=DNS:$k.sshclient.test,IP:127.0.0.1,email:$k@sshclient.test
EOF
    openssl req -new -key "$k.key.pem" -out "$k.csr.tmp" \
        -subj "/C=US/ST=Test State/L=Test City/O=sshclient, Inc./OU=Tests/CN=$k.sshclient.test/emailAddress=$k@sshclient.test"
    openssl x509 -req -in "$k.csr.tmp" -CA ca.crt.pem -CAkey ca.key.tmp -set_serial "$serial" \
        -days 36500 -sha256 -extfile "$k.cnf" -extensions ext -out "$k.crt.pem" 2>/dev/null
    rm -f "$k.csr.tmp" "$k.cnf"
    openssl x509 -in "$k.crt.pem" -outform DER -out "$k.crt.der"
    # public key alone (SubjectPublicKeyInfo), PEM and DER
    openssl pkey -in "$k.key.pem" -pubout -out "$k.spki.pem"
    openssl pkey -in "$k.key.pem" -pubout -outform DER -out "$k.spki.der"
    # private key + certificate in one PEM file; and with the key encrypted
    cat "$k.key.pem" "$k.crt.pem" > "$k.key+crt.pem"
    openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$k.key.pem" -passout "pass:$PW" -out enc.tmp
    cat enc.tmp "$k.crt.pem" > "$k.key+crt.enc.pem"
    rm -f enc.tmp
    # PKCS#12: key + its certificate + the CA certificate (PBES2/AES-256, SHA-256 MAC)
    openssl pkcs12 -export -inkey "$k.key.pem" -in "$k.crt.pem" -certfile ca.crt.pem \
        -name "$k test key" -passout "pass:$PW" -out "$k.pfx"
    # What OpenSSL reads from the certificate: expected values for the tests
    {
        openssl x509 -in "$k.crt.pem" -noout -subject -issuer -nameopt RFC2253
        openssl x509 -in "$k.crt.pem" -noout -serial -startdate -enddate
        for h in md5 sha1 sha256; do openssl x509 -in "$k.crt.pem" -noout -fingerprint "-$h"; done
        openssl x509 -in "$k.crt.pem" -noout -ext subjectAltName,keyUsage,extendedKeyUsage
        printf 'epoch notBefore=%s notAfter=%s\n' \
            "$(date -u -d "$(openssl x509 -in "$k.crt.pem" -noout -startdate | cut -d= -f2)" +%s)" \
            "$(date -u -d "$(openssl x509 -in "$k.crt.pem" -noout -enddate | cut -d= -f2)" +%s)"
    } > "$k.x509.txt"
done

# Other PKCS#12 flavours of the RSA key: legacy 3DES/RC2 + SHA-1 MAC (what older
# Windows exports look like), no password, and key only (no certificate).
openssl pkcs12 -export -legacy -inkey rsa2048.key.pem -in rsa2048.crt.pem -name "legacy" \
    -passout "pass:$PW" -out rsa2048-legacy.pfx
openssl pkcs12 -export -inkey rsa2048.key.pem -in rsa2048.crt.pem -passout pass: \
    -out rsa2048-nopass.pfx
openssl pkcs12 -export -inkey ecdsa256.key.pem -nocerts -passout "pass:$PW" \
    -out ecdsa256-keyonly.pfx 2>/dev/null

# EC keys on the other curves (JWK tests only)
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out ecdsa384.key.pem
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out ecdsa521.key.pem

# OpenSSH public lines and fingerprints, as ssh-keygen derives them
for k in rsa2048 ecdsa256 ecdsa384 ecdsa521; do
    cp "$k.key.pem" key.tmp && chmod 600 key.tmp
    ssh-keygen -y -f key.tmp > "$k.pub"
    rm -f key.tmp
done
# ssh-keygen cannot read Ed25519 PKCS#8: build the line from the raw public key
openssl pkey -in ed25519.key.pem -pubout -outform DER | python3 -c '
import base64, struct, sys
raw = sys.stdin.buffer.read()[-32:]
s = lambda b: struct.pack(">I", len(b)) + b
print("ssh-ed25519", base64.b64encode(s(b"ssh-ed25519") + s(raw)).decode())
' > ed25519.pub
for k in rsa2048 ecdsa256 ecdsa384 ecdsa521 ed25519; do
    { ssh-keygen -l -E sha256 -f "$k.pub"; ssh-keygen -l -E md5 -f "$k.pub"; } > "$k.fp"
done
# RFC 4716 form of one public key
ssh-keygen -e -m RFC4716 -f rsa2048.pub > rsa2048.rfc4716.pub

# PuTTY PPK of the RSA key (via the OpenSSH format: puttygen cannot read PKCS#8)
cp rsa2048.key.pem key.tmp && chmod 600 key.tmp
ssh-keygen -q -p -N '' -f key.tmp >/dev/null
puttygen key.tmp -q -O private -o rsa2048.ppk --ppk-param version=3 \
    --new-passphrase password.txt
rm -f key.tmp

# JWK (RFC 7517/7518) of the same keys, written from the key numbers.
python3 - <<'EOF'
import base64, json
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

def uint(n, size=None):
    size = size or (n.bit_length() + 7) // 8
    return b64u(n.to_bytes(size, "big"))

def jwk(name):
    with open(name + ".key.pem", "rb") as f:
        key = serialization.load_pem_private_key(f.read(), None)
    if isinstance(key, rsa.RSAPrivateKey):
        p = key.private_numbers()
        pub = {"kty": "RSA", "n": uint(p.public_numbers.n), "e": uint(p.public_numbers.e)}
        priv = dict(pub, d=uint(p.d), p=uint(p.p), q=uint(p.q), dp=uint(p.dmp1),
                    dq=uint(p.dmq1), qi=uint(p.iqmp))
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        size = (key.curve.key_size + 7) // 8
        crv = {256: "P-256", 384: "P-384", 521: "P-521"}[key.curve.key_size]
        n = key.private_numbers()
        pub = {"kty": "EC", "crv": crv, "x": uint(n.public_numbers.x, size),
               "y": uint(n.public_numbers.y, size)}
        priv = dict(pub, d=uint(n.private_value, size))
    else:
        raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
        pub = {"kty": "OKP", "crv": "Ed25519", "x": b64u(raw)}
        priv = dict(pub, d=b64u(key.private_bytes(serialization.Encoding.Raw,
                                                  serialization.PrivateFormat.Raw,
                                                  serialization.NoEncryption())))
    pub["kid"] = priv["kid"] = name + "-kid"
    return pub, priv

names = ["rsa2048", "ecdsa256", "ecdsa384", "ecdsa521", "ed25519"]
public_set = []
for name in names:
    pub, priv = jwk(name)
    with open(name + ".jwk", "w") as f:
        json.dump(priv, f, indent=2)
    with open(name + ".public.jwk", "w") as f:
        json.dump(pub, f, indent=2)
    public_set.append(pub)
with open("public.jwks", "w") as f:
    json.dump({"keys": public_set}, f, indent=2)
with open("private.jwks", "w") as f:
    json.dump({"keys": [jwk(n)[1] for n in ("ecdsa256", "ed25519")]}, f, indent=2)
EOF

rm -f ca.key.tmp
chmod 644 ./*
chmod 755 make_certs.sh
