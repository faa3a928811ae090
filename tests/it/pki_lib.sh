# pki_lib.sh - a PKI like DECNET's SWARM PKI, made with the openssl CLI (sourced after lib.sh,
# not run): a CA, worker certificates whose CN names the worker, the master's certificate,
# plus a rogue CA with a certificate naming a known worker and a certificate without a CN.
# DECNET's pki.py makes the same shapes: RSA, CN = worker name, O DECNET, OU swarm-worker, EKU
# serverAuth + clientAuth, SAN = the name. Files land in $PKI (default $TMP/pki) as
# NAME.crt / NAME.key: ca, rogue, master, worker-a, worker-b, rogue-worker-a, no-cn.
PKI=${PKI:-$TMP/pki}
mkdir -p "$PKI"

cat >"$PKI/ca.cnf" <<'EOF'
[req]
distinguished_name = dn
[dn]
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

# make_ca NAME SUBJECT
make_ca() {
    openssl req -x509 -newkey rsa:2048 -nodes -config "$PKI/ca.cnf" -extensions ca \
        -keyout "$PKI/$1.key" -out "$PKI/$1.crt" -days 30 -subj "$2" 2>/dev/null
}
# make_cert NAME SUBJECT CA [SAN]
make_cert() {
    local san=${4:-}
    openssl req -newkey rsa:2048 -nodes -config "$PKI/ca.cnf" -keyout "$PKI/$1.key" \
        -out "$PKI/$1.csr" -subj "$2" 2>/dev/null &&
        {
            cat "$PKI/ca.cnf"
            [ -z "$san" ] || printf 'subjectAltName = DNS:%s\n' "$san"
        } >"$PKI/$1.ext" &&
        openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$3.crt" -CAkey "$PKI/$3.key" \
            -set_serial "0x$(openssl rand -hex 8)" -days 30 -extfile "$PKI/$1.ext" \
            -extensions leaf -out "$PKI/$1.crt" 2>/dev/null
}
# make_pki: every certificate listed above.
make_pki() {
    make_ca ca "/CN=DECNET SWARM Root CA/O=DECNET" &&
        make_ca rogue "/CN=DECNET SWARM Root CA/O=DECNET" &&
        make_cert master "/CN=decnet-master/O=DECNET/OU=swarm-master" ca decnet-master &&
        make_cert worker-a "/CN=worker-a/O=DECNET/OU=swarm-worker" ca worker-a &&
        make_cert worker-b "/CN=worker-b/O=DECNET/OU=swarm-worker" ca worker-b &&
        make_cert rogue-worker-a "/CN=worker-a/O=DECNET/OU=swarm-worker" rogue worker-a &&
        make_cert no-cn "/O=DECNET/OU=swarm-worker" ca
}
