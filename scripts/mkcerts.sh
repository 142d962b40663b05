#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# mkcerts.sh DIR NAME [SAN...] — a throwaway certificate authority for SIP
# over TLS: a root CA, an intermediate CA and a server certificate for NAME
# signed by the intermediate, so that the chain mrelay-cp sends is a real
# chain (leaf + intermediate), as an operator's will be.
#
#   DIR/ca.pem          the root: what clients must trust
#   DIR/sip-chain.pem   leaf then intermediate (sip.listen[].cert)
#   DIR/sip.key         the leaf's key, mode 0600 (sip.listen[].key)
#
# SANs: "DNS:name" or "IP:addr" (NAME is always a DNS SAN). Existing files
# are kept while the leaf is valid for another day and carries the same
# SANs, so clients that trust DIR/ca.pem keep working across runs.
# P-256 keys; the CA keys stay in DIR (0600) and are throwaway.
set -euo pipefail

dir=$1
name=$2
shift 2
sans="DNS:$name"
for s in "$@"; do
	sans+=",$s"
done

mkdir -p "$dir"
chmod 0755 "$dir"
cd "$dir"

if [[ -f sip-chain.pem && -f sip.key && -f ca.pem && -f sans.txt ]] &&
	[[ $(cat sans.txt) == "$sans" ]] &&
	openssl x509 -in sip-chain.pem -noout -checkend 86400 >/dev/null 2>&1 &&
	openssl verify -CAfile ca.pem -untrusted sip-chain.pem sip-chain.pem >/dev/null 2>&1; then
	exit 0
fi

umask 077
key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}
key ca.key
key int.key
key sip.key
openssl req -x509 -new -key ca.key -days 3650 -subj "/CN=mrelay throwaway root CA" \
	-addext "basicConstraints=critical,CA:TRUE" \
	-addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem
openssl req -new -key int.key -subj "/CN=mrelay throwaway intermediate CA" -out int.csr
openssl x509 -req -in int.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
	-extfile <(printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n') \
	-out int.pem 2>/dev/null
openssl req -new -key sip.key -subj "/CN=$name" -out sip.csr
openssl x509 -req -in sip.csr -CA int.pem -CAkey int.key -CAcreateserial -days 825 \
	-extfile <(printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=%s\n' "$sans") \
	-out sip.pem 2>/dev/null
cat sip.pem int.pem >sip-chain.pem
chmod 0644 ca.pem sip-chain.pem
printf '%s' "$sans" >sans.txt
rm -f int.csr sip.csr
openssl verify -CAfile ca.pem -untrusted int.pem sip.pem >/dev/null
